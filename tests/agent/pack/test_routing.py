"""Routing at several window sizes, and the Self-Route widening path, with the scripted model."""

import pytest

from agent.models.scripted import ScriptedModel
from agent.session.session import run
from agent.settings import Settings

pytestmark = pytest.mark.slow

NEEDLE = "The retry delay is configured by RETRY_DELAY_SECONDS in settings/net.py."


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for i in range(30):
        body = "\n\n".join(
            f"## Part {k}\nThis chapter {i} part {k} talks about gardening, soil, compost and tomatoes. " * 3
            for k in range(6)
        )
        (root / f"chapter{i:02d}.md").write_text(f"# Chapter {i}\n\n{body}\n")
    (root / "chapter17.md").write_text((root / "chapter17.md").read_text() + f"\n## Networking\n{NEEDLE}\n")
    return root


def _model(window: int, answers: list[tuple[str, bool]]) -> ScriptedModel:
    model = ScriptedModel(window=window)
    model.call("read_many", paths_or_glob=".", max_tokens=1_000_000)
    model.reply("DONE")
    for text, unanswerable in answers:
        model.reply(text, unanswerable=unanswerable)
    return model


def _settings(tmp_path, **kw):
    # BM25 only: these tests are about routing, not embeddings.
    return Settings(data_dir=tmp_path / "data", embedding="none", reserve=500, **kw)


async def test_everything_fits_goes_full(corpus, tmp_path):
    model = _model(1_000_000, [("ok [1]", False)])
    result = await run("Where is the retry delay configured?", [str(corpus)], _settings(tmp_path), model)
    assert result.route_trace == [f"full@{1_000_000 - 500}"]
    assert len(result.pack.manifest) == 30 and not result.pack.omitted


@pytest.mark.parametrize("window", [2_000, 4_000, 8_000])
async def test_over_the_window_selects_within_budget(corpus, tmp_path, window):
    model = _model(window, [("ok [1]", False)])
    result = await run("Where is the retry delay configured?", [str(corpus)], _settings(tmp_path), model)
    budget = window - 500
    assert result.route_trace == [f"select@{budget}"]
    assert result.gathered_tokens > budget
    assert result.pack.tokens <= budget
    prefix = model.sent[-1].messages[-1].cacheable_prefix
    assert NEEDLE in prefix  # the relevant chunk was kept
    uris = [b.uri for b in result.pack.manifest]
    assert uris == sorted(uris)  # chosen chunks stay in document order


async def test_route_full_truncates_to_the_budget_and_says_so(corpus, tmp_path):
    model = _model(4_000, [("ok", False)])
    result = await run("retry delay?", [str(corpus)], _settings(tmp_path, route="full"), model)
    assert result.route_trace == ["full@3500"]
    assert result.pack.tokens <= 3500 and result.pack.omitted


async def test_self_route_doubles_a_full_selection_then_goes_full(corpus, tmp_path):
    # 13k tokens gathered, 19.5k available. Every chunk matches "gardening", so each selection
    # fills its budget: select at a quarter, then double, then full.
    model = _model(20_000, [("NOT_IN_CONTEXT", True), ("NOT_IN_CONTEXT", True), ("found it [1]", False)])
    question = "Which gardening chapter mentions the retry delay?"
    result = await run(question, [str(corpus)], _settings(tmp_path, route="self"), model)
    assert result.route_trace == ["select@4875", "select@9750", "full@19500"]
    assert result.answer.text == "found it [1]"
    packs = [s.messages[-1].cacheable_prefix for s in model.sent if s.tools is None]
    assert len(packs) == 3 and len(packs[0]) < len(packs[1]) < len(packs[2])


async def test_self_route_goes_full_when_the_selection_had_nothing_more(corpus, tmp_path):
    # Only one chunk matches: a bigger selection would be the same pack, so widen to full.
    model = _model(20_000, [("NOT_IN_CONTEXT", True), ("found it [1]", False)])
    result = await run(
        "Where is RETRY_DELAY_SECONDS?", [str(corpus)], _settings(tmp_path, route="self"), model
    )
    assert result.route_trace == ["select@4875", "full@19500"]
    assert result.answer.text == "found it [1]"


async def test_self_route_does_not_resend_a_pack_that_held_everything(corpus, tmp_path):
    # Everything gathered fits the first selection: a wider pack would be the same, so the
    # refusal stands and no second answer request is made.
    model = _model(1_000_000, [("NOT_IN_CONTEXT\nNothing about swallows.", True)])
    result = await run(
        "What is the airspeed of a swallow?", [str(corpus)], _settings(tmp_path, route="self"), model
    )
    assert len([s for s in model.sent if s.tools is None]) == 1
    assert result.route_trace == [f"select@{(1_000_000 - 500) // 4}"]
    assert result.route_why[-1].startswith("not widened")
    assert result.answer.unanswerable and result.answer.text == ""
    assert result.answer.missing == "Nothing about swallows."
    assert result.to_json()["answered"] is False


async def test_self_route_stops_when_full_cannot_answer(corpus, tmp_path):
    model = _model(20_000, [("NOT_IN_CONTEXT", True), ("NOT_IN_CONTEXT", True), ("NOT_IN_CONTEXT", True)])
    result = await run(
        "Which gardening chapter mentions the airspeed of a swallow?", [str(corpus)],
        _settings(tmp_path, route="self"), model,
    )  # fmt: skip
    assert result.route_trace[-1].startswith("full@")
    assert result.answer.unanswerable and result.answer.text == ""
    packs = [s.messages[-1].cacheable_prefix for s in model.sent if s.tools is None]
    assert len(set(packs)) == len(packs)  # every pack sent was different from the ones before
