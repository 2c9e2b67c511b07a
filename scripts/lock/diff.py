"""Print which pinned versions moved between two lock files (pip format, as uv writes them)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(path: Path) -> dict[str, str]:
    """Read `name==version` lines of a lock file (names normalized as pip compares them)."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text().splitlines():
        m = _PIN.match(line)
        if m:
            found[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return found


def moved(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Lines for every package added, removed or at another version, sorted by name."""
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if before is None:
            lines.append(f"  + {name} {after}")
        elif after is None:
            lines.append(f"  - {name} {before}")
        else:
            lines.append(f"  ~ {name} {before} -> {after}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: diff.py OLD_LOCK NEW_LOCK", file=sys.stderr)
        return 2
    old, new = pins(Path(argv[1])), pins(Path(argv[2]))
    lines = moved(old, new)
    if lines:
        print(f"{len(lines)} of {len(new)} pinned packages moved:")
        print("\n".join(lines))
    else:
        print(f"no pinned version moved ({len(new)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
