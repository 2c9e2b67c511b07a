"""The layout ARCHITECTURE.md describes: every subpackage says what it is for and lists its modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "tools", "mcp_servers", "cli", "evals")
MAX_LINES = 420  # "about 400": past it a module holds two ideas


def _packages() -> list[Path]:
    return sorted(p.parent for top in PACKAGES for p in (ROOT / top).rglob("__init__.py"))


@pytest.mark.parametrize("package", _packages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_package_says_what_it_is_for_and_lists_its_modules(package: Path) -> None:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    assert doc and doc.splitlines()[0].endswith("."), f"{package}: __init__.py needs a one-line docstring"
    modules = sorted(p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "__main__"))
    subpackages = sorted(p.parent.name for p in package.glob("*/__init__.py"))
    listed = re.search(r"^Modules: (.+)\.$", doc, re.M)
    assert sorted(listed.group(1).split(", ") if listed else []) == modules, f"{package}: Modules: line"
    listed = re.search(r"^Subpackages: (.+)\.$", doc, re.M)
    assert sorted(listed.group(1).split(", ") if listed else []) == subpackages, (
        f"{package}: Subpackages: line"
    )


def test_every_subpackage_is_on_the_map() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    missing = [str(p.relative_to(ROOT)) for p in _packages() if f"`{p.relative_to(ROOT)}/`" not in text]
    assert not missing, f"ARCHITECTURE.md does not list: {missing}"


def test_no_module_holds_two_ideas_by_size() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for top in PACKAGES
        for p in (ROOT / top).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules past {MAX_LINES} lines (split them): {long}"
