"""A fake Gemini REST server on loopback that speaks what google-genai sends, and records it.

Point the real client at it: `genai.Client(api_key=..., http_options=HttpOptions(base_url=server.url))`.
Any API version prefix is accepted (/v1/, /v1beta/, ...).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_PATH_RE = re.compile(r"^/(?:v[0-9a-z]+/)?(?P<rest>.+)$")


@dataclass
class Recorded:
    method: str
    path: str  # without the version prefix, e.g. "models/gemini-2.5-flash:generateContent"
    query: dict[str, list[str]]
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def action(self) -> str:
        """The RPC name: generateContent, countTokens, cachedContents.create, models.get, ..."""
        if ":" in self.path:
            return self.path.rsplit(":", 1)[1]
        if self.path.startswith("cachedContents"):
            verb = {"POST": "create", "GET": "get", "DELETE": "delete", "PATCH": "update"}[self.method]
            return f"cachedContents.{verb}"
        return "models.get"


@dataclass
class FakeGemini:
    """State shared with the handler: keys, models, queued replies and failures, recordings."""

    keys: set[str] = field(default_factory=lambda: {"test-key"})
    models: dict[str, int] = field(
        default_factory=lambda: {"gemini-2.5-flash": 1_048_576, "gemini-test": 32_000}
    )
    requests: list[Recorded] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)  # queued candidate contents
    failures: list[int] = field(default_factory=list)  # HTTP codes to answer before the next success
    caches: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    # -- queueing helpers used by tests
    def reply_text(self, *texts: str) -> None:
        """Queue one reply whose text streams in the given pieces."""
        self.replies.append({"parts": [{"text": t} for t in texts]})

    def reply_call(self, name: str, args: dict[str, Any]) -> None:
        self.replies.append({"parts": [{"functionCall": {"name": name, "args": args}}]})

    def calls(self, action: str) -> list[Recorded]:
        return [r for r in self.requests if r.action == action]


def count_tokens(obj: Any) -> int:
    """Count 'tokens' as whitespace words of every text in a request body."""
    if isinstance(obj, dict):
        return sum(
            len(v.split()) if k == "text" and isinstance(v, str) else count_tokens(v) for k, v in obj.items()
        )
    if isinstance(obj, list):
        return sum(count_tokens(v) for v in obj)
    return 0


def _error(code: int) -> dict[str, Any]:
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}.get(code, "UNKNOWN")  # fmt: skip
    return {"error": {"code": code, "message": f"fake error {code}", "status": status}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGemini
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        return

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        fake = self.fake
        url = urlparse(self.path)
        m = _PATH_RE.match(url.path)
        rest = m.group("rest") if m else url.path.lstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        rec = Recorded(
            method, rest, parse_qs(url.query), body, {k.lower(): v for k, v in self.headers.items()}
        )
        with fake.lock:
            fake.requests.append(rec)
            failure = fake.failures.pop(0) if fake.failures else None
        key = self.headers.get("x-goog-api-key") or rec.query.get("key", [""])[0]
        if key not in fake.keys:
            self._send(
                403 if key else 401,
                {
                    "error": {
                        "code": 403,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "PERMISSION_DENIED",
                    }
                },
            )
            return
        if failure:
            self._send(failure, _error(failure))
            return
        if rest.startswith("cachedContents"):
            self._caches(method, rest, body)
            return
        model, _, action = rest.removeprefix("models/").partition(":")
        if model not in fake.models:
            self._send(
                404,
                {
                    "error": {
                        "code": 404,
                        "message": f"models/{model} is not found for API version v1beta",
                        "status": "NOT_FOUND",
                    }
                },
            )
            return
        if method == "GET" and not action:
            limit = fake.models[model]
            self._send(
                200,
                {
                    "name": f"models/{model}",
                    "displayName": model,
                    "inputTokenLimit": limit,
                    "outputTokenLimit": 8192,
                },
            )
        elif action == "countTokens":
            self._send(200, {"totalTokens": count_tokens(body.get("contents", body))})
        elif action in ("embedContent", "batchEmbedContents"):
            reqs = body.get("requests", [body])
            self._send(200, {"embeddings": [{"values": _vector(count_tokens(r), 8)} for r in reqs]})
        elif action in ("generateContent", "streamGenerateContent"):
            self._generate(model, action, body)
        else:
            self._send(404, _error(404))

    def _caches(self, method: str, rest: str, body: dict[str, Any]) -> None:
        fake = self.fake
        if method == "POST" and rest == "cachedContents":
            name = f"cachedContents/c{next(fake._ids)}"
            entry = {"name": name, "model": body.get("model"), "displayName": body.get("displayName", ""),
                     "expireTime": "2099-01-01T00:00:00Z",
                     "usageMetadata": {"totalTokenCount": count_tokens(body.get("contents", [])) + count_tokens(body.get("systemInstruction", {}))},
                     "_body": body}  # fmt: skip
            fake.caches[name] = entry
            self._send(200, {k: v for k, v in entry.items() if not k.startswith("_")})
            return
        entry = fake.caches.get(rest)
        if entry is None:
            self._send(404, {"error": {"code": 404, "message": f"{rest} not found", "status": "NOT_FOUND"}})
        elif method == "DELETE":
            del fake.caches[rest]
            self._send(200, {})
        else:
            self._send(200, {k: v for k, v in entry.items() if not k.startswith("_")})

    def _generate(self, model: str, action: str, body: dict[str, Any]) -> None:
        fake = self.fake
        cached = 0
        if body.get("cachedContent"):
            entry = fake.caches.get(body["cachedContent"])
            if entry is None:
                self._send(
                    404,
                    {"error": {"code": 404, "message": "cached content not found", "status": "NOT_FOUND"}},
                )
                return
            cached = entry["usageMetadata"]["totalTokenCount"]
        prompt = (
            count_tokens(body.get("contents", [])) + count_tokens(body.get("systemInstruction", {})) + cached
        )
        if prompt > fake.models[model]:
            self._send(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": f"The input token count ({prompt}) exceeds the maximum number of tokens allowed ({fake.models[model]}).",
                        "status": "INVALID_ARGUMENT",
                    }
                },
            )
            return
        with fake.lock:
            content = fake.replies.pop(0) if fake.replies else {"parts": [{"text": "ok"}]}
        content = {"role": "model", **content}
        output = count_tokens(content)
        usage = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": output,
            "totalTokenCount": prompt + output,
        }
        if cached:
            usage["cachedContentTokenCount"] = cached
        if action == "generateContent":
            self._send(
                200,
                {
                    "candidates": [{"content": content, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        parts = content["parts"]
        for i, part in enumerate(parts):
            chunk: dict[str, Any] = {
                "candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0}],
                "modelVersion": model,
            }
            if i == len(parts) - 1:
                chunk["candidates"][0]["finishReason"] = "STOP"
                chunk["usageMetadata"] = usage
            self.wfile.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


def _vector(seed: int, dim: int) -> list[float]:
    return [float((seed * (i + 3)) % 7 + 1) for i in range(dim)]


class GeminiServer:
    """Run a FakeGemini on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self, fake: FakeGemini | None = None) -> None:
        self.fake = fake or FakeGemini()
        handler = type("Handler", (_Handler,), {"fake": self.fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.fake.url = self.url
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeGemini:
        self._thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
