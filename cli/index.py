"""`forage index ./corpus`: chunk, embed and store a corpus ahead of time, so questions start fast.

Register with `app.command("index")(index)`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import AgentError
from agent.state import Document, Span
from tools.errors import ToolError

EXIT_OK, EXIT_USER = 0, 1
_READ_ALL = 1_000_000_000  # read_many's token cap: the index wants every file


def _doc_id(uri: str, span: Span) -> str:
    from agent.nodes import doc_id

    return doc_id(uri, span)


def gather(paths: list[Path], max_file_bytes: int, password: str | None) -> tuple[list[Document], list[str]]:
    """Read text files (as the files server does) and PDFs (one document per page) under paths."""
    from tools.files import read_many
    from tools.pdf import extract_pdf_bytes
    from tools.safety import Roots

    absolute = [p.expanduser().resolve() for p in paths]
    roots = Roots.of(absolute)
    bundle = read_many(roots, [str(p) for p in absolute], max_tokens=_READ_ALL, max_file_bytes=max_file_bytes)
    docs: list[Document] = []
    problems: list[str] = []
    for ft in bundle.files:
        span = Span(kind="lines", start=ft.start, end=ft.end)
        docs.append(
            Document(
                id=_doc_id(ft.display, span),
                uri=ft.display,
                text=ft.text,
                hash=hashlib.sha256(ft.text.encode("utf-8", "surrogatepass")).hexdigest(),
                span=span,
                title=ft.display,
                tokens=ft.tokens,
            )
        )
    for item in bundle.skipped:
        if item.get("reason") != "pdf":
            problems.append(f"{item.get('path')}: {item.get('reason')} {item.get('detail', '')}".rstrip())
            continue
        path = Path(item["path"])
        try:
            pdf = extract_pdf_bytes(path.read_bytes(), name=path.name, password=password)
        except (ToolError, OSError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        for page in pdf.pages:
            if page.status != "text" or not page.text.strip():
                continue
            span = Span(kind="pages", start=page.number, end=page.number)
            uri = str(path)
            docs.append(
                Document(
                    id=_doc_id(uri, span),
                    uri=uri,
                    text=page.text,
                    hash=hashlib.sha256(page.text.encode("utf-8", "surrogatepass")).hexdigest(),
                    span=span,
                    title=path.name,
                    source="pdf",
                )
            )
    return docs, problems


def index(
    paths: Annotated[list[Path], typer.Argument(help="Folders or files to index.", show_default=False)],
    chroma_url: Annotated[
        str | None,
        typer.Option(
            "--chroma-url", help="Use a Chroma server (http://host:port) instead of the embedded index."
        ),
    ] = None,
    embedding: Annotated[str | None, typer.Option("--embedding", help="auto | local | gemini | none")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where caches and the embedded index live.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Pre-build the retrieval index for a corpus (chunks, embeddings, Chroma)."""
    from agent.retrieval import build_index
    from agent.settings import load_settings

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False, soft_wrap=True)
    try:
        flags = {"chroma_url": chroma_url, "embedding": embedding, "data_dir": data_dir}
        settings = load_settings({k: v for k, v in flags.items() if v is not None})
        if not quiet:
            err.print(f"reading {', '.join(escape(str(p)) for p in paths)} …")
        docs, problems = gather(paths, settings.max_file_bytes, settings.password())
        for line in problems:
            err.print(f"[yellow]skipped[/yellow] {escape(line)}")
        if not docs:
            err.print("[red]Nothing to index:[/red] no readable text files or PDFs under the given paths.")
            raise typer.Exit(EXIT_USER)
        if not quiet:
            err.print(f"indexing {len(docs)} documents ({sum(d.tokens for d in docs):,} tokens) …")
        stats = build_index(docs, settings)
    except (AgentError, ToolError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_USER) from None
    if stats.notice:
        err.print(f"[yellow]note:[/yellow] {escape(stats.notice)}")
    if stats.added == 0 and stats.store.startswith("(none"):
        out.print(
            f"{stats.documents} documents, {stats.chunks} chunks: BM25 ranks them at question time; nothing to store."
        )
        raise typer.Exit(EXIT_OK)
    out.print(
        f"indexed {stats.documents} documents: {stats.chunks} chunks, {stats.embedded} embedded now, "
        f"{stats.added} added, {stats.chunks - stats.added} already indexed · {escape(stats.store)} · {stats.seconds:.1f}s"
    )
    raise typer.Exit(EXIT_OK)
