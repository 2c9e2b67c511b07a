"""A real git server on 127.0.0.1: git's smart HTTP (`git http-backend`) behind a small HTTP server.

Repositories under ``private/`` answer 401 without credentials, as a private forge repository does.
"""

from __future__ import annotations

import base64
import os
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from evals.suite.site import LoopbackServer

AUTH = "Basic " + base64.b64encode(b"reader:s3cret").decode()


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": "/dev/null"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(root: Path, name: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A bare repository root/name.git holding files on main (tag v1), and its work clone."""
    bare = root / f"{name}.git"
    work = root / f"{name}-work"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("-C", str(bare), "config", "uploadpack.allowFilter", "true")
    git("-C", str(bare), "config", "uploadpack.allowAnySHA1InWant", "true")
    git("-C", str(bare), "config", "http.receivepack", "false")
    git("init", "-q", "-b", "main", str(work))
    commit(work, files, "first")
    git("tag", "v1", cwd=work)
    git("remote", "add", "origin", str(bare), cwd=work)
    git("push", "-q", "origin", "main", "v1", cwd=work)
    return bare, work


def commit(work: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


class GitHttpServer(LoopbackServer):
    """Serve every bare repository under root over smart HTTP; records request paths."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.pack_requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                self._cgi()

            def do_POST(self) -> None:
                self._cgi()

            def _cgi(self) -> None:
                parts = urlsplit(self.path)
                server.requests.append(f"{self.command} {parts.path}")
                if parts.path.startswith("/private/") and self.headers.get("Authorization") != AUTH:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="private"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command == "POST" and (
                    b"command=fetch" in body or b"want " in body or self.headers.get("Content-Encoding")
                ):
                    server.pack_requests += 1
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": str(server.root),
                    "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
                    "REQUEST_METHOD": self.command, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "GIT_CONFIG_GLOBAL": "/dev/null",
                }  # fmt: skip
                done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
                head, _, payload = done.stdout.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        super().__init__(Handler)

    def fetches(self) -> int:
        """How many pack downloads (fetch requests, not ref listings) were served."""
        return self.pack_requests
