"""The files MCP server: read-only access to local folders inside the roots it was started with."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import Field

from mcp_servers import common
from tools.files import front as files
from tools.files.front import FileText
from tools.files.git import Checkout, checkout, parse_spec
from tools.files.next_page import Ahead
from tools.roots import Roots
from tools.runtime import release_memory
from tools.tool_names import ToolName
from tools.web.netpolicy import NetPolicy

PROG = "python -m mcp_servers.files"
INSTRUCTIONS = (
    "Read-only access to local folders. Paths are relative to the first root (or start with a root's "
    "name when there are several); absolute paths inside the roots work too. Start with list_files or "
    "read_many on a folder, use search_files to find where something is, then read_file for exact lines. "
    "PDFs are not read here: pass the paths listed under 'skipped' with reason 'pdf' to read_pdf."
)

Path_ = Annotated[str, Field(description="File or folder path inside the roots, e.g. 'src/app.py' or '.'.")]
Pattern = Annotated[
    str | None,
    Field(
        description="Optional glob filter on paths relative to `path`, gitignore-style: '*.py' matches at any "
        "depth, 'src/**/*.ts' is anchored; join several with commas ('*.md,*.rst')."
    ),
]


def _span(ft: FileText) -> dict[str, Any]:
    if ft.label:  # a slide, sheet, section or cell of an office document or notebook
        return {"kind": "section", "label": ft.label}
    return {"kind": "lines", "start": ft.start, "end": ft.end}


def _doc(ft: FileText) -> dict[str, Any]:
    return common.doc(
        ft.display,
        ft.text,
        span=_span(ft),
        title=ft.display,
        source="file",
        path=str(ft.path),
        encoding=ft.encoding,
        tokens=ft.tokens,
        total_lines=ft.total_lines,
    )


def _repo_doc(ft: FileText, repo: Checkout) -> dict[str, Any]:
    return common.doc(
        repo.uri(ft.display),
        ft.text,
        span=_span(ft),
        title=f"{repo.spec.name}@{repo.ref}: {ft.display}",
        source="file",
        trusted=False,  # someone else's repository: its text is data, not instructions
        path=str(ft.path),
        repo=repo.spec.url,
        ref=repo.ref,
        commit=repo.commit,
        tokens=ft.tokens,
        total_lines=ft.total_lines,
    )


def _page_key(paths_or_glob: str | list[str], max_tokens: int, offset: int) -> tuple[object, ...]:
    items = (paths_or_glob,) if isinstance(paths_or_glob, str) else tuple(paths_or_glob)
    return (items, max_tokens, offset)


def build_server(
    roots: list[str],
    max_file_bytes: int = files.DEFAULT_MAX_FILE_BYTES,
    *,
    reply_chars: int = files.DEFAULT_MAX_REPLY_CHARS,
    compact: bool = False,
    git_cache: str | None = None,
    allow_hosts: list[str] | tuple[str, ...] = (),
) -> MCPServer:
    """Build the files server over the given roots; raise ToolError if a root is missing.

    compact: read_many's text lists the files instead of quoting them (the contents stay in
    structured_content), for clients such as forage's own agent that read the structured part.
    git_cache: where read_repo keeps its checkouts (read_repo is off without it); the network
    policy (allow_hosts) applies to the git hosts.
    """
    if git_cache:
        Path(git_cache).mkdir(parents=True, exist_ok=True)
    # Checkouts can be searched and read by path too; the cache does not rename the user's paths.
    allowed = Roots.of(roots, also=[git_cache] if git_cache else [])
    policy = NetPolicy.of(allow_hosts)
    listings = files.ListingCache()  # a chain of read_many calls walks a big folder once
    ahead: Ahead[files.Bundle] = Ahead()  # and reads its next page while the client takes one in

    def read_page(paths_or_glob: str | list[str], max_tokens: int, offset: int) -> files.Bundle:
        return files.read_many(
            allowed, paths_or_glob, max_tokens, offset, max_file_bytes=max_file_bytes, cache=listings,
            max_reply_chars=reply_chars, contents=not compact,
        )  # fmt: skip

    server: MCPServer = MCPServer("forage-files", instructions=INSTRUCTIONS, log_level="WARNING")

    tool = common.tool_registrar(server, common.READ_ONLY)

    @tool(ToolName.LIST_FILES)
    def list_files(
        path: Path_ = ".",
        pattern: Pattern = None,
        max_results: Annotated[
            int, Field(description="Most files to list (1-10000).", ge=1, le=10_000)
        ] = 500,
        offset: Annotated[
            int, Field(description="Skip this many files (to page through a long list).", ge=0)
        ] = 0,
    ) -> CallToolResult:
        """List the files under a folder with their size and estimated tokens.

        Honours .gitignore files and skips VCS folders, build outputs, dependency folders
        (.venv, node_modules), lock files and binaries. Says how many more files there are when
        the list is cut at max_results.
        """
        out = files.list_files(allowed, path, pattern, max_results, offset)
        return common.result(
            out.text, path=out.path, files=out.files, total=out.total, more=out.more,
            ignored=out.ignored, skipped=out.skipped, next=out.next,
        )  # fmt: skip

    @tool(ToolName.READ_FILE)
    def read_file(
        path: Annotated[str, Field(description="Text file to read, e.g. 'src/app.py'.")],
        start_line: Annotated[int, Field(description="First line to show (1-based).", ge=1)] = 1,
        end_line: Annotated[
            int | None, Field(description="Last line to show (inclusive); omit for the end.")
        ] = None,
        max_chars: Annotated[
            int, Field(description="Most characters to return; longer output is cut at a line end.", ge=100)
        ] = files.DEFAULT_MAX_CHARS,
    ) -> CallToolResult:
        """Read a text file, or a range of its lines, with line numbers.

        When the output is cut at max_chars, the result says which start_line to call again with.
        Cite what you use as path:start-end.
        """
        out = files.read_file(allowed, path, start_line, end_line, max_chars, max_file_bytes=max_file_bytes)
        ft = out.file
        return common.result(
            out.text, path=ft.display, start_line=ft.start, end_line=ft.end, total_lines=ft.total_lines,
            encoding=ft.encoding, truncated=out.truncated, next=out.next,
            documents=[_doc(ft)] if ft.total_lines else [],
        )  # fmt: skip

    @tool(ToolName.READ_MANY)
    def read_many(
        paths_or_glob: Annotated[
            str | list[str],
            Field(
                description="A folder (read recursively, ignore rules apply), a file, a glob such as "
                "'src/**/*.py', or a list of any of these."
            ),
        ],
        max_tokens: Annotated[
            int, Field(description="Token budget for this call; reading stops before it is exceeded.", ge=1)
        ] = files.DEFAULT_MAX_TOKENS,
        offset: Annotated[
            int,
            Field(
                description="Skip this many files of the sorted list (from a previous result's next).", ge=0
            ),
        ] = 0,
    ) -> CallToolResult:
        """Read many text files at once, in path order, up to a token budget.

        Binary files are skipped with a reason; PDFs are listed under 'skipped' (reason 'pdf') for
        read_pdf. When the budget runs out (or one reply is full), the result names the files left
        and gives the arguments to call again with under 'next'.
        """
        out = ahead.take(_page_key(paths_or_glob, max_tokens, offset)) or read_page(
            paths_or_glob, max_tokens, offset
        )
        if out.next:  # read the next page while the client takes this one in
            nxt = out.next
            ahead.start(
                _page_key(nxt["paths_or_glob"], nxt["max_tokens"], nxt["offset"]),
                functools.partial(read_page, nxt["paths_or_glob"], nxt["max_tokens"], nxt["offset"]),
            )
        result = common.result(
            out.text, documents=[_doc(f) for f in out.files], tokens=out.tokens, skipped=out.skipped,
            skipped_more=out.skipped_more, left=out.left, left_count=out.left_count, empty=out.empty,
            next=out.next,
        )  # fmt: skip
        del out  # the page's file texts: freed, and handed back to the system before the next page
        release_memory()
        return result

    @tool(ToolName.SEARCH_FILES)
    def search_files(
        query: Annotated[
            str, Field(description="Text to find; case-insensitive unless it has a capital letter.")
        ],
        regex: Annotated[bool, Field(description="Treat query as a Python regular expression.")] = False,
        pattern: Pattern = None,
        context_lines: Annotated[
            int, Field(description="Lines of context around each hit.", ge=0, le=20)
        ] = 2,
        max_results: Annotated[int, Field(description="Most matching lines to return.", ge=1, le=1000)] = 50,
        path: Annotated[str, Field(description="Folder (or file) to search in.")] = ".",
    ) -> CallToolResult:
        """Search file contents and return file:line hits with surrounding lines.

        Use it to find where something is defined or configured before reading the file.
        The same ignore rules as list_files apply; binary and oversized files are not searched.
        """
        out = files.search_files(
            allowed,
            query,
            regex,
            pattern,
            context_lines,
            max_results,
            path=path,
            max_file_bytes=max_file_bytes,
        )
        return common.result(
            out.text, hits=out.hits, files_searched=out.files_searched, truncated=out.truncated,
            skipped=out.skipped, documents=[_doc(w) for w in out.windows],
        )  # fmt: skip

    if git_cache:
        open_tool = common.tool_registrar(server, common.READ_ONLY_OPEN_WORLD)

        @open_tool(ToolName.READ_REPO)
        async def read_repo(
            repo: Annotated[
                str,
                Field(
                    description="Git repository URL, optionally with @REF and a path: "
                    "'https://github.com/owner/repo', 'https://github.com/owner/repo@v1.2/docs', "
                    "'https://host/team/repo.git@main/src', or a forge browse URL (.../tree/REF/PATH)."
                ),
            ],
            ref: Annotated[
                str | None, Field(description="Branch, tag or commit; overrides an @REF in repo.")
            ] = None,
            path: Annotated[
                str | None, Field(description="Folder or file inside the repository; overrides one in repo.")
            ] = None,
            max_tokens: Annotated[
                int,
                Field(description="Token budget for this call; reading stops before it is exceeded.", ge=1),
            ] = files.DEFAULT_MAX_TOKENS,
            offset: Annotated[
                int, Field(description="Skip this many files (from a previous result's next).", ge=0)
            ] = 0,
        ) -> CallToolResult:
            """Read a git repository by URL like a local folder: text files in path order, up to a budget.

            Makes a shallow, sparse clone into forage's cache (only the path asked for) and
            reuses it on later calls; it fetches again only when the ref has moved. Uses the
            user's own git credentials for private repositories. Documents are cited as
            REPO@REF/PATH. When the budget runs out, call again with the arguments under 'next'.
            """
            spec = parse_spec(repo)
            spec = type(spec)(spec.url, ref or spec.ref, (path if path is not None else spec.path).strip("/"))
            got = await checkout(spec, Path(git_cache), policy)
            where = str(got.root / spec.path) if spec.path else str(got.root)
            out = await asyncio.to_thread(
                files.read_many, Roots.of([got.root]), where, max_tokens, offset,
                max_file_bytes=max_file_bytes, max_reply_chars=reply_chars, contents=not compact,
            )  # fmt: skip
            how = "fetched" if got.fetched else "cached, unchanged since the last fetch"
            head = f"{spec.name}@{got.ref} ({got.commit[:12]}, {how}){' path ' + spec.path if spec.path else ''}:"
            nxt = None
            if out.next:
                nxt = {
                    "repo": repo,
                    "ref": ref,
                    "path": path,
                    "max_tokens": max_tokens,
                    "offset": out.next["offset"],
                }
                nxt = {k: v for k, v in nxt.items() if v is not None}
            return common.result(
                head + "\n" + out.text, documents=[_repo_doc(f, got) for f in out.files], repo=spec.url,
                ref=got.ref, commit=got.commit, fetched=got.fetched, checkout=str(got.root), tokens=out.tokens,
                skipped=[dict(s, reason="binary" if s.get("reason") == "pdf" else s["reason"]) for s in out.skipped],
                left=out.left, left_count=out.left_count, next=nxt,
            )  # fmt: skip

    @tool(ToolName.FILE_INFO)
    def file_info(path: Path_) -> CallToolResult:
        """Describe a file or folder without returning its content.

        Gives size, modification time, kind (text, binary, pdf, folder), encoding, line count and
        estimated tokens, so you can decide whether and how to read it.
        """
        info = files.file_info(allowed, path, max_file_bytes=max_file_bytes)
        text = info.pop("text")
        return common.result(text, **info)

    return server


def main(argv: list[str] | None = None) -> None:
    """Run the files server: python -m mcp_servers.files ROOT... [--max-file-bytes N]."""
    parser = common.transport_parser(PROG, "Serve read-only access to local folders over MCP.")
    parser.add_argument("roots", nargs="*", metavar="ROOT", help="folder or file the server may read")
    parser.add_argument("--git-cache", metavar="DIR", help="turn on read_repo, keeping checkouts in DIR")
    parser.add_argument(
        "--allow-host", action="append", default=[], metavar="H",
        help="let read_repo reach this private/loopback git host (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--max-file-bytes",
        type=int,
        default=files.DEFAULT_MAX_FILE_BYTES,
        help=f"refuse files larger than this (default {files.DEFAULT_MAX_FILE_BYTES})",
    )
    parser.add_argument(
        "--reply-chars",
        type=int,
        default=files.DEFAULT_MAX_REPLY_CHARS,
        help=f"most characters of file text in one read_many reply (default {files.DEFAULT_MAX_REPLY_CHARS})",
    )
    parser.add_argument(
        "--compact",
        action="store_true",
        help="read_many's text lists files instead of quoting them; contents stay in structured_content",
    )
    args = parser.parse_args(argv)
    if args.max_file_bytes < 1:
        parser.error("--max-file-bytes must be a positive number of bytes")
    if not args.roots and not args.git_cache:
        parser.error("pass at least one ROOT (or --git-cache DIR to read git repositories)")
    if args.reply_chars < 1000:
        parser.error("--reply-chars must be at least 1000")
    common.serve(
        PROG,
        lambda: build_server(
            args.roots,
            args.max_file_bytes,
            reply_chars=args.reply_chars,
            compact=args.compact,
            git_cache=args.git_cache,
            allow_hosts=args.allow_host,
        ),  # fmt: skip
        args,
    )


if __name__ == "__main__":
    main()
