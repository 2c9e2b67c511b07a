"""A documentation site on 127.0.0.1 served from files: llms.txt, llms-full.txt, sitemaps, pages."""

from __future__ import annotations

import functools
import gzip
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from evals.suite.site import LoopbackServer


def html(title: str, body: str) -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body><main>{body}</main></body></html>"


class DocsSite(LoopbackServer):
    """Serve a folder of files; `files` maps paths to text (".gz" paths are gzipped)."""

    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.requests: list[str] = []
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                site.requests.append(self.path)

        super().__init__(functools.partial(Handler, directory=str(root)))


LONG = "Acme is a small build tool that reads one configuration file and runs your tasks in order. " * 3

# The start page links nowhere: only the site's own index can lead a crawl to the other pages.
LLMS_SITE = {
    "docs/index.html": html("Acme docs", f"<h1>Acme documentation</h1><p>{LONG}</p>"),
    "docs/llms.txt": (
        "# Acme\n\n> Acme is a build tool.\n\n## Docs\n\n"
        "- [Installing Acme](install.html): how to install it\n"
        "- [Retry policy](retry.md): the retry delay and how it grows\n"
        "- [API reference](/docs/guide/api.html)\n"
        "- [Blog](/blog/news.html): outside the docs folder\n"
        "- [Elsewhere](https://example.org/other): another site\n"
    ),
    "docs/install.html": html("Install", f"<h1>Installing Acme</h1><p>Run pip install acme. {LONG}</p>"),
    "docs/retry.md": (
        "# Retry policy\n\nThe retry delay is configured with retry.delay_seconds in acme.toml; it defaults "
        "to 7 seconds and doubles after every failed attempt.\n"
    ),
    "docs/guide/api.html": html("API", f"<h1>API reference</h1><p>acme.run(task) runs one task. {LONG}</p>"),
    "blog/news.html": html("News", f"<h1>News</h1><p>{LONG}</p>"),
}

SITEMAP_SITE = {
    "robots.txt": "User-agent: *\nAllow: /\nSitemap: /sitemaps/index.xml\n",
    "docs/index.html": html("Acme docs", f"<h1>Acme documentation</h1><p>{LONG}</p>"),
    "sitemaps/index.xml": (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>{base}/sitemaps/docs.xml.gz</loc></sitemap></sitemapindex>"
    ),
    "sitemaps/docs.xml.gz": (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{base}/docs/retry.html</loc></url><url><loc>{base}/docs/logging.html</loc></url>"
        "<url><loc>{base}/shop/cart.html</loc></url></urlset>"
    ),
    "docs/retry.html": html(
        "Retry", f"<h1>Retry policy</h1><p>The retry delay defaults to 7 seconds. {LONG}</p>"
    ),
    "docs/logging.html": html("Logging", f"<h1>Logging</h1><p>Set log.level to debug. {LONG}</p>"),
}

FULL_SITE = {
    "docs/index.html": html("Acme docs", f"<h1>Acme documentation</h1><p>{LONG}</p>"),
    "llms-full.txt": (
        "# Installing Acme\nSource: {base}/docs/install\n\nRun pip install acme.\n\n"
        "# Retry policy\nSource: {base}/docs/retry\n\nThe retry delay defaults to 7 seconds.\n\n"
        "```\n# not a heading inside code\n```\n\n# Logging\n\nSet log.level to debug.\n"
    ),
}


def serve(root: Path, files: dict[str, str]) -> DocsSite:
    """Start a site whose files may name their own address as {base}."""
    site = DocsSite(root, {})
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.replace("{base}", site.base).encode("utf-8")
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return site
