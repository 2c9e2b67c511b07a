"""A small real git repository with a history worth sampling: the fixture of the history-suite tests."""

from __future__ import annotations

from pathlib import Path

from tests.gitserver import commit, git

BACKOFF_MESSAGE = """Make the retry backoff delay grow exponentially (#12)

The old delay table in src/pkg/legacy.py is gone; see https://github.com/o/r/issues/12 and GH-7.
Follow-up to 1a2b3c4d5e6f.

Fixes #12
Signed-off-by: Dev <dev@example.org>
Co-authored-by: Other <other@example.org>
"""


def _filler(i: int) -> str:
    return "".join(f"def filler_{i}_{j}(value):\n    return value + {j}\n\n\n" for j in range(25))


def build_history(root: Path) -> tuple[Path, dict[str, str]]:
    """The repository (a checkout) and the shas of its commits, by name."""
    work = root / "proj"
    git("init", "-q", "-b", "main", str(work))
    files = {f"src/pkg/filler_{i:02d}.py": _filler(i) for i in range(12)}
    files |= {
        "src/pkg/core.py": 'def compute_backoff_delay(attempt):\n    """The delay before the next retry."""\n    return 1\n',
        "src/pkg/legacy.py": "def old_backoff_table(attempt):\n    return [1, 2, 3][attempt]\n",
        "src/pkg/util.py": "def cache_helper(key):\n    return key\n",
        "tests/test_core.py": "def test_delay():\n    assert True\n",
        "vendor/six.py": "def backoff_shim():\n    return 0\n",
        "README.md": "# proj\n",
        "src/pkg/version.py": "VERSION = '1.1.0'\n",
    }
    shas = {"first": commit(work, files, "Initial import of the whole project")}
    (work / "src/pkg/legacy.py").unlink()
    shas["backoff"] = commit(
        work,
        {
            "src/pkg/core.py": 'def compute_backoff_delay(attempt):\n    """Wait longer after each failed attempt."""\n'
            "    return 2 ** attempt\n",
            "src/pkg/exponential.py": "def exponential_backoff_delay_curve(attempt):\n    return 2 ** attempt\n",
            "tests/test_core.py": "def test_delay():\n    assert 2 ** 3 == 8\n",
            "vendor/six.py": "def backoff_shim():\n    return 1\n",
        },
        BACKOFF_MESSAGE,
    )
    shas["tests_only"] = commit(
        work,
        {"tests/test_core.py": "def test_more():\n    assert 1\n"},
        "Cover the delay with more test cases",
    )
    shas["short"] = commit(work, {"src/pkg/util.py": "def cache_helper(key):\n    return str(key)\n"}, "wip")
    git("revert", "--no-edit", shas["short"], cwd=work)
    shas["revert"] = git("rev-parse", "HEAD", cwd=work)
    shas["sweep"] = commit(
        work,
        {f"src/pkg/filler_{i:02d}.py": _filler(i) + "# restyled\n" for i in range(5)},
        "Restyle every filler module in the new house style",
    )
    shas["release"] = commit(
        work, {"src/pkg/version.py": "VERSION = '1.2.0'\n"}, "Release 1.2.0 of the package"
    )
    shas["layout"] = commit(
        work,
        {"src/pkg/version.py": "VERSION  =  '1.2.0'\n\n\n"},
        "Tidy the spacing around the version constant assignment",
    )
    git("mv", "src/pkg/util.py", "src/pkg/helpers.py", cwd=work)
    git("commit", "-q", "-m", "Move the cache helpers into a module of their own", cwd=work)
    shas["rename"] = git("rev-parse", "HEAD", cwd=work)
    git("checkout", "-q", "-b", "feature", cwd=work)
    shas["feature"] = commit(
        work,
        {"src/pkg/helpers.py": "def cache_helper(key, default=None):\n    return key or default\n"},
        "Let the cache helper accept a default value for missing keys",
    )
    git("checkout", "-q", "main", cwd=work)
    shas["cap"] = commit(
        work,
        {"src/pkg/core.py": "def compute_backoff_delay(attempt):\n    return min(60, 2 ** attempt)\n"},
        "Cap the backoff delay at one minute in core.py (see `core`)",
    )
    git("merge", "-q", "--no-ff", "feature", "-m", "Merge branch feature into main for the release", cwd=work)
    shas["merge"] = git("rev-parse", "HEAD", cwd=work)
    return work, shas
