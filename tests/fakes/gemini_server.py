"""A fake Gemini REST server on loopback that speaks what google-genai sends, and holds it to
the API's contract of today (December 2026). It records every request.

Point the real client at it: `genai.Client(api_key=..., http_options=HttpOptions(base_url=server.url))`.
Any API version prefix is accepted (/v1/, /v1beta/, ...). What it enforces, as the API does:
- `models.list` / `models.get` serve the current models with their limits and methods; a retired
  name answers 404 (or, where a test says so, 503 or a silent re-route to another model);
- every function-call part it returns carries a `thoughtSignature` (the first part only for
  parallel calls), and a request whose current turn replays a function call without its
  signature, or with a changed one, gets the API's 400 (Gemini 3 models);
- usage reports `thoughtsTokenCount` for thinking models;
- `cachedContents.create` refuses a prefix under the model's minimum cacheable size.
Faults (a 503, a reset mid-stream, a cut stream, an unreadable reply...) are queued per test with
`fake.inject(Fault(...))`: see tests/fakes/gemini_faults.py.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.gemini_faults import IN_REPLY, LOST, Fault, before_reply, faulty_parts, send_faulty, take
from tests.fakes.loopback import Loopback, send_json

_PATH_RE = re.compile(r"^/(?:v[0-9a-z]+/)?(?P<rest>.+)$")
GENERATE = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
SKIP_SIGNATURE = b"skip_thought_signature_validator"  # the API's documented stand-in
_SIGNATURE_DOCS = "https://ai.google.dev/gemini-api/docs/thought-signatures"


@dataclass
class ModelSpec:
    input_token_limit: int
    output_token_limit: int = 65_536
    methods: list[str] = field(default_factory=lambda: list(GENERATE))
    thinking: bool = True
    min_cache_tokens: int = 1024


def current_models() -> dict[str, ModelSpec | int]:
    """The model list of today: Gemini 3.x, plus a small test model and the embedding model."""
    return {
        "gemini-3.8-flash": ModelSpec(1_048_576),
        "gemini-3.5-flash": ModelSpec(1_048_576),
        "gemini-3.5-flash-lite": ModelSpec(1_048_576),
        "gemini-3.1-pro-preview": ModelSpec(1_048_576, min_cache_tokens=4096),
        "gemini-3.1-flash-lite-preview": ModelSpec(1_048_576),
        "gemini-3.1-flash-image-preview": ModelSpec(65_536, methods=["generateContent", "countTokens"]),
        "gemini-embedding-001": ModelSpec(2048, 1, methods=["embedContent", "countTokens"], thinking=False),
        # A small model for window tests; it neither thinks nor signs strictly (like 2.x models).
        "gemini-test": ModelSpec(32_000, 8192, thinking=False),
    }


# Retired on 2026-12-01: the API answers 404 for them (a test may set 503 or "reroute:NAME").
RETIRED = {"gemini-2.5-flash": "404", "gemini-2.5-pro": "404", "gemini-2.5-flash-lite": "404"}


@dataclass
class Recorded:
    method: str
    path: str  # without the version prefix, e.g. "models/gemini-3.5-flash:generateContent"
    query: dict[str, list[str]]
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0
    note: str = ""  # what the server made of it, for the log

    @property
    def action(self) -> str:
        """The RPC name: generateContent, countTokens, cachedContents.create, models.get, models.list."""
        if ":" in self.path:
            return self.path.rsplit(":", 1)[1]
        if self.path.startswith("cachedContents"):
            verb = {"POST": "create", "GET": "get", "DELETE": "delete", "PATCH": "update"}[self.method]
            return f"cachedContents.{verb}"
        return "models.list" if self.path == "models" else "models.get"


@dataclass
class FakeGemini:
    """State shared with the handler: keys, models, queued replies and failures, recordings."""

    keys: set[str] = field(default_factory=lambda: {"test-key"})
    models: dict[str, ModelSpec | int] = field(default_factory=current_models)
    retired: dict[str, str] = field(default_factory=lambda: dict(RETIRED))
    requests: list[Recorded] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)  # queued candidate contents
    failures: list[int] = field(default_factory=list)  # HTTP codes to answer before the next success
    faults: list[Fault] = field(default_factory=list)  # injected into the next generate requests, in order
    caches: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # issued: sig -> (model, calls)
    page_size: int = 4  # models.list pages, so that clients must follow nextPageToken
    thoughts_tokens: int = 12
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    scripted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # see script_call
    tool_results: list[dict[str, Any]] = field(default_factory=list)  # functionResponses a client sent back

    # -- queueing helpers used by tests
    def reply_text(self, *texts: str) -> None:
        """Queue one reply whose text streams in the given pieces."""
        self.replies.append({"parts": [{"text": t} for t in texts]})

    def reply_call(self, name: str, args: dict[str, Any]) -> None:
        self.replies.append({"parts": [{"functionCall": {"name": name, "args": args}}]})

    def reply_calls(self, *calls: tuple[str, dict[str, Any]]) -> None:
        """Queue one reply with parallel function calls."""
        self.replies.append({"parts": [{"functionCall": {"name": n, "args": a}} for n, a in calls]})

    def inject(self, *faults: Fault) -> None:
        """Queue faults: each breaks one generate request (see tests/fakes/gemini_faults.py)."""
        with self.lock:
            self.faults.extend(faults)

    def script_call(self, tool: str, args: dict[str, Any]) -> None:
        """Act as a model driving a client (gemini-cli): call the declared tool named `tool`, or ending
        in "_" + tool (gemini-cli names MCP tools mcp_SERVER_TOOL), with these args; once the client
        sends the tool's result back, answer from it. Requests that declare no such tool (forage's
        own, say) get the queued replies as before."""
        self.scripted.append((tool, args))

    def _scripted(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The scripted model turn for this request, or None when no script applies to it."""
        declared = [
            f.get("name", "") for t in body.get("tools", []) for f in t.get("functionDeclarations", [])
        ]
        for tool, args in self.scripted:
            name = next((n for n in declared if n == tool or n.endswith("_" + tool)), None)
            if name is None:
                continue
            answered = [
                p["functionResponse"] for c in body.get("contents", []) for p in c.get("parts", [])
                if p.get("functionResponse", {}).get("name") == name
            ]  # fmt: skip
            if not answered:
                return {"parts": [{"functionCall": {"name": name, "args": args}}]}
            with self.lock:
                self.tool_results.append(answered[-1])
            text = json.dumps(answered[-1].get("response", {}), ensure_ascii=False)
            return {"parts": [{"text": f"From {tool} ({len(text):,} characters): {text[:200]}"}]}
        return None

    def calls(self, action: str) -> list[Recorded]:
        return [r for r in self.requests if r.action == action]

    def spec(self, name: str) -> ModelSpec | None:
        spec = self.models.get(name)
        return ModelSpec(spec, thinking=False) if isinstance(spec, int) else spec

    def log(self) -> str:
        """Every request as one readable line: what was asked, what it carried, what came back."""
        return "\n".join(f"{r.method} {r.path} -> {r.status} {r.note}".rstrip() for r in self.requests)


