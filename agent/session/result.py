"""What a run produced, for cli/ to present (kept free of heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.state import Action, Answer, Document, Pack, Usage


@dataclass(repr=False)
class RunResult:
    """What a run produced, for cli/ to present."""

    def __repr__(self) -> str:
        # Short on purpose: asyncio reprs the finished future, and a full repr costs seconds.
        return f"RunResult({self.documents} documents, {self.gathered_tokens} tokens, {len(self.failures)} failures)"

    question: str
    pack: Pack | None
    answer: Answer | None
    history: list[Action]
    failures: list[str]
    usage: Usage
    gathered_tokens: int
    documents: int
    route_trace: list[str] = field(default_factory=list)
    route_why: list[str] = field(default_factory=list)  # why each route was taken (or not widened)
    duration_s: float = 0.0
    gathered: list[Document] = field(default_factory=list)  # every document, in gathering order

    @property
    def partial(self) -> bool:
        return bool(self.failures)

    def nothing_gathered(self, *, answering: bool = True) -> str | None:
        """The one message every surface gives when nothing was gathered (no model was asked); else None."""
        if self.documents:
            return None
        lines = "\n".join(f"  - {f}" for f in self.failures) or "  (the sources held no readable text)"
        why = ", so no model was asked" if answering else ""
        return f"nothing could be gathered from the sources{why}:\n{lines}"

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer.text if self.answer and not self.answer.unanswerable else None,
            "answered": bool(self.answer and not self.answer.unanswerable),
            "missing": self.answer.missing if self.answer else None,
            "extractive": self.answer.extractive if self.answer else None,
            "model": self.answer.model if self.answer else None,
            "citations": [
                {
                    "block": c.block,
                    "uri": c.uri,
                    "span": c.span.model_dump(exclude_none=True),
                    "text": c.render(),
                }
                for c in (self.answer.citations if self.answer else [])
            ],
            "manifest": [b.model_dump(exclude_none=True) for b in (self.pack.manifest if self.pack else [])],
            "omitted": [o.model_dump() for o in (self.pack.omitted if self.pack else [])],
            "safety": self.pack.safety.model_dump() if self.pack and self.pack.safety else None,
            "route": self.route_trace,
            "route_why": self.route_why,
            "history": [a.model_dump(exclude={"hints"}) for a in self.history],
            "failures": self.failures,
            "usage": {
                **self.usage.model_dump(),
                "pack_tokens": self.pack.tokens if self.pack else 0,
                "gathered_tokens": self.gathered_tokens,
            },
            "duration_s": round(self.duration_s, 3),
        }
