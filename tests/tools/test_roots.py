"""Roots: a server's own folders (the checkout cache) do not rename the paths under the user's root."""

from __future__ import annotations

from pathlib import Path

from tools.roots import Roots


def test_a_cache_root_leaves_the_user_roots_names_alone(tmp_path: Path) -> None:
    user, cache = tmp_path / "project", tmp_path / "git"
    (user / "project").mkdir(parents=True)  # a folder named like its root: still under the root
    (user / "project" / "a.py").write_text("x = 1\n")
    (cache / "repo").mkdir(parents=True)
    (cache / "repo" / "b.py").write_text("y = 2\n")
    roots = Roots.of([user], also=[cache])
    assert roots.display(user / "project" / "a.py") == Roots.of([user]).display(user / "project" / "a.py")
    assert roots.display(user / "project" / "a.py") == "project/a.py"
    assert roots.resolve("project/a.py") == (user / "project" / "a.py").resolve()
    assert roots.display((cache / "repo" / "b.py").resolve()) == "git/repo/b.py"
    assert roots.resolve("git/repo/b.py") == (cache / "repo" / "b.py").resolve()
    # Two roots the user gave are named, as before; the cache alone is the one root.
    assert Roots.of([user, cache]).display(user / "project" / "a.py") == "project/project/a.py"
    assert Roots.of([], also=[cache]).display((cache / "repo" / "b.py").resolve()) == "repo/b.py"
