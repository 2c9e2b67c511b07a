"""A real local web site on 127.0.0.1 for the web tests and benchmark, and a counting listener.

``SiteServer`` serves static pages, a JS-built page, an article with boilerplate, a table,
redirect chains, a redirect to a forbidden address, robots.txt, a slow drip, a 200 MB body
(generated chunk by chunk, never held in memory), an endless scroll and a small site to crawl.
``HitCounter`` is a bare TCP listener on 127.0.0.2 (which the tests do not allow) that counts
accepted connections, so a test can assert that nothing reached a forbidden address.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from evals.suite.site import LoopbackServer

HUGE_BYTES = 200 * 1024 * 1024
CRAWL_PAGES = 12

ARTICLE = """<!doctype html><html><head><title>Configuring Acme</title></head><body>
<header><nav><a href="/">Home</a> | <a href="/docs/index.html">Docs</a> | <a href="/blog/">Blog</a></nav></header>
<div class="cookie-banner" id="cookie-consent">We use cookies to improve your experience. Accept all cookies?
<button>Accept</button></div>
<main><article>
<h1>Configuring Acme</h1>
<p>Acme reads its settings from a TOML file called acme.toml in the project folder. Every option
has a default, so an empty file is a valid configuration for most projects.</p>
<h2>Retry policy</h2>
<p>The retry delay is configured with <code>retry.delay_seconds</code>. It defaults to 7 seconds and
doubles after each failed attempt, up to <code>retry.max_delay</code>.</p>
<pre><code>[retry]
delay_seconds = 7
max_delay = 120</code></pre>
<h2>Logging</h2>
<ul><li>Set <code>log.level</code> to debug for verbose output.</li><li>Logs go to stderr by default.</li></ul>
<p>See <a href="/table.html">the option table</a> for every setting.</p>
</article></main>
<aside>Related posts: Ten tips for faster builds. Subscribe to our newsletter!</aside>
<footer>Copyright 2024 Acme Corporation. All rights reserved. Privacy policy. Terms of service.</footer>
</body></html>"""

TABLE = """<!doctype html><html><head><title>Acme options</title></head><body><main>
<h1>Option reference</h1><p>Every option Acme understands, with its default value and meaning.</p>
<table><thead><tr><th>Option</th><th>Default</th><th>Meaning</th></tr></thead><tbody>
<tr><td>retry.delay_seconds</td><td>7</td><td>First retry delay</td></tr>
<tr><td>retry.max_delay</td><td>120</td><td>Upper bound on the delay</td></tr>
<tr><td>log.level</td><td>info</td><td>Verbosity of the log output</td></tr>
</tbody></table></main></body></html>"""

JS_PAGE = """<!doctype html><html><head><title>Acme app</title></head><body><div id="root"></div>
<noscript>You need to enable JavaScript to run this app.</noscript>
<script src="/app.js"></script></body></html>"""

APP_JS = """fetch('/api/facts.json').then(r => r.json()).then(data => {
  const root = document.getElementById('root');
  root.innerHTML = '<h1>Rendered facts</h1>' + data.facts.map(f => '<p>' + f + '</p>').join('');
});"""

FACTS = (
    '{"facts": ["The rendered answer is forty-two, and it only exists after JavaScript runs in the page.", '
    '"Acme renders its dashboard on the client side, so a static fetch sees only an empty shell element.", '
    '"Client-side rendering needs a browser: forage uses the system Chromium through Playwright for it."]}'
)

SCROLL_PAGE = """<!doctype html><html><head><title>Endless feed</title></head><body>
<h1>Endless feed</h1><div id="feed"></div><script>
let n = 0;
function more() { return fetch('/api/more?n=' + (n++)).then(r => r.text()).then(t => {
  const d = document.createElement('div'); d.style.height = '2000px'; d.innerHTML = '<p>' + t + '</p>';
  document.getElementById('feed').appendChild(d); }); }
more();
window.addEventListener('scroll', () => {
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 100) more(); });
</script></body></html>"""


def _pdf_bytes() -> bytes:
    """A real two-page PDF (fpdf2), so a PDF URL can be read page by page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in (
        "Acme white paper. Introduction to the design.",
        "The learning rate was 0.0003 in every run.",
    ):
        pdf.add_page()
        pdf.multi_cell(0, 5, text)
    return bytes(pdf.output())


