"""Containment checks: paths must stay inside the roots a server was given."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tools.errors import InvalidArgument, NotFound, OutsideRoots


@dataclass(frozen=True)
class Roots:
    """The directories (or single files) a server may read, resolved once at start."""

    paths: tuple[Path, ...]
    # How many of `paths` (the first ones) the user gave; the rest are the server's own (a
    # checkout cache) and do not change how the user's paths are named.
    given: int | None = None

    @classmethod
    def of(
        cls, paths: Iterable[str | os.PathLike[str]], *, also: Iterable[str | os.PathLike[str]] = ()
    ) -> Roots:
        """Resolve the roots; `also`: the server's own folders, readable but not naming the others."""
        paths, also = list(paths), list(also)
        resolved = []
        for raw in [*paths, *also]:
            p = Path(raw).expanduser()
            if not p.exists():
                raise NotFound(f"root {str(raw)!r} does not exist; pass an existing folder or file")
            resolved.append(p.resolve(strict=True))
        if not resolved:
            raise InvalidArgument("no roots given; pass at least one folder the server may read")
        unique = tuple(dict.fromkeys(resolved))
        return cls(unique, len(dict.fromkeys(resolved[: len(paths)])) if also and paths else None)

    def contains(self, path: Path) -> bool:
        """Tell whether an already-resolved path is inside one of the roots."""
        for root in self.paths:
            # relative_to, not str.startswith: "/data2" must not pass for root "/data".
            try:
                path.relative_to(root)
                return True
            except ValueError:
                continue
        return False

    def resolve(self, raw: str | os.PathLike[str], *, must_exist: bool = True) -> Path:
        """Resolve a user-supplied path (relative to the first root) and check containment.

        Symlinks are resolved before the check (defense in depth: a link inside a root that
        points outside it is refused, as is a path through a symlinked parent).
        """
        text = os.fspath(raw)
        if "\x00" in text:
            raise InvalidArgument("path contains a NUL byte; pass a plain path")
        if not text.strip():
            raise InvalidArgument("path is empty; pass a path inside the roots")
        candidate = Path(text).expanduser()
        if not candidate.is_absolute():
            candidate = self._base_for(candidate) / candidate
        if candidate.is_symlink() and not candidate.exists():
            raise OutsideRoots(f"{text!r} is a dangling symlink; it was not followed")
        try:
            resolved = candidate.resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # symlink loops raise RuntimeError on 3.11
            raise InvalidArgument(f"{text!r} cannot be resolved: {exc}") from exc
        if not self.contains(resolved):
            raise OutsideRoots(
                f"{text!r} is outside the allowed roots ({', '.join(map(str, self.paths))}); "
                "ask for a path inside them"
            )
        if must_exist and not resolved.exists():
            raise NotFound(f"{text!r} does not exist; use list_files to see what is there")
        return resolved

    def _named_alone(self, root: Path) -> bool:
        """Whether paths under this root are shown without its name (it is the one root the user gave)."""
        given = len(self.paths) if self.given is None else self.given
        return given == 1 and root == self.paths[0]

    def _base_for(self, relative: Path) -> Path:
        # With several roots, display() names paths "<root name>/rest"; map them back.
        if len(self.paths) > 1 and relative.parts:
            for root in self.paths:
                if relative.parts[0] == root.name and not self._named_alone(root):
                    return root.parent
        first = self.paths[0]
        return first if first.is_dir() else first.parent

    def display(self, path: Path) -> str:
        """Show a resolved path relative to the root that holds it (root name first if several)."""
        for root in self.paths:
            try:
                rel = path.relative_to(root)
            except ValueError:
                continue
            if root.is_file():
                return root.name
            if self._named_alone(root):
                return rel.as_posix() or "."
            return (Path(root.name) / rel).as_posix()
        return path.as_posix()