def count_tokens(obj: Any) -> int:
    """Count 'tokens' as whitespace words of every text in a request body."""
    if isinstance(obj, dict):
        return sum(
            len(v.split()) if k == "text" and isinstance(v, str) else count_tokens(v) for k, v in obj.items()
        )
    if isinstance(obj, list):
        return sum(count_tokens(v) for v in obj)
    return 0


def _error(code: int, message: str | None = None) -> dict[str, Any]:
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}.get(code, "UNKNOWN")  # fmt: skip
    return {"error": {"code": code, "message": message or f"fake error {code}", "status": status}}


def _not_found(model: str) -> dict[str, Any]:
    return _error(
        404,
        f"models/{model} is not found for API version v1beta, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods.",
    )


def signature_bytes(sig: str) -> bytes:
    """A signature as the API reads it: base64, standard or URL-safe (google-genai sends the latter)."""
    sig = sig.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(sig + "=" * (-len(sig) % 4))


def _calls_of(content: dict[str, Any]) -> str:
    """The function calls of one model content, canonical: what a signature vouches for."""
    fcs = [p["functionCall"] for p in content.get("parts", []) if "functionCall" in p]
    return json.dumps([{"name": f.get("name"), "args": f.get("args", {})} for f in fcs], sort_keys=True)


