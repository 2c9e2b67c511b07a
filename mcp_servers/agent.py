"""forage as an MCP server (`forage mcp`): editors ask questions or pack context through it.

Local sources must lie inside the roots the server was started with (default: the current
folder); URLs follow the network policy. The tools run the same agent as `forage ask` and
`forage pack`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from agent.errors import AgentError
from agent.settings import Settings
from mcp_servers import common

PROG = "forage mcp"
INSTRUCTIONS = (
    "forage gathers context from folders, files, PDFs and web pages and answers with citations. "
    "Use ask for an answer, pack for the packed context itself (to read or to pass on)."
)
# Reads local files and the web, writes nothing: read-only, open world.
READS = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)

Sources = Annotated[
    list[str],
    Field(
        description="Where to look: folders, files or PDFs inside the server's roots, or http(s) URLs.",
        min_length=1,
    ),
]


def build_server(settings: Settings) -> MCPServer:
    """Build the forage server; settings (roots, network policy, model) are fixed at start."""
    server: MCPServer = MCPServer("forage", instructions=INSTRUCTIONS, log_level="WARNING")

    tool = common.tool_registrar(server, READS)

    @tool
    async def ask(
        question: Annotated[str, Field(description="The question to answer from the sources.", min_length=1)],
        sources: Sources,
    ) -> CallToolResult:
        """Answer a question from the given sources, with citations like [2] path:40-58.

        forage reads the sources (files, folders, PDFs, web pages), packs what it found and
        answers from it. Offline it quotes the best passages instead of writing prose.
        """
        from agent.models import make_model
        from agent.session import run

        try:
            model, _ = make_model(settings)
            try:
                result = await run(question, sources, settings, model)
            finally:
                close = getattr(model, "close", None)
                if close:
                    close()
        except AgentError as exc:
            return common.error_result(exc)
        if result.documents == 0:
            return common.error_result(AgentError("nothing could be gathered: " + "; ".join(result.failures)))
        answer = result.answer.text if result.answer else ""
        if result.answer and result.answer.unanswerable:
            answer = f"The sources do not answer this question: {result.answer.missing}"
        cites = "\n".join(c.render() for c in (result.answer.citations if result.answer else []))
        notes = "\n".join(f"- {f}" for f in result.failures)
        text = (
            answer
            + (f"\n\nSources:\n{cites}" if cites else "")
            + (f"\n\nNot used:\n{notes}" if notes else "")
        )
        return common.result(text, **result.to_json())

    @tool
    async def pack(
        sources: Sources,
        query: Annotated[
            str, Field(description="What the context is for; ranks what is kept under a budget.")
        ] = "",
        budget: Annotated[int | None, Field(description="Hard token budget for the pack.", gt=0)] = None,
        format: Annotated[
            Literal["markdown", "xml", "json"], Field(description="Output format.")
        ] = "markdown",  # noqa: A002
    ) -> CallToolResult:
        """Pack the sources into one ordered, cited context: tagged blocks, then a manifest.

        Each block carries its URI and span (lines, pages or section); the manifest lists the
        URI, sha256, span and tokens of every block, and what was left out.
        """
        from agent.direct import pack_direct
        from agent.session import run

        local = settings.model_copy(update={"budget": budget} if budget else {})
        try:
            result = pack_direct(query, sources, local, fmt=format, unbounded=budget is None)
            if result is None:
                from agent.models.extractive import ExtractiveModel

                result = await run(
                    query, sources, local, ExtractiveModel(), want_answer=False, unbounded=budget is None,
                    pack_format=format,
                )  # fmt: skip
        except AgentError as exc:
            return common.error_result(exc)
        if result.pack is None or result.documents == 0:
            return common.error_result(AgentError("nothing could be gathered: " + "; ".join(result.failures)))
        from cli.render import pack_file_parts

        manifest = [b.model_dump(exclude_none=True) for b in result.pack.manifest]
        return common.result(
            "".join(pack_file_parts(result.pack, format)), manifest=manifest, tokens=result.pack.tokens,
            omitted=[o.model_dump() for o in result.pack.omitted], failures=result.failures,
        )  # fmt: skip

    return server


def main(argv: list[str] | None = None) -> None:
    """Run forage as an MCP server: forage mcp [ROOT...] [--allow-host H] [--transport http]."""
    from agent.settings import load_settings

    parser = common.transport_parser(PROG, "Serve forage (ask, pack) over MCP.")
    parser.add_argument(
        "roots", nargs="*", metavar="ROOT", help="folders local sources must lie in (default: .)"
    )
    parser.add_argument("--allow-host", action="append", default=[], help="allow a private/loopback host")
    parser.add_argument("--model", help="auto | extractive | a Gemini model name")
    args = parser.parse_args(argv)
    roots = [Path(r).expanduser().resolve() for r in (args.roots or ["."])]
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        parser.exit(1, f"{PROG}: root {missing[0]!r} is not a folder; pass existing folders\n")
    try:
        flags: dict[str, Any] = {"roots": roots, "allow_hosts": args.allow_host or None, "model": args.model}
        settings = load_settings(flags)
    except AgentError as exc:
        parser.exit(1, f"{PROG}: {exc}\n")
    try:
        common.run(build_server(settings), args.transport, args.host, args.port)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
