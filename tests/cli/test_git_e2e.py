"""End to end: `forage ask` over a git repository by URL, served on loopback by a real git server."""

import json

import pytest

from tests.cli.test_cli import forage
from tests.gitserver import GitHttpServer, make_repo

pytestmark = pytest.mark.slow

FILES = {
    "README.md": "# Acme\n\nAcme is a build tool. See docs/ for how it retries.\n",
    "docs/retry.md": "# Retry policy\n\nThe retry delay is set by retry.delay_seconds and defaults to 7 seconds.\n",
    "src/acme/app.py": "def run(task):\n    return task()\n",
}


@pytest.fixture
def server(tmp_path):
    repos = tmp_path / "repos"
    repos.mkdir()
    make_repo(repos, "acme", FILES)
    (repos / "private").mkdir()
    make_repo(repos / "private", "secret", {"notes.md": "private\n"})
    with GitHttpServer(repos) as srv:
        yield srv


def test_ask_over_a_repository_url_cites_repo_ref_and_path(server, tmp_path):
    spec = f"git+{server.base}/acme.git@main/docs"
    args = ("ask", "What is the retry delay?", spec, "--allow-host", "127.0.0.1", "--json")
    res = forage(*args, tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["history"][0]["tool"] == "read_repo"
    assert [b["uri"] for b in data["manifest"]] == [f"{server.base}/acme@main/docs/retry.md"]
    assert all(not b["trusted"] for b in data["manifest"])  # someone else's repository is data
    assert data["citations"][0]["uri"].startswith(f"{server.base}/acme@main/docs/retry.md")
    assert "7 seconds" in data["answer"]
    fetches = server.fetches()
    again = forage(*args, tmp_path=tmp_path)  # same cache: reused, nothing downloaded
    assert again.returncode == 0, again.stderr
    assert server.fetches() == fetches


def test_private_repository_and_missing_ref_fail_clearly(server, tmp_path):
    res = forage("ask", "anything?", f"git+{server.base}/private/secret.git", "--allow-host", "127.0.0.1",
                 tmp_path=tmp_path)  # fmt: skip
    assert res.returncode != 0
    assert "needs credentials" in res.stderr + res.stdout and "never stores them" in res.stderr + res.stdout
    res = forage("ask", "anything?", f"git+{server.base}/acme.git@nope", "--allow-host", "127.0.0.1",
                 tmp_path=tmp_path)  # fmt: skip
    assert res.returncode != 0 and "no branch, tag or commit 'nope'" in res.stderr + res.stdout
