"""GeminiModel against a fake Gemini REST server on loopback (no network, no key)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types

from agent.errors import ModelError
from agent.models.base import ChatModel, Message, ToolSpec
from agent.models.gemini import GeminiModel
from agent.models.refusal import NOT_IN_CONTEXT
from agent.settings import Settings
from agent.state import ToolCall
from tests.fakes.gemini_server import FakeGemini, GeminiServer, signature_bytes

PREFIX = "<document uri='a.txt'>\n" + "alpha beta gamma delta " * 400 + "\n</document>\n"
MODEL = "gemini-3.5-flash"


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with GeminiServer() as fake:
        yield fake


def model_for(fake: FakeGemini, name: str = MODEL, key: str = "test-key", **kw: object) -> GeminiModel:
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=fake.url))
    kw.setdefault("sleep", lambda s: None)
    return GeminiModel(client, name, **kw)  # type: ignore[arg-type]


def test_from_settings_takes_the_window_from_models_list(fake: FakeGemini, tmp_path) -> None:
    settings = Settings(
        model="gemini-test", gemini_api_key="test-key", gemini_base_url=fake.url, data_dir=tmp_path
    )
    model = GeminiModel.from_settings(settings)
    assert isinstance(model, ChatModel)
    assert model.window == 32_000
    assert {r.action for r in fake.requests} == {"models.list"}  # every page, no models.get
    assert GeminiModel.from_settings(settings.model_copy(update={"window": 5000})).window == 5000


def test_text_reply_puts_question_last_and_reports_usage(fake: FakeGemini) -> None:
    model = model_for(fake, window=100_000)
    fake.reply_text("Paris [1]")
    reply = model.generate(
        [Message(role="system", content="be brief"), Message(role="user", content="Capital of France?")]
    )
    assert reply.text == "Paris [1]" and not reply.unanswerable
    body = fake.calls("generateContent")[0].body
    assert body["contents"][-1]["parts"][-1]["text"] == "Capital of France?"
    assert "be brief" in body["systemInstruction"]["parts"][0]["text"]
    assert NOT_IN_CONTEXT in body["systemInstruction"]["parts"][0]["text"]
    # thinking tokens are output tokens (billed so), and reported on their own
    assert reply.usage.thinking_tokens == fake.thoughts_tokens
    assert reply.usage.output_tokens == 2 + fake.thoughts_tokens
    assert reply.usage.cost_usd is not None and reply.usage.cost_known
    assert reply.provider is None  # only planning turns keep their parts


def test_function_call_reply_keeps_its_signed_parts_and_replays_them(fake: FakeGemini) -> None:
    schema = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "file to read"},
            "start_line": {"type": "integer"},
        },
        "required": ["path"],
    }
    tools = [ToolSpec(name="read_file", description="Read a text file.", input_schema=schema, server="files")]
    fake.reply_call("read_file", {"path": "README.md"})
    model = model_for(fake, window=100_000)
    reply = model.generate([Message(role="user", content="What does the readme say?")], tools)
    assert reply.tool_calls == [ToolCall(name="read_file", args={"path": "README.md"}, id=None)]
    decls = fake.calls("generateContent")[0].body["tools"][0]["functionDeclarations"]
    # The SDK writes this field in snake_case; the REST API accepts either spelling.
    schemas = [d.get("parametersJsonSchema", d.get("parameters_json_schema")) for d in decls]
    assert [(d["name"], d["description"]) for d in decls] == [("read_file", "Read a text file.")]
    assert schemas == [schema]
    issued = next(iter(fake.signatures))
    assert reply.provider is not None and reply.provider["model"] == MODEL
    # the tool result goes back as a functionResponse, after the call with its signature
    fake.reply_text("It says hi.")
    msgs = [
        Message(role="user", content="What does the readme say?"),
        Message(role="assistant", tool_calls=reply.tool_calls, provider=reply.provider),
        Message(role="tool", name="read_file", content="hi", tool_call_id=None),
    ]
    assert model.generate(msgs, tools).text == "It says hi."
    sent = fake.calls("generateContent")[1].body["contents"]
    assert sent[1]["parts"][0]["functionCall"]["name"] == "read_file"
    assert signature_bytes(sent[1]["parts"][0]["thoughtSignature"]) == issued  # byte for byte
    assert sent[2]["parts"][0]["functionResponse"] == {"name": "read_file", "response": {"result": "hi"}}


def test_parallel_calls_are_signed_on_the_first_part_only(fake: FakeGemini) -> None:
    tools = [ToolSpec(name="read_file", description="Read.", input_schema={"type": "object"})]
    fake.reply_calls(("read_file", {"path": "a"}), ("read_file", {"path": "b"}))
    model = model_for(fake, window=100_000)
    reply = model.generate([Message(role="user", content="read a and b")], tools)
    assert [c.args["path"] for c in reply.tool_calls] == ["a", "b"]
    parts = reply.provider["parts"]
    assert "thought_signature" in parts[0] and "thought_signature" not in parts[1]
    fake.reply_text("done")
    msgs = [
        Message(role="user", content="read a and b"),
        Message(role="assistant", tool_calls=reply.tool_calls, provider=reply.provider),
        Message(role="tool", name="read_file", content="A"),
        Message(role="tool", name="read_file", content="B"),
    ]
    assert model.generate(msgs, tools).text == "done"
    sent = fake.calls("generateContent")[1]
    assert sent.status == 200 and len(sent.body["contents"][2]["parts"]) == 2  # both responses, one content


def test_the_fake_rejects_a_missing_or_changed_signature(fake: FakeGemini) -> None:
    """The gate that makes the signature tests mean something: it must be able to fail."""
    tools = [ToolSpec(name="read_file", description="Read.", input_schema={"type": "object"})]
    fake.reply_call("read_file", {"path": "a"})
    model = model_for(fake, window=100_000)
    reply = model.generate([Message(role="user", content="read a")], tools)
    changed = {**reply.provider, "parts": [{**reply.provider["parts"][0], "thought_signature": "AAAA"}]}
    for provider in (
        changed,
        {**reply.provider, "parts": [{"function_call": {"name": "read_file", "args": {"path": "a"}}}]},
    ):
        with pytest.raises(ModelError, match="thought_signature|thought signature"):
            model.generate(
                [
                    Message(role="user", content="read a"),
                    Message(role="assistant", tool_calls=reply.tool_calls, provider=provider),
                    Message(role="tool", name="read_file", content="A"),
                ],
                tools,
            )
    assert [r.status for r in fake.calls("generateContent")] == [200, 400, 400]
    assert "is missing a thought_signature" in fake.calls("generateContent")[2].note


def test_a_turn_from_another_model_is_replayed_with_the_documented_stand_in(fake: FakeGemini) -> None:
    tools = [ToolSpec(name="read_file", description="Read.", input_schema={"type": "object"})]
    fake.reply_text("fine")
    msgs = [
        Message(role="user", content="read a"),
        Message(role="assistant", tool_calls=[ToolCall(name="read_file", args={"path": "a"})]),
        Message(role="tool", name="read_file", content="A"),
    ]
    assert model_for(fake, window=100_000).generate(msgs, tools).text == "fine"


def test_streaming_calls_on_text_per_chunk(fake: FakeGemini) -> None:
    fake.reply_text("Hel", "lo ", "world")
    pieces: list[str] = []
    reply = model_for(fake, window=100_000).generate(
        [Message(role="user", content="hi")], on_text=pieces.append
    )
    assert pieces == ["Hel", "lo ", "world"] and reply.text == "Hello world"
    rec = fake.calls("streamGenerateContent")[0]
    assert rec.query.get("alt") == ["sse"]
    assert reply.usage.output_tokens > 0


def test_count_tokens_asks_once_per_text(fake: FakeGemini) -> None:
    model = model_for(fake, window=100_000)
    assert model.count_tokens("one two three") == 3
    assert model.count_tokens("one two three") == 3
    assert len(fake.calls("countTokens")) == 1


def test_cached_prefix_created_once_reused_on_follow_up_and_deleted_on_close(fake: FakeGemini) -> None:
    model = model_for(fake, window=100_000, caching=True)
    q1 = Message(role="user", content="Based on the documents above, what is alpha?", cacheable_prefix=PREFIX)
    fake.reply_text("alpha is a letter")
    first = model.generate([q1])
    assert len(fake.calls("cachedContents.create")) == 1
    assert len(fake.calls("countTokens")) == 1
    create = fake.calls("cachedContents.create")[0].body
    assert create["contents"][0]["parts"][0]["text"] == PREFIX and create["ttl"].endswith("s")
    body = fake.calls("generateContent")[0].body
    assert body["cachedContent"] == "cachedContents/c1"
    assert PREFIX not in str(body["contents"])  # the prefix travels only in the cache
    assert body["contents"][-1]["parts"][-1]["text"] == q1.content
    assert first.usage.cached_tokens > 1000

    q2 = Message(role="user", content="And what is beta?", cacheable_prefix=PREFIX)
    fake.reply_text("beta too")
    follow = model.generate([q1, Message(role="assistant", content=first.text), q2])
    assert len(fake.calls("cachedContents.create")) == 1  # no new cache
    assert len(fake.calls("countTokens")) == 1  # and no new count
    body2 = fake.calls("generateContent")[1].body
    assert body2["cachedContent"] == "cachedContents/c1"
    assert body2["contents"][-1]["parts"][-1]["text"] == "And what is beta?"
    assert follow.usage.cached_tokens == first.usage.cached_tokens
    # the server still holds it (get), until close() deletes it
    client = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=fake.url))
    assert client.caches.get(name="cachedContents/c1").name == "cachedContents/c1"
    model.close()
    assert [r.path for r in fake.calls("cachedContents.delete")] == ["cachedContents/c1"]
    assert fake.caches == {}


def test_without_caching_no_cache_is_made(fake: FakeGemini) -> None:
    model = model_for(fake, window=100_000)  # a one-shot ask: nothing could reuse a cache
    model.generate([Message(role="user", content="q", cacheable_prefix=PREFIX)])
    assert not fake.calls("cachedContents.create") and not fake.calls("countTokens")
    body = fake.calls("generateContent")[0].body
    assert body["contents"][0]["parts"][0]["text"] == PREFIX


def test_changed_prefix_gets_a_new_cache_and_small_prefix_none(fake: FakeGemini) -> None:
    model = model_for(fake, window=100_000, caching=True, cache_min_tokens=1000)
    model.generate([Message(role="user", content="q", cacheable_prefix=PREFIX)])
    model.generate([Message(role="user", content="q", cacheable_prefix=PREFIX + "more words\n")])
    assert len(fake.calls("cachedContents.create")) == 2
    model.generate([Message(role="user", content="q", cacheable_prefix="tiny prefix\n")])
    assert len(fake.calls("cachedContents.create")) == 2
    last = fake.calls("generateContent")[-1].body
    assert "cachedContent" not in last and last["contents"][0]["parts"][0]["text"] == "tiny prefix\n"
    model.close()


def test_a_prefix_the_api_finds_too_small_is_sent_uncached(fake: FakeGemini) -> None:
    # Our threshold is lower than the API's: the API refuses the cache, the answer still comes.
    model = model_for(fake, name="gemini-3.1-pro-preview", window=100_000, caching=True, cache_min_tokens=100)
    prefix = "word " * 2000  # 2,000 of the fake's tokens: under the pro model's 4,096
    fake.reply_text("answered")
    assert model.generate([Message(role="user", content="q", cacheable_prefix=prefix)]).text == "answered"
    create = fake.calls("cachedContents.create")
    assert len(create) == 1 and create[0].status == 400 and "too small" in create[0].note
    model.generate([Message(role="user", content="q2", cacheable_prefix=prefix)])
    assert len(fake.calls("cachedContents.create")) == 1  # remembered: not tried again


def test_not_in_context_marks_reply_unanswerable(fake: FakeGemini) -> None:
    fake.reply_text(f"{NOT_IN_CONTEXT}\nThe documents do not mention beta.")
    reply = model_for(fake, window=100_000).generate([Message(role="user", content="what is beta?")])
    assert reply.unanswerable


def test_bad_key_is_a_model_error(fake: FakeGemini) -> None:
    with pytest.raises(ModelError, match="API key"):
        model_for(fake, key="wrong-key")


def test_over_window_is_a_model_error(fake: FakeGemini) -> None:
    fake.models["gemini-test"] = 50
    model = model_for(fake, name="gemini-test")
    with pytest.raises(ModelError, match="window"):
        model.generate([Message(role="user", content="word " * 60)])


def test_429_then_success_is_retried(fake: FakeGemini) -> None:
    slept: list[float] = []
    model = model_for(fake, window=100_000, sleep=slept.append)
    fake.failures[:] = [429, 503]
    fake.reply_text("finally")
    assert model.generate([Message(role="user", content="hi")]).text == "finally"
    assert len(fake.calls("generateContent")) == 3 and len(slept) == 2 and slept[1] > slept[0]


def test_retries_give_up_with_a_model_error(fake: FakeGemini) -> None:
    model = model_for(fake, window=100_000, max_retries=2)
    fake.failures[:] = [500, 500, 500]
    with pytest.raises(ModelError, match="unavailable or rate-limited") as info:
        model.generate([Message(role="user", content="hi")])
    assert "forage models" in str(info.value)  # says what to do next


def test_any_api_version_prefix(fake: FakeGemini) -> None:
    client = genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=fake.url, api_version="v1")
    )
    assert GeminiModel(client, "gemini-test").window == 32_000


def test_gemini_embeddings_through_the_fake_server(fake: FakeGemini) -> None:
    from agent.retrieval.embeddings import GeminiEmbedder, choose_embedder

    settings = Settings(gemini_api_key="test-key", gemini_base_url=fake.url, embedding="gemini")
    embedder, notice = choose_embedder(settings)
    assert isinstance(embedder, GeminiEmbedder) and notice is None
    vecs = embedder.embed(["one two", "three four five"])
    assert vecs.shape[0] == 2 and abs(float((vecs[0] ** 2).sum()) - 1) < 1e-5
    assert embedder.embed_query("a question").ndim == 1
    assert {r.action for r in fake.requests} & {"embedContent", "batchEmbedContents"}
