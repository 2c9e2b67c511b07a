"""Which MCP servers a run may use, and how each is started: ours and the configured third-party ones."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.gather.sources import Source, local_roots
from agent.mcp.connection import ServerConfig
from agent.mcp.toolbox import Toolbox
from agent.mcp.trust import TrustStore
from agent.mcp_config import McpServer
from agent.paths import places
from agent.settings import Settings


def third_party_configs(settings: Settings) -> dict[str, ServerConfig]:
    """The enabled third-party servers of Settings.mcp_servers."""
    out: dict[str, ServerConfig] = {}
    for name, entry in settings.mcp_servers.items():
        if not entry.enabled:
            continue
        out[name] = ServerConfig(
            name, command=entry.command or "", args=tuple(entry.args), env=dict(entry.env),
            cwd=str(entry.cwd) if entry.cwd else None, url=entry.url, headers=dict(entry.headers),
            timeout=entry.timeout, entry=entry,
        )  # fmt: skip
    return out


def server_configs(
    settings: Settings, sources: Sequence[Source], *, roots: Sequence[str] | None = None
) -> dict[str, ServerConfig]:
    """The servers a run may need, with command lines built from Settings.

    roots: what the files and pdf servers may read (default: exactly the local sources). The
    web server is configured when a source is a URL, or always when roots are given (a
    long-lived toolbox starts it on first use).
    """
    py = sys.executable
    long_lived = roots is not None
    roots = list(roots) if roots is not None else local_roots(list(sources))
    configs: dict[str, ServerConfig] = {}
    # An internal error in a server: its traceback saved beside forage's own crash logs.
    crashes = ("--log-dir", str(places(settings).logs), *(("--debug",) if settings.debug else ()))
    git: list[str] = []
    if long_lived or any(s.kind == "git" for s in sources):  # read_repo: cached checkouts, host policy
        git = ["--git-cache", str(places(settings).git)]
        for host in settings.allow_hosts:
            git += ["--allow-host", host]
    if roots or git:
        configs["files"] = ServerConfig(
            "files",
            py,
            # compact: forage reads the structured documents, so the text need not repeat them,
            # and bigger replies mean fewer round trips on large folders.
            (
                "-m", "mcp_servers.files", *roots, "--max-file-bytes", str(settings.max_file_bytes),
                "--compact", "--reply-chars", "1000000", *git, *crashes,
            ),
        )  # fmt: skip
    # Both servers that read PDFs get the limits `forage pack` uses in-process (Settings.pdf_limits).
    pdf = settings.pdf_limits()
    limits = ("--deadline", str(pdf.deadline), "--memory-mb", str(pdf.memory_mb))
    if roots:
        env = {"FORAGE_PDF_PASSWORD": settings.password()} if settings.password() else {}
        configs["pdf"] = ServerConfig("pdf", py, ("-m", "mcp_servers.pdf", *roots, *limits, *crashes), env)
    if long_lived or any(s.kind in ("url", "pdf_url") for s in sources):
        args = ["-m", "mcp_servers.web", *(f"--pdf-{a[2:]}" if a.startswith("--") else a for a in limits)]
        args += crashes
        for host in settings.allow_hosts:
            args += ["--allow-host", host]
        if settings.ignore_robots:
            args.append("--ignore-robots")
        if settings.chromium_path:
            args += ["--chromium", settings.chromium_path]
        configs["web"] = ServerConfig("web", py, tuple(args))
    return configs | third_party_configs(settings)


@dataclass
class ServerStatus:
    """One configured third-party server as `forage servers list` shows it."""

    name: str
    entry: McpServer
    status: str  # ok | failed | disabled | needs approval
    tools: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    fingerprints: str = ""
    error: str | None = None
    last_error: str | None = None


async def probe(
    settings: Settings, names: Sequence[str] | None = None, *, accept: bool = False
) -> list[ServerStatus]:
    """Start the configured servers, list and review their tools; with accept, record them as accepted."""
    trust = TrustStore(places(settings).trust)
    configs = third_party_configs(settings)
    wanted = list(names) if names is not None else sorted(settings.mcp_servers)
    out: list[ServerStatus] = []
    async with Toolbox(
        {n: c for n, c in configs.items() if n in wanted}, timeout=settings.call_timeout,
        log_dir=places(settings).logs, trust=trust, record=accept, check_launch=not accept,
    ) as box:  # fmt: skip
        await box.start(set(configs) & set(wanted))
        for name in wanted:
            entry = settings.mcp_servers[name]
            last = trust.record(name).get("last_error")
            running = box.server(name)
            if not entry.enabled or running is None:
                out.append(ServerStatus(name, entry, "disabled", last_error=last))
                continue
            if running.client is None:
                status = "needs approval" if running.task is None else "failed"
                out.append(ServerStatus(name, entry, status, error=running.error, last_error=last))
                continue
            review = running.review
            if accept:
                trust.accept(name, entry, running.prints)
            out.append(
                ServerStatus(
                    name, entry, "ok", tools=sorted(running.prints),
                    blocked=sorted(review.blocked) if review and not accept else [],
                    fingerprints=review.state() if review else "", last_error=last,
                )
            )  # fmt: skip
    return out
