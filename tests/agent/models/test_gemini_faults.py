"""GeminiModel on the API's bad days, injected by the fake server: what is retried, what is said, what is cut."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types

from agent.errors import ModelError
from agent.models.base import AnswerCut, Message
from agent.models.gemini import GeminiModel
from tests.fakes.gemini_faults import Fault
from tests.fakes.gemini_server import FakeGemini, GeminiServer
from tools.crash import describe

MODEL = "gemini-3.5-flash"
HI = [Message(role="user", content="hi")]


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with GeminiServer() as fake:
        yield fake


class Recorder:
    """Stands in for sleep and stderr: what was waited and what was said."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.said: list[str] = []


def model_for(
    fake: FakeGemini, rec: Recorder, *, timeout_ms: int | None = None, tries: int = 3
) -> GeminiModel:
    client = genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=fake.url, timeout=timeout_ms)
    )
    return GeminiModel(
        client, MODEL, window=100_000, max_retries=tries - 1, backoff_s=2.0, sleep=rec.slept.append,
        on_retry=rec.said.append, timeout_s=timeout_ms / 1000 if timeout_ms else None,
    )  # fmt: skip


def test_a_busy_api_is_retried_with_backoff_and_says_so(fake: FakeGemini) -> None:
    rec = Recorder()
    fake.inject(Fault("status", status=503), Fault("status", status=500))
    fake.reply_text("finally")
    assert model_for(fake, rec).generate(HI).text == "finally"
    assert rec.said[0] == "Gemini API busy (503); retrying in 2 s (2/3)"
    assert rec.said[1].startswith("Gemini API busy (500); retrying in ") and rec.said[1].endswith("(3/3)")
    assert 2 <= rec.slept[0] <= 2.5 and 4 <= rec.slept[1] <= 5  # doubled, with a little jitter


def test_429_waits_as_long_as_retry_after_asks(fake: FakeGemini) -> None:
    rec = Recorder()
    fake.inject(Fault("status", status=429, retry_after=7))
    fake.reply_text("ok then")
    assert model_for(fake, rec).generate(HI).text == "ok then"
    assert rec.slept == [7.0] and rec.said == ["Gemini API rate-limited (429); retrying in 7 s (2/3)"]


def test_a_retry_after_longer_than_a_minute_is_not_waited_out(fake: FakeGemini) -> None:
    rec = Recorder()
    fake.inject(Fault("status", status=429, retry_after=3600))
    with pytest.raises(ModelError, match="asks to wait 3600 s"):
        model_for(fake, rec).generate(HI)
    assert rec.slept == [] and len(fake.calls("generateContent")) == 1


def test_retries_are_bounded_and_end_in_one_clear_error(fake: FakeGemini) -> None:
    rec = Recorder()
    fake.inject(*[Fault("status", status=503)] * 3)
    with pytest.raises(ModelError, match=r"unavailable or rate-limited \(503\) after 3 tries"):
        model_for(fake, rec).generate(HI)
    assert len(fake.calls("generateContent")) == 3 and len(rec.said) == 2


def test_a_reset_connection_is_retried(fake: FakeGemini) -> None:
    rec = Recorder()
    fake.inject(Fault("reset"))
    fake.reply_text("after the reset")
    assert model_for(fake, rec).generate(HI).text == "after the reset"
    assert rec.said and "connection broke (ReadError)" in rec.said[0]


def test_a_first_byte_past_the_deadline_is_retried_then_reported(fake: FakeGemini) -> None:
    rec = Recorder()
    fake.inject(Fault("slow", delay_s=1.0))
    fake.reply_text("in time")
    assert model_for(fake, rec, timeout_ms=400).generate(HI).text == "in time"
    assert rec.said[0].startswith("Gemini API too slow to answer; retrying")

    fake.inject(*[Fault("slow", delay_s=1.0)] * 2)
    with pytest.raises(ModelError, match=r"did not answer generateContent within 0.4 s, 2 tries"):
        model_for(fake, Recorder(), timeout_ms=400, tries=2).generate(HI)


@pytest.mark.parametrize(("kind", "says"), [("cut", "ended before the answer did"), ("reset", "broke off")])
def test_a_stream_that_stops_midway_is_reported_as_cut_never_as_whole(
    fake: FakeGemini, kind: str, says: str
) -> None:
    """Stopped cleanly without a finish reason, or reset: what was shown is incomplete, and not replayed."""
    shown: list[str] = []
    fake.inject(Fault(kind))  # type: ignore[arg-type]
    fake.reply_text("The delay ", "is set in ", "client.py.")
    with pytest.raises(AnswerCut, match=says):
        model_for(fake, Recorder()).generate(HI, on_text=shown.append)
    assert "".join(shown) == "The delay " and len(fake.calls("streamGenerateContent")) == 1


def test_an_unknown_part_kind_is_skipped_and_the_rest_is_read(fake: FakeGemini) -> None:
    fake.inject(Fault("unknown_part"))
    fake.reply_text("still readable")
    assert model_for(fake, Recorder()).generate(HI).text == "still readable"


@pytest.mark.parametrize("stream", [False, True])
def test_an_unreadable_reply_is_named_as_one(fake: FakeGemini, stream: bool) -> None:
    fake.inject(Fault("malformed_json"))
    fake.reply_text("a ", "b")
    with pytest.raises(ValueError) as info:  # JSONDecodeError, or the SDK's UnknownApiResponseError
        model_for(fake, Recorder()).generate(HI, on_text=(lambda _: None) if stream else None)
    assert describe(info.value).startswith("the Gemini API sent a reply forage could not read")


def test_a_signature_that_is_not_base64_is_named_as_an_unreadable_reply(fake: FakeGemini) -> None:
    fake.inject(Fault("bad_signature"))
    fake.reply_call("read_file", {"path": "a.py"})
    with pytest.raises(Exception) as info:  # noqa: PT011 - the SDK's pydantic ValidationError
        model_for(fake, Recorder()).generate(HI)
    assert type(info.value).__name__ == "ValidationError"
    assert describe(info.value).startswith("the Gemini API sent a reply forage could not read")


def test_the_retry_policy_comes_from_settings(fake: FakeGemini, tmp_path) -> None:
    from agent.settings import Settings

    settings = Settings(
        model=MODEL, gemini_api_key="test-key", gemini_base_url=fake.url, data_dir=tmp_path,
        api_tries=2, api_backoff=0.0, api_timeout=0.4,
    )  # fmt: skip
    model = GeminiModel.from_settings(settings)
    assert (model.max_retries, model.backoff_s, model.timeout_s) == (1, 0.0, 0.4)
    fake.inject(*[Fault("slow", delay_s=1.0)] * 2)
    with pytest.raises(ModelError, match="within 0.4 s, 2 tries"):  # the client's deadline is api_timeout
        model.generate(HI)
