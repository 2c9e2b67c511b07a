"""Third-party server config (forage.toml, editors' mcp.json), mcp: specs, fingerprints, pages."""

import json
from pathlib import Path

import pytest

from agent.errors import ConfigError, SourceError
from agent.gather.sources import resolve_source
from agent.mcp.thirdparty import citation, coerce_args
from agent.mcp.trust import TrustStore
from agent.mcp_config import McpServer, from_editor_json
from agent.pack.packing import paginate
from agent.settings import Settings, load_settings
from tools.tokens import estimate_tokens
from tools.tool_names import namespaced


def _load(tmp_path: Path, *, user: str = "", project: str = "", env: dict | None = None) -> Settings:
    cfg = tmp_path / "config" / "forage" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(user)
    proj = tmp_path / "project"
    proj.mkdir(exist_ok=True)
    (proj / "forage.toml").write_text(project)
    return load_settings(env=env or {}, cwd=proj, user_config=cfg)


def test_toml_servers_keep_their_origin_and_a_later_layer_wins(tmp_path):
    s = _load(
        tmp_path,
        user='[mcp_servers.notes]\ncommand = "notes-mcp"\n[mcp_servers.wiki]\nurl = "http://127.0.0.1:9/mcp"\n',
        project='[mcp_servers.notes]\ncommand = "other"\nargs = ["--x"]\n',
    )
    assert s.mcp_servers["wiki"].origin == "user" and s.mcp_servers["wiki"].transport == "http"
    assert s.mcp_servers["notes"].command == "other" and s.mcp_servers["notes"].origin == "project"
    assert s.mcp_servers["notes"].defined_in.endswith("project/forage.toml")


def test_editor_formats_are_read_as_the_editors_write_them(tmp_path):
    claude = {"mcpServers": {"fs": {"command": "npx", "args": ["-y", "fs"], "env": {"A": "1"}}}}
    vscode = {"servers": {"gh": {"type": "http", "url": "https://x.example/mcp", "headers": {"H": "v"}}}}
    gemini = {
        "mcpServers": {
            "g": {
                "httpUrl": "https://g.example/mcp",
                "timeout": 30000,
                "includeTools": ["search"],
                "trust": True,
            },
            "off": {"command": "x", "disabled": True, "autoApprove": ["y"]},
        }
    }
    assert from_editor_json(claude, "c")["fs"] == {"command": "npx", "args": ["-y", "fs"], "env": {"A": "1"}}
    assert from_editor_json(vscode, "v")["gh"]["url"] == "https://x.example/mcp"
    g = from_editor_json(gemini, "g")
    assert g["g"] == {
        "url": "https://g.example/mcp",
        "timeout": 30.0,
        "include_tools": ["search"],
        "trusted": True,
    }
    assert g["off"] == {"command": "x", "enabled": False}
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".mcp.json").write_text(json.dumps(gemini))
    (tmp_path / "extra.json").write_text(json.dumps(claude))
    s = _load(tmp_path, user=f'mcp_config = ["{tmp_path / "extra.json"}"]\n')
    assert s.mcp_servers["fs"].origin == "user" and s.mcp_servers["g"].origin == "project"
    assert not s.mcp_servers["off"].enabled


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mcpServers": {"s": {"url": "http://h/sse"}}}, "SSE servers are not supported"),
        ({"mcpServers": {"s": {"type": "sse", "url": "http://h/x"}}}, "SSE servers are not supported"),
        ({"mcpServers": {"s": {"command": "x", "envFile": ".env"}}}, "envFile is not supported"),
        ({"servers": {"s": {"type": "websocket", "url": "ws://h"}}}, "unknown type"),
        ({"other": {}}, "no mcpServers"),
    ],
)
def test_unusable_editor_entries_are_refused_with_the_reason(data, message):
    with pytest.raises(ConfigError, match=message):
        from_editor_json(data, "mcp.json")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[mcp_servers.files]\ncommand = "x"\n', "is forage's own"),
        ('[mcp_servers."a b"]\ncommand = "x"\n', "must be 1-32 letters"),
        ('[mcp_servers.s]\ncommand = "x"\nurl = "http://h/mcp"\n', "either command"),
        ('[mcp_servers.s]\ncommand = "x"\ncolor = "red"\n', "mcp server 's': bad color"),
        ('[mcp_servers.s]\ncommand = "x"\norigin = "user"\n', "set by forage"),
        ('[mcp_servers.s]\nurl = "ftp://h"\n', "must start with http"),
        ('[mcp_servers.s]\ncommand = "${NOPE}"\n', r"\$\{NOPE\} is not set"),
    ],
)
def test_bad_server_entries_name_the_server_and_the_fix(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, project=table)


