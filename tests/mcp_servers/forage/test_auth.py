"""Team-server tokens and bind policy, without a server (test_team_server.py runs a real one)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from mcp_servers.forage.auth import StaticTokens, TokenError, load_tokens, parse_tokens
from mcp_servers.forage.team import RefusedBind, add_arguments, http_setup, is_loopback, transport_security

A = "a" * 32
B = "b" * 32


def test_tokens_are_named_or_bare_with_comments() -> None:
    users = parse_tokens(f"# the team\nana:{A}\n\n{B}  # ci\n", "tokens")
    assert sorted(users) == ["ana", "user4"]
    assert A not in repr(users) and B not in repr(users)  # only digests are kept


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ana:short", "at least 16 characters"),
        (f"ana:{A}\nana:{B}", "'ana' is used twice"),
        (f"ana:{A}\nben:{A}", "same token is given twice"),
        (f"an a:{A}", "one word"),
    ],
)
def test_a_bad_entry_names_its_line_and_never_the_token(text: str, says: str) -> None:
    with pytest.raises(TokenError, match=says) as exc:
        parse_tokens(text, "tokens")
    assert A not in str(exc.value) and "short" not in str(exc.value)


def test_the_verifier_names_the_user_of_a_token() -> None:
    verifier = StaticTokens(parse_tokens(f"ana:{A}\nben:{B}", "tokens"))
    found = asyncio.run(verifier.verify_token(B))
    assert found is not None and found.client_id == found.subject == "ben"
    assert asyncio.run(verifier.verify_token(B[:-1])) is None
    assert asyncio.run(verifier.verify_token("")) is None


def test_tokens_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"ana:{A}\n")
    path.chmod(0o600)
    assert sorted(load_tokens(path, {"FORAGE_MCP_TOKENS": f"ben:{B}, cy:{'c' * 20}"})) == ["ana", "ben", "cy"]
    with pytest.raises(TokenError, match="also in the tokens file"):
        load_tokens(path, {"FORAGE_MCP_TOKENS": f"ana:{B}"})
    with pytest.raises(TokenError, match="cannot be read"):
        load_tokens(tmp_path / "missing", {})


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_beyond_loopback_tokens_are_required() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("team.lan")
    with pytest.raises(RefusedBind, match="--tokens-file"):
        http_setup(_args("--host", "0.0.0.0"), env={})
    setup = http_setup(_args("--host", "0.0.0.0"), env={"FORAGE_MCP_TOKENS": f"ana:{A}"})
    assert setup.users == ["ana"] and setup.verifier is not None and setup.auth is not None
    assert http_setup(_args(), env={}).verifier is None  # loopback: tokens optional


def test_host_and_origin_lists() -> None:
    loop = transport_security("127.0.0.1", [], [])
    assert loop is not None and "localhost:*" in loop.allowed_hosts
    assert transport_security("0.0.0.0", [], []) is None  # no name to check; the tokens are the check
    team = transport_security("0.0.0.0", ["forage.lan", "10.0.0.5:8765"], ["https://tools.lan"])
    assert team is not None
    assert team.allowed_hosts == ["forage.lan", "forage.lan:*", "10.0.0.5:8765"]
    assert "https://forage.lan" in team.allowed_origins and "https://tools.lan" in team.allowed_origins
    own = transport_security("10.0.0.5", [], [])
    assert own is not None and own.allowed_hosts == ["10.0.0.5", "10.0.0.5:*"]


def test_http_flags_without_http_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from mcp_servers.forage.server import main

    with pytest.raises(SystemExit) as exc:
        main(["--tokens-file", "tokens"])
    assert exc.value.code == 2 and "need --transport http" in capsys.readouterr().err


def test_oauth_needs_its_three_urls_and_https() -> None:
    with pytest.raises(TokenError, match="OAuth needs --oauth-issuer, --oauth-introspect and --public-url"):
        http_setup(_args("--oauth-issuer", "https://login.example.com"), env={})
    with pytest.raises(TokenError, match="must use https"):
        http_setup(
            _args("--oauth-issuer", "https://login.example.com", "--oauth-introspect", "http://login.example.com/i",
                  "--public-url", "https://forage.example.com/mcp"),
            env={},
        )  # fmt: skip
