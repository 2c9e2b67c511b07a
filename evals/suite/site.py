"""A static web server on loopback for the cases' pages (the web server fetches them like any site)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler
from typing import Self


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


class LoopbackServer:
    """An HTTP server on 127.0.0.1 (a free port), served from a daemon thread while entered."""

    def __init__(self, handler: Callable[..., BaseRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class StaticSite(LoopbackServer):
    """Serve a folder on 127.0.0.1 (a free port) until closed."""

    def __init__(self, root: Path) -> None:
        super().__init__(partial(_Quiet, directory=str(root)))
