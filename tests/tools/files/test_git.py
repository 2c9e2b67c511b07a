"""Git repositories by URL against a real git server on loopback (smart HTTP): never the internet."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitserver import GitHttpServer, commit, make_repo
from tools.errors import AccessDenied, InvalidArgument, NotFound, PolicyRefused
from tools.files.git import GitSpec, checkout, is_git_spec, parse_spec
from tools.web.netpolicy import NetPolicy

FILES = {
    "README.md": "# Acme\n\nAcme is a build tool.\n",
    "docs/retry.md": "# Retry\n\nThe retry delay defaults to 7 seconds.\n",
    "src/acme/app.py": "def run(task):\n    return task()\n",
}
LOOPBACK = NetPolicy.of(["127.0.0.1"])


@pytest.fixture
def server(tmp_path: Path):
    repos = tmp_path / "repos"
    repos.mkdir()
    _, work = make_repo(repos, "acme", FILES)
    (repos / "private").mkdir()
    make_repo(repos / "private", "secret", {"notes.md": "private notes\n"})
    with GitHttpServer(repos) as srv:
        srv.work = work  # type: ignore[attr-defined]
        yield srv


async def test_first_clone_then_cached_then_moved_ref(server: GitHttpServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    spec = parse_spec(f"git+{server.base}/acme.git")
    first = await checkout(spec, cache, LOOPBACK)
    assert (
        first.fetched
        and first.ref == "main"
        and (first.root / "docs/retry.md").read_text().startswith("# Retry")
    )
    assert first.uri("docs/retry.md") == f"{server.base}/acme@main/docs/retry.md"
    pulls = server.fetches()
    again = await checkout(spec, cache, LOOPBACK)
    assert not again.fetched and again.commit == first.commit and server.fetches() == pulls  # only ls-remote
    moved = commit(server.work, {"docs/retry.md": "# Retry\n\nNow 9 seconds.\n"}, "change")  # type: ignore[attr-defined]
    import subprocess

    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=server.work, check=True)  # type: ignore[attr-defined]
    third = await checkout(spec, cache, LOOPBACK)
    assert (
        third.fetched and third.commit == moved and "9 seconds" in (third.root / "docs/retry.md").read_text()
    )


async def test_ref_and_subfolder_give_a_sparse_checkout(server: GitHttpServer, tmp_path: Path) -> None:
    got = await checkout(parse_spec(f"git+{server.base}/acme.git@v1/docs"), tmp_path / "c", LOOPBACK)
    assert got.ref == "v1" and (got.root / "docs/retry.md").exists()
    assert not (got.root / "src").exists()  # sparse: only the folder asked for
    by_commit = await checkout(GitSpec(f"{server.base}/acme.git", got.commit[:12]), tmp_path / "c", LOOPBACK)
    assert by_commit.commit == got.commit


async def test_missing_ref_and_private_repo_are_clear_errors(server: GitHttpServer, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"no branch, tag or commit 'nope'; it has: main, v1"):
        await checkout(parse_spec(f"git+{server.base}/acme.git@nope"), tmp_path / "c", LOOPBACK)
    with pytest.raises(AccessDenied, match="needs credentials.*never stores them"):
        await checkout(parse_spec(f"git+{server.base}/private/secret.git"), tmp_path / "c", LOOPBACK)
    with pytest.raises(NotFound, match="not a git repository"):
        await checkout(parse_spec(f"git+{server.base}/missing.git"), tmp_path / "c", LOOPBACK)


async def test_network_policy_applies_before_git_runs(server: GitHttpServer, tmp_path: Path) -> None:
    with pytest.raises(PolicyRefused, match="127.0.0.1"):
        await checkout(parse_spec(f"git+{server.base}/acme.git"), tmp_path / "c", NetPolicy.of())
    assert server.requests == []


def test_specs() -> None:
    assert parse_spec("https://github.com/o/r") == GitSpec("https://github.com/o/r")
    assert parse_spec("https://github.com/o/r@v1.2/docs") == GitSpec("https://github.com/o/r", "v1.2", "docs")
    assert parse_spec("https://github.com/o/r/tree/main/src/x") == GitSpec(
        "https://github.com/o/r", "main", "src/x"
    )
    assert parse_spec("https://gitlab.com/o/r/-/tree/dev/a") == GitSpec("https://gitlab.com/o/r", "dev", "a")
    assert parse_spec("https://git.example.org/t/r.git@abc1234/lib") == GitSpec(
        "https://git.example.org/t/r.git", "abc1234", "lib"
    )
    assert parse_spec("git@github.com:o/r.git@main") == GitSpec("git@github.com:o/r.git", "main", "")
    assert parse_spec("git+http://127.0.0.1:9/r@dev") == GitSpec("http://127.0.0.1:9/r", "dev", "")
    for page in (
        "https://github.com/o/r/issues/3",
        "https://docs.example.org/guide/",
        "./folder",
        "notes.md",
    ):
        assert not is_git_spec(page), page
    with pytest.raises(InvalidArgument, match="'..'"):
        parse_spec("https://github.com/o/r@main/../../etc")
