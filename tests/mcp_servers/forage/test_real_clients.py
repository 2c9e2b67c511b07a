"""Real MCP clients start forage: gemini-cli and Claude Code (pinned in clients/package-lock.json).

gemini-cli runs with a HOME in tmp, `security.auth.selectedType: "gemini-api-key"`, the folder
trusted, and GOOGLE_GEMINI_BASE_URL pointing at tests/fakes/gemini_server.py, which plays the
model: it calls forage's gather_context and then answers from what gemini-cli sent back. What
the fake received is what gemini-cli gives its model, so the sizes below are the client's own.
Claude Code runs the same way against tests/fakes/anthropic_server.py (ANTHROPIC_BASE_URL).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_servers.forage.clients import identify
from tests.fakes.anthropic_server import AnthropicServer, FakeAnthropic
from tests.fakes.gemini_server import FakeGemini, GeminiServer

ROOT = Path(__file__).resolve().parents[3]
GEMINI = ROOT / "clients" / "node_modules" / ".bin" / "gemini"
CLAUDE = ROOT / "clients" / "node_modules" / ".bin" / "claude"
FACT = "RETRY_DELAY_SECONDS = 7  # the delay before the first retry"
pytestmark = pytest.mark.slow


def _installed(binary: Path, name: str) -> Path:
    """A pinned client, installed by the project's own set-up step if it is not yet."""
    if not binary.exists():
        script = ROOT / "scripts" / "setup-clients.sh"
        proc = subprocess.run(["bash", str(script)], capture_output=True, text=True)
        if not binary.exists():
            pytest.skip(
                f"{name} could not be installed (scripts/setup-clients.sh): {proc.stderr.strip()[-300:]}"
            )
    return binary


@pytest.fixture(scope="module")
def gemini() -> Path:
    return _installed(GEMINI, "gemini-cli")


@pytest.fixture(scope="module")
def claude() -> Path:
    return _installed(CLAUDE, "Claude Code")


def _folder(root: Path) -> Path:
    """A folder whose default pack (20,000 tokens) is well over gemini-cli's 40,000 characters."""
    work = root / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "settings.py").write_text(f'"""Client settings."""\n\n{FACT}\n')
    for i in range(30):
        body = "\n".join(
            f"def step_{i}_{k}(value):\n    return transform(value, {k}, 'stage {i}')" for k in range(80)
        )
        (work / "src" / f"stage{i:02}.py").write_text(body + "\n")
    return work


def _readme_json(n: int) -> str:
    """The README's n-th JSON block for gemini-cli (0: settings.json, 1: trustedFolders.json)."""
    section = (
        (ROOT / "README.md").read_text(encoding="utf-8").split("### gemini-cli", 1)[1].split("\n### ", 1)[0]
    )
    return re.findall(r"```json\n(.*?)```", section, re.S)[n]


