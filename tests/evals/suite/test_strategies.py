"""The baselines ask about a pack exactly as the agent's answer node does."""

from __future__ import annotations

from pathlib import Path

from agent.graph.answering import AnswerNodes
from agent.models.scripted import ScriptedModel
from agent.pack.packing import build_pack
from agent.settings import Settings
from agent.tokens import TokenCounter
from evals.suite.strategies import Trial, answer_pack
from evals.tasks.base import Case
from tests.agent.pack.test_packing import _doc
from tools.tokens import estimate_tokens


async def test_answer_pack_sends_what_the_answer_node_sends(tmp_path: Path) -> None:
    docs = [_doc("src/client.py", "RETRY_DELAY = 0.5  # seconds before a retry\n")]
    pack = build_pack(docs, "Where is the retry delay?", count_tokens=estimate_tokens)
    settings = Settings(data_dir=tmp_path / "data")
    node_model = ScriptedModel().reply("It is set in src/client.py [1].")
    await AnswerNodes(settings, node_model, TokenCounter()).answer({"pack": pack})  # type: ignore[typeddict-item]
    baseline_model = ScriptedModel().reply("It is set in src/client.py [1].")
    case = Case("t", 0, 0, "Where is the retry delay?", answers=[], needles=[], sources=[], corpus_tokens=0)
    text, _, cited = await answer_pack(Trial(case, [], settings, baseline_model), pack)
    assert baseline_model.sent[0].messages == node_model.sent[0].messages
    assert baseline_model.sent[0].tools is None and node_model.sent[0].tools is None
    assert text.startswith("It is set") and cited == ["src/client.py"]
