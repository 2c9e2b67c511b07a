"""Walk folders inside the roots: .gitignore files (nested too), default ignores, no symlinks out."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from tools.errors import InvalidArgument
from tools.roots import Roots

IGNORED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", ".jj",
        "__pycache__", ".venv", "venv", ".tox", ".nox", ".eggs",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pytype", ".hypothesis", ".ipynb_checkpoints",
        "node_modules", "bower_components", ".next", ".nuxt", ".svelte-kit", ".parcel-cache", ".turbo",
        "build", "dist", "target", "out", "_build", ".gradle", ".terraform", ".serverless",
        "coverage", "htmlcov", ".cache", ".idea", ".vscode",
    }
)  # fmt: skip
IGNORED_DIR_SUFFIXES = (".egg-info", ".dist-info")
IGNORED_FILES = frozenset(
    {
        "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "npm-shrinkwrap.json",
        "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "composer.lock",
        "Gemfile.lock", "go.sum", "mix.lock", "pubspec.lock", "flake.lock", "packages.lock.json",
        ".DS_Store", "Thumbs.db", ".coverage",
        # Secrets never belong in a prompt by accident; read_file still reads them when asked by name.
        ".env", ".env.local", ".env.production", ".env.development", ".npmrc", ".pypirc", ".netrc",
    }
)  # fmt: skip
BINARY_EXTENSIONS = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "heic", "avif",
        "zip", "tar", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "lz4", "br",
        "exe", "dll", "so", "dylib", "a", "o", "obj", "lib", "class", "jar", "war", "ear",
        "pyc", "pyo", "pyd", "whl", "egg", "bin", "dat", "wasm", "node",
        "mp3", "mp4", "wav", "ogg", "flac", "aac", "m4a", "avi", "mov", "mkv", "webm",
        "ttf", "otf", "woff", "woff2", "eot",
        "doc", "xls", "ppt", "odt", "ods", "odp",  # .docx .xlsx .pptx: tools.files.office reads them
        "sqlite", "sqlite3", "db", "npy", "npz", "pkl", "pickle", "parquet", "feather", "arrow",
        "h5", "hdf5", "pt", "pth", "onnx", "safetensors", "ckpt", "tflite", "pb",
        "iso", "dmg", "img", "deb", "rpm", "msi", "apk",
    }
)  # fmt: skip
#: Files that hold credentials by design (.env and friends, private keys, credential stores): a
#: walk never packs them by accident; read_file still reads one named explicitly (redacted).
SECRET_FILES = re.compile(
    r"^(\.env(\.[\w.-]+)?|[\w.-]+\.env|\.envrc|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.pgpass|\.htpasswd"
    r"|credentials(\.json)?|id_(rsa|dsa|ecdsa|ed25519)|[\w.-]+\.(pem|key|p12|pfx|jks|keystore))$",
    re.I,
)
#: Templates of those files hold placeholders, not secrets: they are read like any file.
SECRET_TEMPLATES = re.compile(r"\.(example|sample|template|dist|tmpl)$", re.I)
WALK_LIMIT = 200_000  # files; beyond this a walk stops and says so instead of running on


@dataclass(frozen=True, slots=True)
class Entry:
    """One file found by a walk."""

    # The real, resolved location (what gets opened), kept as a string: a Path holds each of
    # its parts as a string too, ~4x the memory, and a walk of a big folder holds 100k entries.
    where: str
    display: str  # how the user names it (Roots.display of the path as walked)
    size: int  # bytes; UNMEASURED when the walk was asked not to stat each file

    @property
    def path(self) -> Path:
        return Path(self.where)


@dataclass
class Walk:
    """Files found under a start path, in path order, plus what was left out and why."""

    files: list[Entry] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason", "detail"}
    ignored: int = 0  # entries left out by .gitignore or the default ignore list (pruned dirs count once)
    limit_hit: bool = False


def is_ignored_name(name: str, is_dir: bool) -> bool:
    """Tell whether a file or folder name is on the default ignore list."""
    if is_dir:
        return name in IGNORED_DIRS or name.endswith(IGNORED_DIR_SUFFIXES)
    if name in IGNORED_FILES or is_secret_file(name):
        return True
    _, dot, ext = name.rpartition(".")
    return bool(dot) and ext.lower() in BINARY_EXTENSIONS


def is_secret_file(name: str) -> bool:
    """Tell whether a file name says it holds credentials (.env, id_rsa, *.pem, ...)."""
    return bool(SECRET_FILES.match(name)) and not SECRET_TEMPLATES.search(name)


def compile_pattern(pattern: str | None) -> pathspec.GitIgnoreSpec | None:
    """Compile a glob filter ("*.py", "src/**/*.ts", or several joined by commas)."""
    if pattern is None or not pattern.strip():
        return None
    lines = [p.strip() for p in pattern.split(",") if p.strip()]
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError as exc:
        raise InvalidArgument(f"pattern {pattern!r} is not a valid glob ({exc}); try e.g. '*.py'") from exc


class _Ignores:
    """The .gitignore specs in force for one folder: (prefix length of their folder, spec), outermost first."""

    __slots__ = ("specs",)

    def __init__(
        self, specs: tuple[tuple[int, pathspec.GitIgnoreSpec, re.Pattern[str] | None], ...] = ()
    ) -> None:
        self.specs = specs

    def entering(self, folder: str) -> _Ignores:
        """The specs for a child folder: these plus its own .gitignore, if any."""
        spec = _load_gitignore(folder)
        if spec is None:
            return self
        return _Ignores((*self.specs, (len(folder) + 1, spec, _any_rule(spec))))

    def ignores(self, path: str, is_dir: bool) -> bool:
        # The deepest .gitignore with a matching rule decides (so a nested "!keep" re-includes).
        for cut, spec, any_rule in reversed(self.specs):
            rel = path[cut:] + "/" if is_dir else path[cut:]
            if any_rule is not None and any_rule.match(rel) is None:
                continue  # no rule of this file matches: skip the per-rule loop
            include = spec.check_file(rel).include
            if include is not None:
                return include
        return False


def _any_rule(spec: pathspec.GitIgnoreSpec) -> re.Pattern[str] | None:
    """One regex matching wherever any rule of the spec matches: most paths match none, and one
    search is much cheaper than one per rule. None when the rules cannot be combined."""
    sources = []
    for pattern in spec.patterns:
        regex = getattr(pattern, "regex", None)
        if pattern.include is None or regex is None:
            continue
        sources.append("(?:" + re.sub(r"\(\?P<[^>]+>", "(?:", regex.pattern) + ")")
    if not sources:
        return None
    try:
        return re.compile("|".join(sources))
    except re.error:
        return None


def _load_gitignore(folder: str) -> pathspec.GitIgnoreSpec | None:
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return None
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:
        return None  # git itself skips patterns it cannot parse; a broken line must not stop a walk
    return spec if len(spec) else None


def _root_of(roots: Roots, path: Path) -> Path:
    for root in roots.paths:
        if path == root or root in path.parents:
            return root
    return path


UNMEASURED = -1  # Entry.size of a walk without sizes


def walk(
    roots: Roots, start: Path, pattern: str | None = None, limit: int = WALK_LIMIT, *, sizes: bool = True
) -> Walk:
    """List the files under a resolved, contained start path, honouring ignore rules and the limit.

    sizes=False: leave Entry.size UNMEASURED, for callers that open every file anyway and check
    its size as they read it (a stat per file is ~0.45 s of walking 100k files).
    """
    found = Walk()
    spec = compile_pattern(pattern)
    if start.is_file():
        found.files.append(Entry(str(start), roots.display(start), start.stat().st_size))
        return found
    ignores = _ancestor_ignores(_root_of(roots, start), start)
    base = str(start)
    shown = roots.display(start)
    prefix = "" if shown == "." else shown + "/"
    _walk_dir(roots, base, _Cut(len(base) + 1, prefix), ignores.entering(base), spec, limit, found, sizes)
    return found


@dataclass(frozen=True)
class _Cut:
    """How to turn an absolute path under the start into its pattern-relative and display forms."""

    start: int  # characters of "<start>/" to cut off
    prefix: str  # display form of the start ("" at a single root), with a trailing "/"


def _ancestor_ignores(root: Path, start: Path) -> _Ignores:
    """Load .gitignore files from the root down to start's parent, unless they ignore start itself."""
    ignores = _Ignores()
    if start == root or root not in start.parents:
        return ignores
    chain = [root, *reversed(start.relative_to(root).parents[:-1])]  # root .. start's parent
    for folder in chain:
        ignores = ignores.entering(str(folder if folder.is_absolute() else root / folder))
    # Asking for an ignored folder by name is explicit: show it rather than an empty answer.
    return _Ignores() if ignores.ignores(str(start), is_dir=True) else ignores