def _run(
    gemini: Path, tmp: Path, work: Path, fake: FakeGemini, *, env_entry: bool, trusted: bool = True
) -> subprocess.CompletedProcess:
    """gemini-cli -p with forage set up as the README says (its two snippets, the folder put in)."""
    home = tmp / "home"
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    settings = json.loads(_readme_json(0).replace("/path/to/your/code", str(work)))
    if not env_entry:  # as a user who left the env entry out: gemini-cli drops GEMINI_API_KEY
        del settings["mcpServers"]["forage"]["env"]
    settings["security"] = {"auth": {"selectedType": "gemini-api-key"}}
    settings["model"] = {"name": "gemini-3.5-flash"}  # a set model: no routing call to a classifier model
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    folders = _readme_json(1).replace("/path/to/your/code", str(work))
    (home / ".gemini" / "trustedFolders.json").write_text(folders if trusted else "{}")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # `forage` as installed
        "PYTHONPATH": str(ROOT),  # this checkout's code, whichever venv holds the `forage` script
        "HOME": str(home), "GEMINI_API_KEY": "test-key", "GOOGLE_GEMINI_BASE_URL": fake.url, "TERM": "dumb",
        "FORAGE_DATA_DIR": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config"),
        "FORAGE_EMBEDDING": "none",  # no local embedding model to load: the test stays quick
    }  # fmt: skip
    return subprocess.run(
        [str(gemini), "-p", "What is the delay before the first retry?", "--yolo", "--output-format", "json"],
        cwd=work, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip


def test_gemini_cli_gets_a_reply_that_fits_and_is_told_about_the_key(gemini, tmp_path):
    work = _folder(tmp_path)
    fake = FakeGemini()
    fake.script_call(
        "gather_context", {"question": "What is the delay before the first retry?", "sources": [str(work)]}
    )
    with GeminiServer(fake):
        proc = _run(gemini, tmp_path, work, fake, env_entry=False)
    assert proc.returncode == 0, proc.stderr[-2000:] + fake.log()
    assert json.loads(proc.stdout)["stats"]["tools"]["byName"]["mcp_forage_gather_context"]["success"] == 1
    assert len(fake.tool_results) == 1, fake.log()  # forage was started, called, and its result went back
    output = fake.tool_results[0]["response"]["output"]  # what gemini-cli hands its model
    limit = identify("gemini-cli-mcp-client").max_chars
    print(f"gemini-cli {gemini_version(gemini)}: reply {len(output):,} characters, limit {limit:,}")
    assert FACT.split("  #")[0] in output  # the most relevant block is on the first page
    assert (
        len(output) <= 0.9 * limit and "Output too large" not in output and "characters omitted" not in output
    )
    assert "page 1 of " in output and "page=2" in output  # the rest of the 20,000-token pack: in pages
    # gemini-cli drops GEMINI_API_KEY before starting forage: the first result says so, with the fix
    first = output.removeprefix("<untrusted_context>\n")  # gemini-cli's envelope for MCP results
    assert first.startswith("[forage: no GEMINI_API_KEY reached this server")
    assert '"env": {"GEMINI_API_KEY": "$GEMINI_API_KEY"}' in output


def test_with_the_env_entry_the_key_reaches_forage(gemini, tmp_path):
    work = _folder(tmp_path)
    fake = FakeGemini()
    settings_py = str(work / "src" / "settings.py")
    fake.script_call("gather_context", {"question": "retry delay", "sources": [settings_py]})
    fake.script_call("read_many", {"paths_or_glob": settings_py})  # forage's own model, now that it has a key
    with GeminiServer(fake):
        proc = _run(gemini, tmp_path, work, fake, env_entry=True)
    assert proc.returncode == 0, proc.stderr[-2000:] + fake.log()
    mine = [r for r in fake.tool_results if r["name"] == "mcp_forage_gather_context"]
    output = mine[0]["response"].get("output")
    assert output, (json.dumps(fake.tool_results)[:3000], fake.log())
    assert "RETRY_DELAY_SECONDS" in output and "no GEMINI_API_KEY" not in output
    assert any(
        r.headers.get("x-goog-api-key") == "test-key" and "read_many" in json.dumps(r.body)
        for r in fake.requests
    )


def test_an_untrusted_folder_disables_forage(gemini, tmp_path):
    """What the README tells gemini-cli users: untrusted, `gemini mcp list` says Disabled and -p exits 55."""
    work = _folder(tmp_path)
    fake = FakeGemini()
    with GeminiServer(fake):
        proc = _run(gemini, tmp_path, work, fake, env_entry=False, trusted=False)
        listed = subprocess.run(
            [str(gemini), "mcp", "list"], cwd=work, capture_output=True, text=True, timeout=120,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "TERM": "dumb"},
        )  # fmt: skip
    assert proc.returncode == 55, (proc.returncode, proc.stderr[-1000:])
    assert "forage" in listed.stdout + listed.stderr and "Disabled" in listed.stdout + listed.stderr
    assert fake.tool_results == []


def test_claude_code_gets_the_pack_text_under_its_limit(claude, tmp_path):
    """Claude Code set up with the README's `claude mcp add` line, against the fake Messages API."""
    work = _folder(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    fake = FakeAnthropic()
    fake.script_call(
        "gather_context", {"question": "What is the delay before the first retry?", "sources": [str(work)]}
    )
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
        "HOME": str(home), "TERM": "dumb", "FORAGE_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"), "FORAGE_EMBEDDING": "none",
        "ANTHROPIC_API_KEY": "test-key", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
        "ENABLE_TOOL_SEARCH": "false", "MCP_CONNECTION_NONBLOCKING": "false",  # forage connected, tools offered
    }  # fmt: skip
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("### Claude Code", 1)[1]
    line = re.search(r"```bash\n(.*?)\n```", readme, re.S).group(1).replace("/path/to/your/code", str(work))
    line = line.replace("$GEMINI_API_KEY", "")  # as a shell without the key expands it
    added = subprocess.run(
        [str(claude), *shlex.split(line)[1:]], cwd=work, env=env,
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr[-1000:] + added.stdout[-1000:]
    with AnthropicServer(fake):
        proc = subprocess.run(
            [str(claude), "-p", "What is the delay before the first retry?", "--allowedTools",
             "mcp__forage__gather_context", "--output-format", "json"],
            cwd=work, env={**env, "ANTHROPIC_BASE_URL": fake.url}, capture_output=True, text=True, timeout=400,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    assert len(fake.tool_results) == 1, proc.stdout[-2000:]
    content = fake.tool_results[0]["content"]
    text = (
        "".join(b["text"] for b in content if b.get("type") == "text")
        if isinstance(content, list)
        else content
    )
    limit = identify("claude-code").max_chars
    print(f"Claude Code {_version(claude)}: reply {len(text):,} characters, limit {limit:,}")
    assert FACT.split("  #")[0] in text and "page 1 of " in text  # the pack's text, not its metadata
    assert len(text) <= 0.9 * limit and not fake.tool_results[0].get("is_error")
    assert "no GEMINI_API_KEY" in text.splitlines()[0] and "claude mcp add forage -e GEMINI_API_KEY" in text


def gemini_version(gemini: Path) -> str:
    """The installed gemini-cli's version."""
    return _version(gemini)


def _version(binary: Path) -> str:
    return subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=60
    ).stdout.strip()