PDF_BYTES = _pdf_bytes()


def bench_page(i: int) -> str:
    """A realistic documentation page (~12 KB: nav, article, sidebar, footer) for the benchmark."""
    paragraphs = "".join(
        f"<h2>Topic {i}.{k}</h2><p>Section {k} of page {i} explains how the client retries requests, "
        "how the delay grows after each failure, and which settings in acme.toml change it. "
        "It gives an example, warns about the default timeout, and links to "
        f'<a href="/bench/{(i + k) % 50}.html">a related page</a> for the details.</p>'
        f"<pre><code>retry.delay_seconds = {k}\nretry.max_delay = {k * 10}</code></pre>"
        for k in range(12)
    )
    nav = "".join(f'<li><a href="/bench/{n}.html">Page {n}</a></li>' for n in range(30))
    return (
        f"<!doctype html><html><head><title>Bench page {i}</title></head><body><nav><ul>{nav}</ul></nav>"
        f"<main><article><h1>Bench page {i}</h1>{paragraphs}</article></main>"
        "<aside>Related: newsletter, events, careers.</aside><footer>Copyright Acme. Privacy. Terms.</footer>"
        "</body></html>"
    )


def crawl_page(i: int) -> str:
    """A page of the crawlable docs site; page i links to 2i+1 and 2i+2 (a binary tree)."""
    kids = [k for k in (2 * i + 1, 2 * i + 2) if k < CRAWL_PAGES]
    links = "".join(f'<li><a href="/site/p{k}.html">Page {k}</a></li>' for k in kids)
    return (
        f"<!doctype html><html><head><title>Site page {i}</title></head><body><main><h1>Site page {i}</h1>"
        f"<p>This is page number {i} of the documentation site. It explains topic {i} in enough words "
        f"for the extractor to keep it as main content, including the special token topic-{i}-token.</p>"
        f'<ul>{links}<li><a href="/private/secret.html">Secret</a></li>'
        f'<li><a href="http://localhost:{{port}}/site/p0.html">Other host</a></li>'
        f'<li><a href="/image.png">Image</a></li></ul></main></body></html>'
    )


