"""The "cannot answer from this pack" sentinel, and a stream gate that never prints it.

Every model is told to reply NOT_IN_CONTEXT (then one line on what is missing) when the pack
lacks the answer. Self-Route widens the pack on that reply, and the user must never see the
sentinel printed as if it were the answer: the gate holds streamed text back only until it is
clear the reply does not start with the sentinel, then passes the rest through as it comes.
"""

from __future__ import annotations

from collections.abc import Callable

NOT_IN_CONTEXT = "NOT_IN_CONTEXT"
_DECORATION = " \t\r\n*_`>#\"'"


def _head(text: str) -> str:
    return text.lstrip(_DECORATION)


def is_refusal(text: str) -> bool:
    """True when a reply starts with the sentinel (markdown emphasis around it allowed)."""
    return _head(text).startswith(NOT_IN_CONTEXT)


def missing_reason(text: str) -> str:
    """The model's own words after the sentinel: what the sources lack (may be empty)."""
    rest = _head(text)[len(NOT_IN_CONTEXT) :] if is_refusal(text) else text
    rest = rest.lstrip(_DECORATION + ":.-")
    return " ".join(rest.split())[:500]


class RefusalGate:
    """Wraps an on_text sink: passes an answer through, swallows a refusal entirely."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self.sink = sink
        self.held = ""
        self.state: str = "undecided"  # -> "answer" | "refusal"

    def __call__(self, chunk: str) -> None:
        if self.state == "answer":
            self.sink(chunk)
            return
        if self.state == "refusal":
            return
        self.held += chunk
        head = _head(self.held)
        if not head:
            return  # only whitespace or decoration so far
        if head.startswith(NOT_IN_CONTEXT):
            self.state = "refusal"
        elif not NOT_IN_CONTEXT.startswith(head):
            self.state = "answer"
            held, self.held = self.held, ""
            self.sink(held)

    def finish(self) -> None:
        """End of the stream: a short reply still held back is an answer after all."""
        if self.state == "undecided" and _head(self.held):
            self.state = "answer"
            self.sink(self.held)
        self.held = ""