def _signature_error(fake: FakeGemini, model: str, contents: list[dict[str, Any]]) -> str | None:
    """The API's 400 text when the current turn replays a call unsigned or re-signed, else None."""
    start = 0  # the current turn starts at the last user content with standard (text) parts
    for i in range(len(contents) - 1, -1, -1):
        c = contents[i]
        if c.get("role", "user") == "user" and any("text" in p for p in c.get("parts", [])):
            start = i
            break
    for pos, content in enumerate(contents[start:], start + 1):
        if content.get("role") != "model":
            continue
        parts = content.get("parts", [])
        first = next((p for p in parts if "functionCall" in p), None)
        if first is None:
            continue
        name = first["functionCall"].get("name")
        sig = first.get("thoughtSignature")
        if not sig:
            return (
                "Function call is missing a thought_signature in functionCall parts. This is required for "
                "tools to work correctly, and missing thought_signature may lead to degraded model "
                f"performance. Additional data, function call `default_api:{name}` , position {pos}. "
                f"Please refer to {_SIGNATURE_DOCS} for more details."
            )
        raw = signature_bytes(sig)
        if raw == SKIP_SIGNATURE:
            continue
        issued = fake.signatures.get(raw)
        if issued is None or issued != (model, _calls_of(content)):
            return (
                f"Corrupted thought signature for function call `default_api:{name}` , position {pos}: "
                "it does not match the content it was issued with. Pass signatures back unchanged, "
                f"on the part that carried them. See {_SIGNATURE_DOCS}."
            )
    return None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGemini
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        return

    def _send(self, code: int, body: dict[str, Any], note: str = "") -> None:
        self.rec.status = code
        self.rec.note = note or (body.get("error", {}).get("message", "")[:160] if code >= 400 else "")
        send_json(self, code, body)

    def _handle(self, method: str) -> None:
        fake = self.fake
        url = urlparse(self.path)
        m = _PATH_RE.match(url.path)
        rest = m.group("rest") if m else url.path.lstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        self.rec = rec = Recorded(
            method, rest, parse_qs(url.query), body, {k.lower(): v for k, v in self.headers.items()}
        )
        with fake.lock:
            fake.requests.append(rec)
            failure = fake.failures.pop(0) if fake.failures else None
        key = self.headers.get("x-goog-api-key") or rec.query.get("key", [""])[0]
        if key not in fake.keys:
            message = "API key not valid. Please pass a valid API key."
            self._send(
                403 if key else 401,
                {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}},
            )
            return
        if failure:
            self._send(failure, _error(failure))
            return
        with fake.lock:
            self.fault = take(fake.faults, rest.rpartition(":")[2])
        if self.fault and before_reply(self, self.fault, _error(self.fault.status)):
            return
        if rest.startswith("cachedContents"):
            self._caches(method, rest, body)
            return
        if rest == "models" and method == "GET":
            self._list(rec)
            return
        model, _, action = rest.removeprefix("models/").partition(":")
        retired = fake.retired.get(model)
        if retired is not None and retired.startswith("reroute:") and action:
            model = retired.removeprefix("reroute:")  # answered by another model, at its price
        elif retired == "503" and action:
            self._send(503, _error(503, "The model is overloaded. Please try again later."))
            return
        spec = fake.spec(model)
        if spec is None:
            self._send(404, _not_found(model))
            return
        if method == "GET" and not action:
            self._send(200, _model_json(model, spec))
        elif action == "countTokens":
            self._send(200, {"totalTokens": count_tokens(body.get("contents", body))})
        elif action in ("embedContent", "batchEmbedContents"):
            reqs = body.get("requests", [body])
            self._send(200, {"embeddings": [{"values": _vector(count_tokens(r), 8)} for r in reqs]})
        elif action in ("generateContent", "streamGenerateContent"):
            self._generate(model, spec, action, body)
        else:
            self._send(404, _error(404))

    def _list(self, rec: Recorded) -> None:
        fake = self.fake
        names = sorted(fake.models)
        size = int((rec.query.get("pageSize") or [fake.page_size])[0])
        size = min(size, fake.page_size)
        start = int((rec.query.get("pageToken") or ["0"])[0])
        page = names[start : start + size]
        out: dict[str, Any] = {"models": [_model_json(n, fake.spec(n)) for n in page]}  # type: ignore[arg-type]
        if start + size < len(names):
            out["nextPageToken"] = str(start + size)
        self._send(200, out, note=f"{len(page)} models")

    def _caches(self, method: str, rest: str, body: dict[str, Any]) -> None:
        fake = self.fake
        if method == "POST" and rest == "cachedContents":
            model = (body.get("model") or "").removeprefix("models/")
            spec = fake.spec(model)
            if spec is None:
                self._send(404, _not_found(model))
                return
            if "createCachedContent" not in spec.methods:
                self._send(400, _error(400, f"models/{model} does not support createCachedContent."))
                return
            total = count_tokens(body.get("contents", [])) + count_tokens(body.get("systemInstruction", {}))
            if total < spec.min_cache_tokens:
                message = f"Cached content is too small. total_token_count={total}, min_total_token_count={spec.min_cache_tokens}"
                self._send(400, _error(400, message))
                return
            name = f"cachedContents/c{next(fake._ids)}"
            entry = {"name": name, "model": body.get("model"), "displayName": body.get("displayName", ""),
                     "expireTime": "2099-01-01T00:00:00Z", "usageMetadata": {"totalTokenCount": total},
                     "_body": body}  # fmt: skip
            fake.caches[name] = entry
            self._send(200, {k: v for k, v in entry.items() if not k.startswith("_")}, note=f"{total} tokens")
            return
        entry = fake.caches.get(rest)
        if entry is None:
            self._send(404, {"error": {"code": 404, "message": f"{rest} not found", "status": "NOT_FOUND"}})
        elif method == "DELETE":
            del fake.caches[rest]
            self._send(200, {})
        else:
            self._send(200, {k: v for k, v in entry.items() if not k.startswith("_")})

    def _generate(self, model: str, spec: ModelSpec, action: str, body: dict[str, Any]) -> None:
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
        contents = body.get("contents", [])
        replayed = sum(1 for c in contents if c.get("role") == "model" and _calls_of(c) != "[]")
        if spec.thinking and (problem := _signature_error(fake, model, contents)):
            self._send(400, _error(400, problem))
            return
        prompt = count_tokens(contents) + count_tokens(body.get("systemInstruction", {})) + cached
        if prompt > spec.input_token_limit:
            message = f"The input token count ({prompt}) exceeds the maximum number of tokens allowed ({spec.input_token_limit})."
            self._send(400, _error(400, message))
            return
        queued = None
        content = fake._scripted(body)
        if content is None:
            with fake.lock:
                queued = fake.replies.pop(0) if fake.replies else None
            content = queued or {"parts": [{"text": "ok"}]}
        content = {"role": "model", "parts": [dict(p) for p in content["parts"]]}
        sig = self._sign(model, content)
        if self.fault:
            content["parts"] = faulty_parts(self.fault, content["parts"])
        output = count_tokens(content)
        thoughts = fake.thoughts_tokens if spec.thinking else 0
        usage = {"promptTokenCount": prompt, "candidatesTokenCount": output,
                 "totalTokenCount": prompt + output + thoughts}  # fmt: skip
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        if cached:
            usage["cachedContentTokenCount"] = cached
        what = ", ".join(p["functionCall"]["name"] for p in content["parts"] if "functionCall" in p)
        self.rec.status = 200
        self.rec.note = f"[{len(contents)} contents, {replayed} signed model turn(s) replayed] -> " + (
            f"functionCall {what} (signature …{sig[-12:]})" if what else "text"
        )
        if self.fault and self.fault.kind in IN_REPLY:
            last = len(content["parts"]) - 1
            whole = {"candidates": [{"content": content, "finishReason": "STOP", "index": 0}],
                     "usageMetadata": usage, "modelVersion": model}  # fmt: skip
            chunks = [
                {"candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0,
                                 **({"finishReason": "STOP"} if i == last else {})}], "modelVersion": model}
                for i, part in enumerate(content["parts"])
            ]  # fmt: skip
            send_faulty(self, self.fault, action, chunks if action != "generateContent" else [whole])
            if self.fault.kind in LOST and queued is not None:
                with fake.lock:  # the reply never arrived whole: the next try is answered with it
                    fake.replies.insert(0, queued)
            return
        if action == "generateContent":
            self._send(
                200,
                {
                    "candidates": [{"content": content, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
                note=self.rec.note,
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

    def _sign(self, model: str, content: dict[str, Any]) -> str:
        """Sign the first function call (or, without calls, the last part) as Gemini 3 does."""
        fake = self.fake
        parts = content["parts"]
        target = next((p for p in parts if "functionCall" in p), parts[-1] if parts else None)
        if target is None:
            return ""
        with fake.lock:
            n = next(fake._ids)
        calls = _calls_of(content)
        raw = b"fake-sig:" + hashlib.sha256(f"{n}\0{model}\0{calls}".encode()).digest()
        sig = base64.b64encode(raw).decode()
        target["thoughtSignature"] = sig
        if calls != "[]":
            fake.signatures[raw] = (model, calls)
        return sig

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


def _model_json(name: str, spec: ModelSpec) -> dict[str, Any]:
    version = re.match(r"^gemini-([\d.]+)", name)
    return {
        "name": f"models/{name}",
        "version": version.group(1) if version else "001",
        "displayName": name.replace("-", " ").title(),
        "description": f"Fake {name}",
        "inputTokenLimit": spec.input_token_limit,
        "outputTokenLimit": spec.output_token_limit,
        "supportedGenerationMethods": list(spec.methods),
        "thinking": spec.thinking,
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
    }


def _vector(seed: int, dim: int) -> list[float]:
    return [float((seed * (i + 3)) % 7 + 1) for i in range(dim)]


class GeminiServer(Loopback):
    """Run a FakeGemini on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self, fake: FakeGemini | None = None) -> None:
        super().__init__(_Handler, fake or FakeGemini())

    def __enter__(self) -> FakeGemini:
        return super().__enter__()
