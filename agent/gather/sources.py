"""Source specs: what the user named (folder, file, PDF, URL) and the first call for each."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from agent.errors import SourceError
from agent.settings import Settings
from agent.state import Document, ToolCall
from tools.files.git import is_git_spec
from tools.files.office import is_document
from tools.tool_names import ToolName, namespaced

Kind = Literal["folder", "file", "pdf", "url", "pdf_url", "git", "mcp"]

# The token budget of a folder's first read: none. Its pages are followed to the end as part of
# reading it; the gather limit (max_gather_tokens) applies across them, and --budget when packing.
NO_CAP = 10**15

#: Which server provides each tool the planner may suggest.
TOOL_SERVER: dict[str, str] = {
    **dict.fromkeys(
        (ToolName.LIST_FILES, ToolName.READ_FILE, ToolName.READ_MANY, ToolName.SEARCH_FILES,
         ToolName.FILE_INFO, ToolName.READ_REPO), "files"),
    **dict.fromkeys((ToolName.PDF_INFO, ToolName.READ_PDF, ToolName.SEARCH_PDF), "pdf"),
    **dict.fromkeys((ToolName.FETCH_PAGE, ToolName.CRAWL_SITE, ToolName.EXTRACT_LINKS), "web"),
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One resolved source spec."""

    spec: str
    kind: Kind
    target: str  # absolute path or URL
    first_calls: tuple[ToolCall, ...] = field(default_factory=tuple)

    @property
    def servers(self) -> set[str]:
        if self.kind == "mcp":
            return {self.target.split("/", 1)[0]}
        return {TOOL_SERVER[c.name] for c in self.first_calls}