def _walk_dir(
    roots: Roots,
    folder: str,
    cut: _Cut,
    ignores: _Ignores,
    spec: pathspec.GitIgnoreSpec | None,
    limit: int,
    found: Walk,
    sizes: bool = True,
) -> None:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        found.skipped.append({"path": folder, "reason": "unreadable", "detail": f"folder: {exc.strerror}"})
        return
    for entry in entries:
        if found.limit_hit:
            return
        path = entry.path
        if entry.is_symlink():
            _add_symlink(roots, entry, spec, cut, found)
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_ignored_name(entry.name, is_dir) or ignores.ignores(path, is_dir):
            found.ignored += 1
            continue
        if is_dir:
            _walk_dir(roots, path, cut, ignores.entering(path), spec, limit, found, sizes)
            continue
        if not entry.is_file(follow_symlinks=False):
            continue  # sockets, fifos, devices: never opened
        rel = path[cut.start :]
        if spec is not None and not spec.match_file(rel):
            continue
        try:
            size = entry.stat(follow_symlinks=False).st_size if sizes else UNMEASURED
        except OSError as exc:
            found.skipped.append({"path": path, "reason": "unreadable", "detail": str(exc.strerror)})
            continue
        # Paths built here are contained by construction: the start was resolved and checked,
        # and no symlink is ever descended through (those go through _add_symlink).
        if len(found.files) >= limit:
            found.limit_hit = True
            return
        found.files.append(Entry(path, cut.prefix + rel, size))


def _add_symlink(
    roots: Roots, entry: os.DirEntry[str], spec: pathspec.GitIgnoreSpec | None, cut: _Cut, found: Walk
) -> None:
    """Keep a symlinked file whose target is inside the roots; never descend into symlinked folders."""
    real = Path(os.path.realpath(entry.path))
    if not real.exists():
        found.skipped.append({"path": entry.path, "reason": "dangling_symlink", "detail": "target missing"})
    elif not roots.contains(real):
        found.skipped.append(
            {"path": entry.path, "reason": "outside_roots", "detail": "symlink to a path outside the roots"}
        )
    elif real.is_dir():
        found.skipped.append({"path": entry.path, "reason": "symlinked_folder", "detail": "not followed"})
    elif real.is_file() and not is_ignored_name(entry.name, False):
        rel = entry.path[cut.start :]
        if spec is not None and not spec.match_file(rel):
            return
        found.files.append(Entry(str(real), cut.prefix + rel, real.stat().st_size))