class SiteServer(LoopbackServer):
    """A threaded HTTP server on 127.0.0.1 serving the test site; records every request."""

    def __init__(self, forbidden_port: int, *, delay: float = 0.0) -> None:
        self.forbidden_port = forbidden_port
        self.delay = delay
        self.requests: list[str] = []
        self.hosts: list[str] = []
        self.huge_sent = 0
        self.inflight = 0
        self.max_inflight = 0
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def paths(self, prefix: str = "") -> list[str]:
        with self._lock:
            return [p for p in self.requests if p.startswith(prefix)]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # header and body go out in separate writes

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                with site._lock:
                    site.requests.append(self.path)
                    site.hosts.append(self.headers.get("host", ""))
                    site.inflight += 1
                    site.max_inflight = max(site.max_inflight, site.inflight)
                try:
                    if site.delay:
                        time.sleep(site.delay)
                    self.route()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                finally:
                    with site._lock:
                        site.inflight -= 1

            def send(
                self, body: str | bytes, ctype: str = "text/html; charset=utf-8", status: int = 200
            ) -> None:
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.send_header("etag", f'"{hash(data) & 0xFFFFFFFF:x}"')
                self.end_headers()
                self.wfile.write(data)

            def redirect(self, location: str, status: int = 302) -> None:
                self.send_response(status)
                self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()

            def route(self) -> None:
                url = urlsplit(self.path)
                path, query = url.path, parse_qs(url.query)
                forbidden = f"http://127.0.0.2:{site.forbidden_port}"
                if path == "/robots.txt":
                    self.send("User-agent: *\nDisallow: /private/\n", "text/plain")
                elif path == "/article.html":
                    self.send(ARTICLE)
                elif path == "/table.html":
                    self.send(TABLE)
                elif path == "/js.html":
                    self.send(JS_PAGE)
                elif path == "/app.js":
                    self.send(APP_JS, "application/javascript")
                elif path == "/api/facts.json":
                    self.send(FACTS, "application/json")
                elif path == "/scroll.html":
                    self.send(SCROLL_PAGE)
                elif path == "/api/more":
                    n = query.get("n", ["0"])[0]
                    self.send(
                        f"Feed item {n}: more words appear as the reader scrolls down the page.", "text/plain"
                    )
                elif path.startswith("/static/"):
                    self.send(
                        crawl_page(int(path.rsplit("/", 1)[-1].split(".")[0] or 0)).replace(
                            "{port}", str(site.port)
                        )
                    )
                elif path.startswith("/bench/"):
                    self.send(bench_page(int(path.rsplit("/", 1)[-1].split(".")[0])))
                elif path.startswith("/site/p"):
                    i = int(path[len("/site/p") :].split(".")[0])
                    self.send(crawl_page(i).replace("{port}", str(site.port)))
                elif path.startswith("/private/"):
                    self.send("<html><body><p>secret</p></body></html>")
                elif path.startswith("/redirect/"):
                    n = int(path.rsplit("/", 1)[-1])
                    self.redirect("/article.html" if n == 0 else f"/redirect/{n - 1}")
                elif path == "/loop":
                    self.redirect("/loop")
                elif path == "/to-forbidden":
                    self.redirect(f"{forbidden}/secret")
                elif path == "/to-metadata":
                    self.redirect("http://169.254.169.254/latest/meta-data/")
                elif path == "/to-file":
                    self.redirect("file:///etc/passwd")
                elif path == "/subresources.html":
                    self.send(
                        f"""<html><head><title>Leaky</title><link rel="preconnect" href="{forbidden}">
<link rel="icon" href="{forbidden}/favicon.ico"><link rel="stylesheet" href="{forbidden}/style.css">
<script src="{forbidden}/evil.js"></script></head><body><h1>Leaky page</h1><p id="out">waiting</p>
<img src="{forbidden}/pixel.png"><iframe src="{forbidden}/frame.html"></iframe>
<script>fetch("{forbidden}/xhr").catch(() => {{}}); try {{ new WebSocket("ws://127.0.0.2:{site.forbidden_port}/ws"); }} catch (e) {{}}
fetch("/redirect-sub").then(r => r.text()).then(t => document.getElementById("out").textContent = t).catch(() => {{}});
navigator.sendBeacon("{forbidden}/beacon", "x");</script></body></html>"""
                    )
                elif path == "/js-navigate.html":
                    self.send(
                        f'<html><body><p>leaving</p><script>location.href = "{forbidden}/nav";</script></body></html>'
                    )
                elif path == "/redirect-sub":
                    self.redirect(f"{forbidden}/via-redirect")
                elif path == "/doc.pdf":
                    self.send(PDF_BYTES, "application/pdf")
                elif path == "/download":
                    self.send(PDF_BYTES, "application/octet-stream")
                elif path == "/image.png":
                    self.send(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png")
                elif path == "/plain.txt":
                    self.send("Plain text notes.\nSecond line.", "text/plain; charset=utf-8")
                elif path == "/slow":
                    self.drip()
                elif path == "/huge":
                    self.huge(declare_length=True)
                elif path == "/huge-stream":
                    self.huge(declare_length=False)
                elif path == "/missing":
                    self.send("<html><body>gone</body></html>", status=404)
                else:
                    self.send("<html><body><p>not found</p></body></html>", status=404)

            def drip(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html><body><p>")
                for _ in range(600):  # a byte every 0.1 s: 60 s if nobody hangs up
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)

            def huge(self, declare_length: bool) -> None:
                chunk = b"<p>" + b"a" * (64 * 1024 - 8) + b"</p>\n"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                if declare_length:
                    self.send_header("content-length", str(HUGE_BYTES))
                else:  # body delimited by closing the connection: the client must count bytes
                    self.send_header("connection", "close")
                    self.close_connection = True
                self.end_headers()
                sent = 0
                while sent < HUGE_BYTES:
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    site.huge_sent = sent

        return Handler


class HitCounter:
    """A TCP listener on a forbidden loopback address that counts every connection it accepts."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> HitCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        # shutdown() wakes the blocked accept(); ENOTCONN on a never-connected socket is expected.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()
