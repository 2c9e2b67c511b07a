"""Live check against the real Gemini API, for people who have a key. Never run in CI.

    GEMINI_API_KEY=... python -m evals.checks.live_gemini [--model NAME]

It lists the models the key can use, asks a question over forage's own `agent/` folder with a
multi-round gather (signed function calls replayed), asks a follow-up in the same session (the
explicit context cache should serve the prefix), and embeds two texts. It prints what it saw;
without a key it says so and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _session(settings: object, model: object) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from agent.events import CallEnd, Event
    from agent.session.checkpoints import checkpoint_serde
    from agent.session.session import Session

    events: list[str] = []

    def on_event(event: Event) -> None:
        if isinstance(event, CallEnd):
            action = event.action
            events.append(f"  step {action.step}: {action.tool}({action.args}) -> {action.status}")

    saver = InMemorySaver(serde=checkpoint_serde())  # follow-ups need the session's saved state
    async with Session(
        [str(ROOT / "agent")], settings, model, on_event=on_event, checkpointer=saver
    ) as session:  # type: ignore[arg-type]
        first = await session.ask("How does forage keep Gemini's thought signatures across planning steps?")
        _print("gather:\n" + "\n".join(events))
        saved = await session.saved() or {}
        turns = saved.get("turns", [])
        signed = sum(
            1
            for t in turns
            if t.provider and any("thought_signature" in p for p in t.provider.get("parts", []))
        )
        _print(f"planning turns kept: {len(turns)}, with a signature: {signed}")
        _print(f"answer 1 ({first.usage.prompt_tokens:,} prompt, {first.usage.cached_tokens:,} cached): ")
        _print((first.answer.text if first.answer else "(none)")[:600])
        follow = await session.ask("And where is the cached prefix created?")
        _print(f"answer 2 ({follow.usage.prompt_tokens:,} prompt, {follow.usage.cached_tokens:,} cached):")
        _print((follow.answer.text if follow.answer else "(none)")[:600])
        _print(f"route: {first.route_trace} / {follow.route_trace}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="auto", help="a Gemini model name (default: forage's own choice)")
    args = parser.parse_args(argv)
    if not (os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")):
        _print("live_gemini: no GEMINI_API_KEY set; nothing to check (this never runs in CI).")
        return 0
    from agent.models import make_model
    from agent.models.base import closing
    from agent.models.catalog import model_rows
    from agent.retrieval.embeddings import GeminiEmbedder
    from agent.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"model": args.model, "data_dir": tmp, "max_steps": 4, "embedding": "none"})
        model, notice = make_model(settings, caching=True)
        _print(notice or f"model: {model.name}")
        catalog = getattr(model, "catalog", None)
        if catalog is not None:
            for row in model_rows(catalog, settings.prices)[:10]:
                mark = "  (default)" if row["default"] else ""
                _print(
                    f"  {row['name']}: window {row['window']:,}, caching {row['caching']}, {row['price_text']}{mark}"
                )
        with closing(model, lambda text: _print(f"warning: {text}")):
            asyncio.run(_session(settings, model))
        vecs = GeminiEmbedder.from_settings(settings).embed(["a retry delay", "the base URL"])
        _print(f"embeddings: {vecs.shape[0]} vectors of {vecs.shape[1]} dimensions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