def test_variables_are_expanded_from_the_environment(tmp_path):
    s = _load(
        tmp_path,
        user='[mcp_servers.w]\nurl = "${BASE:-http://127.0.0.1:9}/mcp"\nheaders = { A = "Bearer ${env:TOKEN}" }\n',
        env={"TOKEN": "s3cret"},
    )
    assert (
        s.mcp_servers["w"].url == "http://127.0.0.1:9/mcp"
        and s.mcp_servers["w"].headers["A"] == "Bearer s3cret"
    )


def test_mcp_source_specs(tmp_path):
    s = Settings(mcp_servers={"notes": McpServer(command="x")})
    src = resolve_source("mcp:notes/search?query=retry delay&tag=a&tag=b&limit=5", s)
    assert src.kind == "mcp" and src.servers == {"notes"}
    (call,) = src.first_calls
    assert call.name == "notes__search" and call.args == {
        "query": "retry delay",
        "tag": ["a", "b"],
        "limit": "5",
    }
    with pytest.raises(SourceError, match=r"no MCP server named 'wiki' .*configured: notes"):
        resolve_source("mcp:wiki/search", s)
    with pytest.raises(SourceError, match="mcp:SERVER/TOOL"):
        resolve_source("mcp:notes", s)


def test_arguments_names_and_citations():
    schema = {"properties": {"n": {"type": "integer"}, "q": {"type": "string"}, "f": {"type": "boolean"},
                             "tags": {"type": "array"}, "x": {"type": "number"}}}  # fmt: skip
    assert coerce_args(schema, {"n": "5", "q": "5", "f": "true", "tags": "a,b", "x": "0.5", "other": "1"}) == {
        "n": 5, "q": "5", "f": True, "tags": ["a", "b"], "x": 0.5, "other": "1",
    }  # fmt: skip
    assert coerce_args(schema, {"n": "five"}) == {"n": "five"}  # the server's own validation says why
    long = namespaced("server", "t" * 100)
    assert len(long) <= 64 and long.startswith("server__") and long != namespaced("server", "t" * 99)
    assert (
        citation("notes", "search", {"query": "retry", "limit": 5})
        == "mcp:notes/search(query=retry, limit=5)"
    )


def test_a_tool_turned_read_only_is_a_changed_tool():
    from agent.mcp.trust import tool_fingerprint

    schema = {"type": "object"}
    assert tool_fingerprint("send", "Send it.", schema, {"readOnlyHint": False}) != tool_fingerprint(
        "send", "Send it.", schema, {"readOnlyHint": True}
    )


def test_fingerprints_first_sight_changes_and_acceptance(tmp_path):
    store = TrustStore(tmp_path)
    untrusted, trusted = McpServer(command="x"), McpServer(command="x", trusted=True)
    assert store.review("s", untrusted, {"search": "a", "get": "b"}).first_sight
    same = store.review("s", untrusted, {"search": "a", "get": "b"})
    assert same.clean and not same.blocked
    changed = store.review("s", untrusted, {"search": "A", "new": "c"})
    assert changed.changed == ["search"] and changed.added == ["new"] and changed.removed == ["get"]
    assert changed.blocked == {"search", "new"}
    assert "'search' is changed" in changed.warnings(trusted=False)[0]
    assert store.review("s", untrusted, {"search": "A", "new": "c"}).blocked  # not accepted by itself
    store.accept("s", untrusted, {"search": "A", "new": "c"})
    assert store.review("s", untrusted, {"search": "A", "new": "c"}).clean
    store.review("t", trusted, {"search": "a"})
    assert not store.review("t", trusted, {"search": "B"}).blocked  # trusted: accepted, still named
    assert store.review("t", trusted, {"search": "B"}).clean
    project = McpServer(command="x", origin="project")
    assert not store.launch_accepted("p", project)
    store.accept("p", project, {})
    assert store.launch_accepted("p", project)
    assert not store.launch_accepted("p", McpServer(command="y", origin="project"))  # a changed command


def test_pages_join_back_and_break_at_blocks():
    blocks = "".join(
        f"## [{i}] f{i}.py:1-40\n```python\n" + "x = 1  # words words\n" * 40 + "```\n\n" for i in range(30)
    )
    text = "# Sources\n\n" + blocks + "# Manifest\n\n| block |\n"
    pages = paginate(text, 1000, estimate_tokens, "markdown")
    assert len(pages) > 3 and "".join(pages) == text
    assert all(estimate_tokens(p) <= 1000 for p in pages)
    assert all(p.startswith("## [") or p.startswith("# ") for p in pages)
    assert paginate("short", 1000, estimate_tokens, "markdown") == ["short"]
    one_line = "y" * 50_000  # a minified file: cut anyway
    assert "".join(paginate(one_line, 1000, estimate_tokens, "markdown")) == one_line