def _mcp_source(spec: str, settings: Settings) -> Source:
    """`mcp:server/tool?arg=value&...`: call one tool of a configured third-party server."""
    head, _, query = spec[len("mcp:") :].partition("?")
    server, _, tool = head.strip("/").partition("/")
    if not server or not tool or "/" in tool:
        raise SourceError(f"{spec}: write mcp:SERVER/TOOL?arg=value (one server, one tool)")
    entry = settings.mcp_servers.get(server)
    if entry is None:
        known = ", ".join(sorted(settings.mcp_servers)) or "none"
        raise SourceError(
            f"{spec}: no MCP server named {server!r} is configured (configured: {known}); "
            "add it under [mcp_servers] in forage.toml or to an mcp.json"
        )
    if not entry.enabled:
        raise SourceError(
            f"{spec}: the MCP server {server!r} is disabled in {entry.defined_in or 'the config'}"
        )
    args: dict[str, object] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        # A repeated key is a list (?tag=a&tag=b); the tool's schema types the rest at call time.
        if key in args:
            prev = args[key]
            args[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            args[key] = value
    return Source(spec, "mcp", f"{server}/{tool}", (ToolCall(name=namespaced(server, tool), args=args),))


def _is_url(spec: str) -> bool:
    return "://" in spec[:12] or spec.startswith(("http:", "https:"))


def resolve_source(spec: str, settings: Settings) -> Source:
    """Classify a spec and choose its first tool call; raise SourceError with what to do."""
    if spec.startswith("mcp:"):
        return _mcp_source(spec, settings)
    if is_git_spec(spec):  # a repository by URL: read like a folder, from a cached checkout
        call = ToolCall(
            name=ToolName.READ_REPO, args={"repo": spec.strip(), "max_tokens": settings.max_gather_tokens}
        )
        return Source(spec, "git", spec.strip(), (call,))
    if _is_url(spec):
        scheme = urlsplit(spec).scheme.lower()
        if scheme not in ("http", "https"):
            raise SourceError(
                f"{spec}: only http(s) URLs and git repositories can be read (got {scheme}:); give a web "
                "address, or a repository URL such as git+https://host/repo.git"
            )
        if urlsplit(spec).path.lower().endswith(".pdf"):
            return Source(spec, "pdf_url", spec, (ToolCall(name=ToolName.FETCH_PAGE, args={"url": spec}),))
        if settings.crawl:
            args: dict[str, object] = {
                "url": spec,
                "max_pages": settings.max_pages,
                "max_depth": settings.max_depth,
            }
            if settings.include:
                args["include"] = list(settings.include)
            if settings.exclude:
                args["exclude"] = list(settings.exclude)
            return Source(spec, "url", spec, (ToolCall(name=ToolName.CRAWL_SITE, args=args),))
        args = {"url": spec} if settings.render == "auto" else {"url": spec, "render": settings.render}
        return Source(spec, "url", spec, (ToolCall(name=ToolName.FETCH_PAGE, args=args),))
    if "\x00" in spec:
        raise SourceError("a source path contains a NUL byte; pass a plain path")
    path = Path(spec).expanduser()
    if not path.exists():
        hint = " (it is a dangling symlink)" if path.is_symlink() else ""
        raise SourceError(f"{spec}: no such file or folder{hint}; check the path")
    resolved = path.resolve()
    if settings.roots and not any(resolved.is_relative_to(r.expanduser().resolve()) for r in settings.roots):
        allowed = ", ".join(str(r) for r in settings.roots)
        raise SourceError(f"{spec}: outside the allowed roots ({allowed}); add it to `roots` in forage.toml")
    if resolved.is_dir():
        if not os.access(resolved, os.R_OK | os.X_OK):
            raise SourceError(f"{spec}: folder cannot be read (permission denied)")
        return Source(
            spec,
            "folder",
            str(resolved),
            (
                ToolCall(
                    name=ToolName.READ_MANY,
                    args={"paths_or_glob": str(resolved), "max_tokens": NO_CAP},
                ),
            ),
        )
    if not resolved.is_file():
        raise SourceError(f"{spec}: not a regular file (a pipe, socket or device); name files or folders")
    if not os.access(resolved, os.R_OK):
        raise SourceError(f"{spec}: file cannot be read (permission denied)")
    if is_document(resolved):  # office documents and notebooks come back by slide, sheet, section, cell
        call = ToolCall(
            name=ToolName.READ_MANY,
            args={"paths_or_glob": [str(resolved)], "max_tokens": NO_CAP},
        )
        return Source(spec, "file", str(resolved), (call,))
    if resolved.suffix.lower() == ".pdf":
        return Source(
            spec, "pdf", str(resolved), (ToolCall(name=ToolName.READ_PDF, args={"path": str(resolved)}),)
        )
    return Source(
        spec, "file", str(resolved), (ToolCall(name=ToolName.READ_FILE, args={"path": str(resolved)}),)
    )


def resolve_sources(specs: list[str], settings: Settings) -> tuple[list[Source], list[str]]:
    """Resolve every spec; a bad one becomes a failure line, the rest go on."""
    sources: list[Source] = []
    failures: list[str] = []
    for spec in dict.fromkeys(specs):
        try:
            sources.append(resolve_source(spec, settings))
        except SourceError as exc:
            failures.append(str(exc))
    return sources, failures


def local_roots(sources: list[Source]) -> list[str]:
    """The roots the files and pdf servers are started with: exactly the local sources."""
    return [s.target for s in sources if s.kind in ("folder", "file", "pdf")]


#: Why a file in a folder was not read that the user should hear of (binaries, ignored files and
#: PDFs read elsewhere are expected, and only listed in the tool's reply).
_FAILED_READS = ("unreadable", "error")
_SHOW_FAILED = 3


def failed_reads(skipped: object) -> list[tuple[str, str]]:
    """The files a read_many reply skipped because reading them failed: (path, why) each."""
    return [
        (str(s.get("path")), str(s.get("detail") or s.get("reason")))
        for s in (skipped if isinstance(skipped, list) else [])
        if isinstance(s, dict) and s.get("reason") in _FAILED_READS
    ]


def failed_reads_notice(spec: str, failed: list[tuple[str, str]]) -> str:
    """One line for the user: which files of a source could not be read, and why."""
    shown = "; ".join(f"{path}: {why}" for path, why in failed[:_SHOW_FAILED])
    if len(failed) > _SHOW_FAILED:
        shown += f"; and {len(failed) - _SHOW_FAILED} more"
    return f"{spec}: {len(failed)} file(s) could not be read and were left out ({shown})"


def source_of(doc: Document, sources: list[Source]) -> str | None:
    """The spec of the source a document came from (local path under it, or its web address)."""
    path = doc.meta.get("path")
    for source in sources:
        if source.kind == "git" and doc.meta.get("repo"):
            from tools.files.git import parse_spec

            if parse_spec(source.target).url == doc.meta["repo"]:
                return source.spec
        elif source.kind in ("folder", "file", "pdf") and path:
            if path == source.target or path.startswith(source.target.rstrip("/") + "/"):
                return source.spec
        elif source.kind in ("url", "pdf_url"):
            page = doc.uri.split("#", 1)[0]
            if page == source.target.split("#", 1)[0]:
                return source.spec
    for source in sources:  # a crawl's other pages: the same site
        if source.kind == "url" and _site(doc.uri) == _site(source.target):
            return source.spec
    return None


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
