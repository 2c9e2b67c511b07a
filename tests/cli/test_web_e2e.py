"""End to end: `forage ask --crawl` over a local documentation site cites the right page."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.cli.test_cli import forage

pytestmark = pytest.mark.slow

PAGES = {
    "index.html": "<h1>Acme docs</h1><p>Welcome to the Acme documentation. Start with installation.</p>"
    '<ul><li><a href="install.html">Install</a></li><li><a href="guide/config.html">Configuration</a></li>'
    '<li><a href="faq.html">FAQ</a></li></ul>',
    "install.html": "<h1>Installing Acme</h1><p>Install Acme with pip install acme. It needs Python 3.11 "
    'or newer and works on Linux, macOS and Windows.</p><p><a href="guide/config.html">Next: configure</a></p>',
    "guide/config.html": "<h1>Configuring Acme</h1><p>Acme reads acme.toml from the project folder.</p>"
    "<h2>Retry policy</h2><p>The retry delay is configured with retry.delay_seconds in acme.toml; it "
    "defaults to 7 seconds and doubles after every failed attempt.</p>"
    "<h2>Logging</h2><p>Set log.level to debug for verbose output.</p>",
    "faq.html": "<h1>FAQ</h1><p>Is Acme free? Yes, Acme is free software under the MIT licence. "
    "Does Acme collect telemetry? No, it never phones home.</p>",
}


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    for name, body in PAGES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"<!doctype html><html><head><title>{name}</title></head><body><main>{body}</main></body></html>"
        )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_ask_crawl_cites_the_page_that_answers(site, tmp_path):
    res = forage(
        "ask", "Where is the retry delay configured?", f"{site}/index.html",
        "--crawl", "--max-pages", "10", "--allow-host", "127.0.0.1", "--json", tmp_path=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    import json

    data = json.loads(res.stdout)
    assert data["history"][0]["tool"] == "crawl_site"
    uris = {b["uri"].split("#")[0] for b in data["manifest"]}
    assert f"{site}/guide/config.html" in uris and f"{site}/faq.html" in uris
    assert all(not b["trusted"] for b in data["manifest"])  # web content is packed as untrusted
    first = data["citations"][0]
    assert first["uri"].startswith(f"{site}/guide/config.html")
    assert "retry.delay_seconds" in data["answer"]


def test_loopback_is_refused_without_allow_host(site, tmp_path):
    res = forage("ask", "anything?", f"{site}/index.html", tmp_path=tmp_path)
    assert res.returncode == 1
    assert "127.0.0.1" in res.stderr and "allow-host" in res.stderr


def test_every_window_of_a_long_page_is_packed(tmp_path):
    from tests.cli.gated_site import GatedSite, page

    long = page("Guide", "The zebra-quartz setting controls the retry delay of the uploader.", words=6000)
    with GatedSite({"/long.html": long}) as site:
        res = forage(
            "ask", "What controls the retry delay of the uploader?", site.url("/long.html"),
            "--allow-host", "127.0.0.1", "--json", tmp_path=tmp_path,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    import json

    data = json.loads(res.stdout)
    fetched = sum(a["tokens_added"] for a in data["history"])
    assert fetched == data["usage"]["gathered_tokens"]  # no window overwrote another
    assert len(data["manifest"]) >= 4
    assert "zebra-quartz" in data["answer"]


def test_ask_crawl_follows_the_sites_llms_txt_and_cites_the_page(tmp_path):
    import json

    from tests.docsite import LLMS_SITE, serve

    with serve(tmp_path / "site", LLMS_SITE) as site:
        res = forage(
            "ask", "What is the retry delay?", f"{site.base}/docs/", "--crawl", "--allow-host", "127.0.0.1",
            "--json", tmp_path=tmp_path,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert "chosen from the site's llms.txt" in data["history"][0]["summary"]  # it says which it used
    assert data["citations"][0]["uri"].startswith(f"{site.base}/docs/retry.md")
    assert "7 seconds" in data["answer"]
