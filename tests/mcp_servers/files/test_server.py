"""The files MCP server: contract in memory, one real stdio subprocess, and the MCP Inspector CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from mcp_servers import files as files_server
from tools.files import front as files
from tools.roots import Roots

REPO = Path(__file__).resolve().parents[3]
TOOLS = {"list_files", "read_file", "read_many", "search_files", "file_info"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "root"
    (base / "src").mkdir(parents=True)
    (base / "src/client.py").write_text("".join(f"# {n}\n" for n in range(1, 30)) + "RETRY_DELAY = 2.5\n")
    (base / "README.md").write_text("# Demo\n")
    (base / "paper.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "secret.txt").write_text("SECRET\n")
    return base


async def test_tools_schemas_and_read_only_annotations(root: Path) -> None:
    async with Client(files_server.build_server([str(root)])) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    params = {name: set(t.input_schema["properties"]) for name, t in listed.items()}
    assert {"path", "pattern", "max_results"} <= params["list_files"]
    assert {"path", "start_line", "end_line", "max_chars"} <= params["read_file"]
    assert {"paths_or_glob", "max_tokens"} <= params["read_many"]
    assert {"query", "regex", "pattern", "context_lines", "max_results"} <= params["search_files"]
    assert params["file_info"] == {"path"}
    assert listed["read_file"].input_schema["required"] == ["path"]
    for tool in listed.values():
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
        assert tool.description and not tool.description.startswith(" ")
        props = tool.input_schema["properties"].values()
        assert all(p.get("description") for p in props), f"{tool.name} has an undocumented parameter"


async def test_results_carry_documents_spans_and_next(root: Path) -> None:
    async with Client(files_server.build_server([str(root)])) as client:
        read = await client.call_tool("read_file", {"path": "src/client.py", "start_line": 30})
        cut = await client.call_tool("read_file", {"path": "src/client.py", "max_chars": 100})
        many = await client.call_tool("read_many", {"paths_or_glob": str(root)})
        found = await client.call_tool("search_files", {"query": "RETRY_DELAY"})
        info = await client.call_tool("file_info", {"path": "README.md"})
        listing = await client.call_tool("list_files", {})
    assert not any(r.is_error for r in (read, cut, many, found, info, listing))
    doc = read.structured_content["documents"][0]
    assert doc["uri"] == "src/client.py" and doc["text"] == "RETRY_DELAY = 2.5"
    assert doc["span"] == {"kind": "lines", "start": 30, "end": 30} and doc["meta"]["path"].endswith(
        "client.py"
    )
    assert "30\tRETRY_DELAY = 2.5" in read.content[0].text
    assert cut.structured_content["truncated"] and cut.structured_content["next"]["start_line"] > 1
    assert [d["uri"] for d in many.structured_content["documents"]] == ["README.md", "src/client.py"]
    assert {"path": str(root / "paper.pdf"), "reason": "pdf", "detail": "read it with read_pdf"} in (
        many.structured_content["skipped"]
    )
    assert found.structured_content["hits"][0]["line"] == 30
    assert info.structured_content["kind"] == "text" and info.structured_content["lines"] == 1
    assert listing.structured_content["total"] == 3


async def test_a_chain_of_pages_read_ahead_is_what_reading_each_page_gives(tmp_path: Path) -> None:
    # Each page is read ahead while the client takes the one before in (tools/files/next_page.py); what
    # arrives must be exactly the page asked for, also when the client changes the arguments.
    base = tmp_path / "many"
    for n in range(40):
        (base / f"pkg{n % 4}").mkdir(parents=True, exist_ok=True)
        (base / f"pkg{n % 4}" / f"m{n:02d}.py").write_text(f"VALUE_{n} = {n}\n" * 20)
    roots = Roots.of([str(base)])

    def direct(args: dict[str, object]) -> list[str]:
        out = files.read_many(roots, args["paths_or_glob"], args["max_tokens"], args.get("offset", 0),
                              max_reply_chars=2000)  # fmt: skip
        return [f.text for f in out.files]

    async with Client(files_server.build_server([str(base)], reply_chars=2000)) as client:
        args: dict[str, object] | None = {"paths_or_glob": str(base), "max_tokens": 100_000}
        pages: list[list[str]] = []
        while args:
            if len(pages) == 2:  # not the `next` given: the page read ahead must not be used
                args = {**args, "offset": int(args["offset"]) + 1}
            res = await client.call_tool("read_many", args)
            assert not res.is_error
            got = [d["text"] for d in res.structured_content["documents"]]
            assert got == direct(args)
            pages.append(got)
            args = res.structured_content.get("next")
    assert len(pages) > 3
    texts = [t for page in pages for t in page]
    assert len(texts) == 39 == len(set(texts))  # one file skipped by the changed offset


@pytest.mark.parametrize(
    ("tool", "args", "error"),
    [
        ("read_file", {"path": "../secret.txt"}, "OutsideRoots"),
        ("read_file", {"path": "missing.py"}, "NotFound"),
        ("read_file", {"path": "a\x00b"}, "InvalidArgument"),
        ("read_file", {"path": "paper.pdf"}, "BinaryContent"),
        ("read_many", {"paths_or_glob": "/etc"}, "OutsideRoots"),
        ("search_files", {"query": "(", "regex": True}, "InvalidArgument"),
        ("file_info", {"path": "/etc/passwd"}, "OutsideRoots"),
        ("list_files", {"path": "nowhere"}, "NotFound"),
    ],
)
async def test_bad_input_is_an_error_result(
    root: Path, tool: str, args: dict[str, object], error: str
) -> None:
    async with Client(files_server.build_server([str(root)])) as client:
        res = await client.call_tool(tool, args)
    assert res.is_error
    assert res.structured_content == {"error": error, "message": res.content[0].text}
    assert "SECRET" not in res.content[0].text


async def test_schema_violations_are_error_results(root: Path) -> None:
    async with Client(files_server.build_server([str(root)])) as client:
        res = await client.call_tool("read_file", {"path": "README.md", "start_line": 0})
    assert res.is_error and "start_line" in res.content[0].text


async def test_max_file_bytes_is_configurable(root: Path) -> None:
    async with Client(files_server.build_server([str(root)], max_file_bytes=10)) as client:
        res = await client.call_tool("read_file", {"path": "src/client.py"})
    assert res.is_error and res.structured_content["error"] == "TooLarge"


def test_a_missing_root_exits_with_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        files_server.main([str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err.count("\n") == 1 and "does not exist" in err and "Traceback" not in err


@pytest.mark.slow
async def test_real_stdio_subprocess(root: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_servers.files", str(root)], cwd=str(REPO)
    )
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        res = await client.call_tool("read_many", {"paths_or_glob": "."})
        bad = await client.call_tool("read_file", {"path": "../secret.txt"})
    assert [d["uri"] for d in res.structured_content["documents"]] == ["README.md", "src/client.py"]
    assert bad.is_error and "outside the allowed roots" in bad.content[0].text


def _inspector(root: Path, *args: str) -> dict:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx is not installed; the MCP Inspector CLI runs through npx (install Node.js)")
    cmd = [
        npx,
        "-y",
        "@modelcontextprotocol/inspector@0.15.0",
        "--cli",
        sys.executable,
        "-m",
        "mcp_servers.files",
    ]
    done = subprocess.run(
        [*cmd, str(root), *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_mcp_inspector_cli_calls_list_files_and_read_file(root: Path) -> None:
    listing = _inspector(
        root, "--method", "tools/call", "--tool-name", "list_files", "--tool-arg", "pattern=*.py"
    )
    assert not listing["isError"]
    assert [f["path"] for f in listing["structuredContent"]["files"]] == ["src/client.py"]
    read = _inspector(
        root, "--method", "tools/call", "--tool-name", "read_file",
        "--tool-arg", "path=src/client.py", "--tool-arg", "start_line=30",
    )  # fmt: skip
    assert not read["isError"] and "30\tRETRY_DELAY = 2.5" in read["content"][0]["text"]
    assert read["structuredContent"]["documents"][0]["span"] == {"kind": "lines", "start": 30, "end": 30}


async def test_office_documents_come_back_by_slide_and_repos_by_url(tmp_path: Path) -> None:
    from tests import officefixtures as fx
    from tests.gitserver import GitHttpServer, make_repo

    fx.pptx_file(tmp_path / "deck.pptx")
    async with Client(files_server.build_server([str(tmp_path)])) as client:
        res = await client.call_tool("read_many", {"paths_or_glob": "."})
        docs = res.structured_content["documents"]
        assert [(d["uri"], d["span"]) for d in docs] == [
            ("deck.pptx", {"kind": "section", "label": "slide 1"}),
            ("deck.pptx", {"kind": "section", "label": "slide 2"}),
        ]
        assert "read_repo" not in {t.name for t in (await client.list_tools()).tools}  # off without a cache
    repos = tmp_path / "repos"
    repos.mkdir()
    make_repo(repos, "acme", {"docs/a.md": "# A\n\nalpha\n", "src/b.py": "b = 1\n"})
    with GitHttpServer(repos) as git:
        server = files_server.build_server([], git_cache=str(tmp_path / "cache"), allow_hosts=["127.0.0.1"])
        async with Client(server) as client:
            res = await client.call_tool("read_repo", {"repo": f"git+{git.base}/acme.git", "path": "docs"})
            assert not res.is_error, res.content
            sc = res.structured_content
            assert [d["uri"] for d in sc["documents"]] == [f"{git.base}/acme@main/docs/a.md"]
            assert (
                sc["documents"][0]["trusted"] is False
                and sc["documents"][0]["title"] == "acme@main: docs/a.md"
            )
            missing = await client.call_tool("read_repo", {"repo": f"git+{git.base}/acme.git@nope"})
            assert missing.is_error and "no branch, tag or commit 'nope'" in missing.content[0].text
