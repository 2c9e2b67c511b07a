"""History compaction: the planner's view of past calls stays under its share of the window."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.events import Event, Notice
from agent.graph.compaction import action_id, compact_observation, observation_size, plan_compaction
from agent.models.scripted import ScriptedModel
from agent.session.session import run
from agent.settings import Settings
from agent.state import Action
from tests.cli.chat.test_chat import _env
from tools.tokens import estimate_tokens


def _action(step: int, i: int = 0, words: int = 200) -> Action:
    return Action(
        step=step, tool="read_file", server="files", args={"path": f"f{step}.txt"}, status="ok",
        summary="read_file -> ok. Result begins: " + " ".join(f"w{n}" for n in range(words)),
        documents=[f"d{step}{i}"], tokens_added=300, call_index=i, hints={"next": {"path": "x", "start_line": 9}},
    )  # fmt: skip


def test_nothing_is_compacted_under_the_limit():
    history = [_action(0), _action(1)]
    assert plan_compaction(history, {}, limit=10_000, count=estimate_tokens, keep_step=1) == {}


def test_the_oldest_are_compacted_to_half_the_limit_and_the_last_step_stays_whole():
    history = [_action(s) for s in range(6)]
    limit = observation_size(history, {}, estimate_tokens) // 2
    new = plan_compaction(history, {}, limit=limit, count=estimate_tokens, keep_step=5)
    assert new and list(new) == [action_id(a) for a in history[: len(new)]]  # oldest first
    assert "5:0" not in new
    assert observation_size(history, new, estimate_tokens) <= limit // 2 + estimate_tokens(history[5].summary)
    short = new["0:0"]
    # a reference to the corpus documents, plus what the planner still needs (the continuation)
    assert "d00" in short and "compacted" in short and '"start_line": 9' in short
    again = plan_compaction(history, new, limit=limit, count=estimate_tokens, keep_step=5)
    assert again == {}  # already under: no work at every step


def test_compact_observation_names_documents_and_status():
    text = compact_observation(_action(3))
    assert text.startswith("read_file -> ok (compacted") and "1 document(s), 300 tokens" in text


@pytest.mark.slow
async def test_a_long_gathering_keeps_the_planners_history_under_its_share(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    for i in range(12):
        body = "\n".join(
            f"line {n} of file {i}: the quick brown fox jumps over the lazy dog" for n in range(40)
        )
        (root / f"f{i:02}.txt").write_text(body + "\n")
    model = ScriptedModel(window=8_000)
    for i in range(12):
        model.call("read_file", path=str(root / f"f{i:02}.txt"))
    model.reply("DONE")
    model.reply("Done [1].")
    settings = Settings(data_dir=tmp_path / "data", compact_at=0.1, max_steps=20, window=8_000)
    limit = int(0.1 * 8_000)
    events: list[Event] = []
    result = await run("q?", [str(root)], settings, model, on_event=events.append)

    plans = [s for s in model.sent if s.tools]
    sizes = [sum(model.count_tokens(m.content) for m in s.messages if m.role == "tool") for s in plans]
    assert max(sizes[:3]) < limit < max(sizes[:3]) * 6  # small at first; it would have grown past the limit
    last_step = [m for m in plans[-1].messages if m.role == "tool"][-1]
    assert all(size <= limit + model.count_tokens(last_step.content) for size in sizes)
    compacted = [m.content for m in plans[-1].messages if m.role == "tool" and "(compacted" in m.content]
    assert len(compacted) >= 6
    assert any(isinstance(e, Notice) and "compacted" in e.text for e in events)
    # the model's own turns are replayed unchanged, in order; only observations shrank
    calls = [m.tool_calls[0].args["path"] for m in plans[-1].messages if m.role == "assistant"]
    assert calls == [str(root / f"f{i:02}.txt") for i in range(12)]
    # and nothing gathered left the corpus
    assert result.documents == 12 and len(result.history) == 12


@pytest.mark.slow
def test_history_command_shows_the_compacted_entries(tmp_path):
    files = []
    for i in range(6):
        f = tmp_path / f"note{i}.md"
        f.write_text(f"# Note {i}\n\n" + f"Note {i} says the pelican-{i} code opens door {i}. " * 12 + "\n")
        files.append(str(f))
    extra = tmp_path / "late.md"
    extra.write_text("# Late\n\nThe late note mentions the heron code.\n")
    env = _env(tmp_path, FORAGE_COMPACT_AT="0.05")
    res = subprocess.run(
        [sys.executable, "-m", "cli.app", "chat", *files, "--window", "8000"],
        input=f"Which code opens door 3?\n/add {extra}\n/history\nWhich code opens door 4?\n",
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "compacted" in res.stderr  # said when it happened
    table = res.stdout[res.stdout.index("Action history") :]
    assert "7 call(s), 6 compacted" in table and table.count("(compacted)") == 6
    assert "pelican-4" in res.stdout  # the compacted calls' documents still answer
