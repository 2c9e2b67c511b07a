"""Git repositories by URL: a shallow, sparse checkout in a cache, fetched again only when the ref moved.

A spec names a repository, optionally a ref (branch, tag or commit) and a folder or file in it:

    https://github.com/owner/repo                      default branch, whole repository
    https://github.com/owner/repo@v1.2/docs            tag v1.2, the docs folder
    https://github.com/owner/repo/tree/main/src        a forge's own browse URL
    https://git.example.org/team/repo.git@abc1234/lib  any host: the repository path ends in .git
    git+https://host/any/path@main                      an explicit git URL (also git://, ssh://)

git itself does the transfer, with the user's own credentials (credential helpers, ssh agent):
forage never sees or stores them, and never prompts. The network policy applies to the host
before git runs, redirects are not followed, and only the http(s), git and ssh transports are
allowed (no file://, no ext:: commands).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpcore

from tools.errors import (
    AccessDenied,
    FetchFailed,
    InvalidArgument,
    NotFound,
    PolicyRefused,
    Timeout,
    ToolError,
)
from tools.web.netpolicy import NetPolicy

FORGES = ("github.com", "gitlab.com", "codeberg.org", "bitbucket.org")
GIT_TIMEOUT_S = 300.0
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_REF = re.compile(r"^[\w][\w./+-]{0,200}$")
_SCP = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")  # git@host:owner/repo.git
_GIT_CONFIG = (
    "-c", "protocol.allow=never", "-c", "protocol.https.allow=always", "-c", "protocol.http.allow=always",
    "-c", "protocol.git.allow=always", "-c", "protocol.ssh.allow=always", "-c", "http.followRedirects=false",
    "-c", "core.hooksPath=/dev/null", "-c", "core.symlinks=false", "-c", "core.fsmonitor=false",
    "-c", "advice.detachedHead=false", "-c", "submodule.recurse=false",
)  # fmt: skip


@dataclass(frozen=True)
class GitSpec:
    """A repository URL, the ref asked for (None: the default branch) and a path inside it."""

    url: str
    ref: str | None = None
    path: str = ""

    @property
    def name(self) -> str:
        """owner/repo as people say it."""
        url = self.url.rstrip("/")
        m = _SCP.match(url) if "://" not in url else None
        path = m.group(2) if m else urlsplit(url).path
        parts = [p for p in re.sub(r"\.git$", "", path).split("/") if p]
        return "/".join(parts[-2:]) or url


@dataclass(frozen=True)
class Checkout:
    """A checked-out repository in the cache."""

    spec: GitSpec
    root: Path  # the working tree
    ref: str  # the ref read (the default branch's name when none was asked for)
    commit: str
    fetched: bool  # False: the cached checkout was already at the ref's commit

    def uri(self, relative: str) -> str:
        """How a file of it is cited: repository, ref and path."""
        return f"{self.spec.url.removesuffix('.git')}@{self.ref}/{relative}"


def is_git_spec(spec: str) -> bool:
    """Tell whether a source spec names a git repository (rather than a web page or a path)."""
    try:
        parse_spec(spec)
    except InvalidArgument:
        return False
    return True


def parse_spec(spec: str) -> GitSpec:
    """Split a spec into repository URL, ref and path; InvalidArgument when it is not a git spec."""
    raw = spec.strip()
    if raw.startswith("git+"):
        raw = raw[4:]
        return _split_tail(raw, _repo_end(raw, explicit=True))
    scheme = urlsplit(raw).scheme.lower() if "://" in raw else ""
    if not scheme:
        m = _SCP.match(raw)
        if m and "/" not in m.group(1) and not raw.startswith(("/", ".", "~")):
            return _split_tail(raw, _repo_end(raw, explicit=True))
        raise InvalidArgument(f"{spec!r} is not a git URL")
    if scheme in ("git", "ssh"):
        return _split_tail(raw, _repo_end(raw, explicit=True))
    if scheme not in ("http", "https"):
        raise InvalidArgument(f"{spec!r} is not a git URL")
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host in FORGES and len(segments) >= 2:
        owner, repo = segments[0], segments[1]
        ref = None
        if "@" in repo:
            repo, ref = repo.split("@", 1)
        rest = segments[2:]
        if rest and rest[0] in ("tree", "blob", "src") and len(rest) >= 2:  # a forge's browse URL
            ref, rest = rest[1], rest[2:]
        elif rest and rest[0] == "-" and len(rest) >= 3 and rest[1] in ("tree", "blob"):  # GitLab
            ref, rest = rest[2], rest[3:]
        elif rest and not ref:
            raise InvalidArgument(f"{spec!r} is a page of {host}, not a repository")
        url = f"https://{host}/{owner}/{repo.removesuffix('.git')}"
        return _checked(GitSpec(url, ref, "/".join(rest)), spec)
    end = _repo_end(raw, explicit=False)
    if end is None:
        raise InvalidArgument(f"{spec!r} is not a git URL (the repository path does not end in .git)")
    return _split_tail(raw, end)


def _repo_end(raw: str, *, explicit: bool) -> int | None:
    """Index just past the repository part: after '.git', else (explicit specs) before '@'."""
    m = re.search(r"\.git(?=$|[@/])", raw)
    if m:
        return m.end()
    if not explicit:
        return None
    at = raw.rfind("@")
    scp_user = _SCP.match(raw) and raw.find("@") < raw.find(":")
    if at > raw.find("://") + 3 and not (scp_user and at == raw.find("@")):
        return at
    return len(raw)


def _split_tail(raw: str, end: int | None) -> GitSpec:
    end = len(raw) if end is None else end
    url, tail = raw[:end], raw[end:]
    ref, path = None, ""
    if tail.startswith("@"):
        ref, _, path = tail[1:].partition("/")
    elif tail.startswith("/"):
        path = tail[1:]
    return _checked(GitSpec(url, ref or None, path.strip("/")), raw)


def _checked(spec: GitSpec, raw: str) -> GitSpec:
    if spec.ref is not None and (
        not _REF.match(spec.ref) or ".." in spec.ref or spec.ref.endswith((".lock", "/"))
    ):
        raise InvalidArgument(f"{raw!r}: {spec.ref!r} is not a valid branch, tag or commit name")
    if any(part in ("..", ".git") for part in spec.path.split("/")):
        raise InvalidArgument(f"{raw!r}: the path inside the repository may not contain '..' or '.git'")
    return spec


# ---------------------------------------------------------------------------- checking out


async def checkout(
    spec: GitSpec, cache: Path, policy: NetPolicy, *, timeout: float = GIT_TIMEOUT_S
) -> Checkout:
    """Check out spec into the cache (shallow, sparse on its path), reusing it when the ref has not moved."""
    await _check_host(spec.url, policy)
    key = hashlib.sha256(f"{spec.url}\n{spec.ref}\n{spec.path}".encode()).hexdigest()[:16]
    slug = re.sub(r"[^\w.-]+", "-", spec.name)[:60]
    root = cache / f"{slug}-{key}"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{slug}-{key}.lock", "w") as lock:
        await asyncio.to_thread(fcntl.flock, lock.fileno(), fcntl.LOCK_EX)
        ref, want = await _resolve(spec, timeout)
        if (root / ".git").is_dir():
            current = (await _git(["rev-parse", "HEAD"], root, timeout, spec)).strip()
            if want is not None and (current == want or current.startswith(want)):
                return Checkout(spec, root, ref, current, fetched=False)
        else:
            shutil.rmtree(root, ignore_errors=True)  # a half-made checkout from an interrupted run
            root.mkdir(parents=True)
            await _git(["init", "-q"], root, timeout, spec)
            await _git(["remote", "add", "origin", spec.url], root, timeout, spec)
            if spec.path:
                await _git(["sparse-checkout", "set", "--no-cone", f"/{spec.path}"], root, timeout, spec)
        target = want if want is not None and len(want) == 40 else ref
        await _git(
            ["fetch", "-q", "--depth", "1", "--filter=blob:none", "origin", target], root, timeout, spec
        )
        await _git(["checkout", "-q", "--force", "FETCH_HEAD"], root, timeout, spec)
        commit = (await _git(["rev-parse", "HEAD"], root, timeout, spec)).strip()
        if spec.path and not (root / spec.path).exists():
            raise NotFound(f"{spec.path!r} does not exist in {spec.name} at {ref}; check the path")
        return Checkout(spec, root, ref, commit, fetched=True)


async def _resolve(spec: GitSpec, timeout: float) -> tuple[str, str | None]:
    """The ref to read and its commit (None: a commit id the server does not advertise)."""
    if spec.ref is None:
        out = await _git(["ls-remote", "--symref", spec.url, "HEAD"], None, timeout, spec)
        m = re.search(r"^ref: refs/heads/(\S+)\s+HEAD$", out, re.M)
        sha = re.search(r"^([0-9a-f]{40})\s+HEAD$", out, re.M)
        if not sha:
            raise NotFound(f"{spec.url} has no default branch (an empty repository?); name a ref with @REF")
        return (m.group(1) if m else "HEAD"), sha.group(1)
    out = await _git(
        ["ls-remote", spec.url, spec.ref, f"refs/heads/{spec.ref}", f"refs/tags/{spec.ref}"],
        None,
        timeout,
        spec,
    )
    refs = dict(line.split("\t", 1)[::-1] for line in out.splitlines() if "\t" in line)
    for name in (f"refs/heads/{spec.ref}", f"refs/tags/{spec.ref}^{{}}", f"refs/tags/{spec.ref}", spec.ref):
        if name in refs:
            return spec.ref, refs[name]
    known = await _git(["ls-remote", "--heads", "--tags", spec.url], None, timeout, spec)
    lines = [line.split("\t", 1) for line in known.splitlines() if "\t" in line]
    wanted = spec.ref.lower()
    if _SHA.match(wanted):
        if len(wanted) == 40:
            return spec.ref, wanted  # a commit: fetched by id (or reused when checked out)
        tips = {sha for sha, _ in lines if sha.startswith(wanted)}
        if len(tips) == 1:
            return spec.ref, tips.pop()  # a short id of a branch or tag tip
    names = sorted({name.split("/", 2)[-1].removesuffix("^{}") for _, name in lines})
    shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    hint = "; give a commit by its full 40-character id" if _SHA.match(wanted) else ""
    raise NotFound(
        f"{spec.name} has no branch, tag or commit {spec.ref!r}{hint}"
        + (f"; it has: {shown}" if names else "")
    )


async def _check_host(url: str, policy: NetPolicy) -> None:
    m = _SCP.match(url) if "://" not in url else None
    host = m.group(1) if m else (urlsplit(url).hostname or "")
    port = (urlsplit(url).port if not m else None) or 443
    if not host:
        raise InvalidArgument(f"{url!r} has no host")
    try:
        await policy.resolve(host, port)  # every address the name has must be allowed
    except (OSError, httpcore.ConnectError) as exc:
        raise FetchFailed(f"cannot reach {host!r} for {url}: {exc}") from exc


async def _git(args: list[str], cwd: Path | None, timeout: float, spec: GitSpec) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "", "GCM_INTERACTIVE": "never",
            "GIT_SSH_COMMAND": "ssh -oBatchMode=yes", "LC_ALL": "C"}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        "git", *_GIT_CONFIG, *args, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise Timeout(
            f"git {args[0]} of {spec.url} took over {timeout:g} s; try a smaller path or later"
        ) from exc
    if proc.returncode != 0:
        raise _git_error(spec, args[0], err.decode("utf-8", "replace"))
    return out.decode("utf-8", "replace")


def _git_error(spec: GitSpec, command: str, stderr: str) -> ToolError:
    text = " ".join(stderr.split())
    if re.search(
        r"could not read Username|Authentication failed|terminal prompts disabled|401|403|Permission denied \(publickey",
        text,
        re.I,
    ):
        return AccessDenied(
            f"{spec.url} needs credentials that git does not have. forage uses your own git credentials "
            "(a credential helper, `gh auth login`, or an ssh agent) and never stores them: set one up "
            "for this host and try again"
        )
    if re.search(r"not found|does not appear to be a git repository|Repository not found|404", text, re.I):
        return NotFound(f"{spec.url} is not a git repository forage can read (git said: {text[:200]})")
    if "redirect" in text.lower():
        return PolicyRefused(
            f"{spec.url} redirects elsewhere; forage does not follow git redirects. Use the final URL"
        )
    return FetchFailed(f"git {command} of {spec.url} failed: {text[:300] or 'no message'}")
