"""Faults the fake Gemini server can inject, one per request, in the order a test queues them.

`fake.inject(Fault("status", status=503))` makes the next generate request (generateContent or
streamGenerateContent, or only the one named by `action`; other RPCs pass untouched) fail that way; the request after it is served
normally again. Each fault is what the real API or the network does on a bad day:

- status: an error status with the API's error body (429 carries Retry-After: retry_after);
- slow: the first byte comes delay_s late (past a client's deadline), then a normal reply;
- reset: the connection is reset (RST) after the first streamed chunk, or before any reply;
- cut: the stream stops after its first chunk, cleanly, without a finishReason (a unary
  body stops halfway, short of its Content-Length);
- unknown_part: a part of a kind this SDK does not know, beside the text;
- malformed_json: a body (or a stream event) that is not JSON;
- bad_signature: a functionCall part whose thoughtSignature is not valid base64.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["status", "slow", "reset", "cut", "unknown_part", "malformed_json", "bad_signature"]
GENERATE_ACTIONS = ("generateContent", "streamGenerateContent")
# Faults that shape the reply itself: the handler builds the reply, then sends it through send_faulty.
IN_REPLY = ("reset", "cut", "unknown_part", "malformed_json", "bad_signature")
LOST = ("reset", "cut", "malformed_json")  # the reply never arrives whole: a retry gets it again


@dataclass(frozen=True)
class Fault:
    kind: Kind
    status: int = 503
    retry_after: float | None = None
    delay_s: float = 0.0
    action: str | None = None  # only this RPC (e.g. streamGenerateContent: the answer); None: any generate

    def applies(self, action: str) -> bool:
        return self.action is None or self.action == action


def take(faults: list[Fault], action: str) -> Fault | None:
    """Remove and return the first queued fault for this RPC (None for an RPC no fault targets)."""
    if action not in GENERATE_ACTIONS:
        return None
    for i, fault in enumerate(faults):
        if fault.applies(action):
            return faults.pop(i)
    return None


def _reset(handler: Any) -> None:
    """Close the socket with an RST (SO_LINGER 0), as a dropped connection looks to the client."""
    sock: socket.socket = handler.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    sock.close()


def _client_gone(handler: Any) -> bool:
    """The client closed its end (a read would say EOF now)."""
    sock: socket.socket = handler.connection
    readable, _, _ = select.select([sock], [], [], 0)
    try:
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:  # reset by the client: gone too
        return True


def before_reply(handler: Any, fault: Fault, error_body: dict[str, Any]) -> bool:
    """Apply a fault that comes before any reply; True when the request is answered (or dropped)."""
    if fault.kind == "slow":
        time.sleep(fault.delay_s)
        if _client_gone(handler):  # it gave up waiting: the API would not bill or answer it either
            handler.rec.status, handler.rec.note = 0, "injected slow: the client had gone"
            handler.close_connection = True
            return True
        return False  # then serve it normally: a late first byte, not a missing one
    if fault.kind == "status":
        data = json.dumps(error_body).encode()
        handler.rec.status, handler.rec.note = fault.status, f"injected {fault.status}"
        handler.send_response(fault.status)
        handler.send_header("Content-Type", "application/json")
        if fault.retry_after is not None:
            handler.send_header("Retry-After", f"{fault.retry_after:g}")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        return True
    return False


def faulty_parts(fault: Fault, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reply's parts as the fault changes them (an unknown part added, a signature broken)."""
    if fault.kind == "unknown_part":
        return [{"futureMediaPart": {"kind": "hologram", "uri": "gs://x"}}, *parts]
    if fault.kind == "bad_signature":
        return [{**p, "thoughtSignature": "not base64 at all!"} if "functionCall" in p else p for p in parts]
    return parts


def send_faulty(handler: Any, fault: Fault, action: str, chunks: list[dict[str, Any]]) -> None:
    """Send a reply the fault breaks: chunks are the stream's events (one body when not streaming)."""
    handler.rec.status, handler.rec.note = 200, f"injected {fault.kind}"
    stream = action == "streamGenerateContent"
    if fault.kind == "reset" and not stream:
        _reset(handler)
        return
    handler.send_response(200)
    if not stream:
        body = json.dumps(chunks[-1]).encode()
        length = len(body)
        if fault.kind == "malformed_json":
            body = b'{"candidates": [{"content": {"role": "model", "parts": [{"te'
            length = len(body)
        elif fault.kind == "cut":  # the body stops halfway: fewer bytes than Content-Length promised
            body = body[: len(body) // 2]
            handler.close_connection = True
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(length))
        handler.end_headers()
        handler.wfile.write(body)
        return
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Connection", "close")
    handler.end_headers()
    events = [f"data: {json.dumps(c)}\r\n\r\n".encode() for c in chunks]
    if fault.kind == "malformed_json":
        events = [events[0], b'data: {"candidates": [{"content": \r\n\r\n']
    elif fault.kind in ("reset", "cut"):
        events = events[:1]
    for event in events:
        handler.wfile.write(event)
        handler.wfile.flush()
    if fault.kind == "reset":
        time.sleep(0.05)  # let the first chunk arrive, then drop the connection
        _reset(handler)
        return
    handler.close_connection = True
