"""Which Gemini model forage uses: models.list, the default choice and its memo, retired names, prices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types

from agent.errors import ModelError
from agent.models import make_model
from agent.models.catalog import Catalog, ModelInfo, load_catalog
from agent.models.gemini import GeminiModel
from agent.models.gemini_errors import ModelUnavailable
from agent.models.prices import price_for
from agent.settings import Price, Settings, load_settings
from agent.state import Usage
from tests.fakes.gemini_server import FakeGemini, GeminiServer


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with GeminiServer() as fake:
        yield fake


def _settings(fake: FakeGemini, tmp_path, **kw: object) -> Settings:
    return Settings(gemini_api_key="test-key", gemini_base_url=fake.url, data_dir=tmp_path, **kw)


def test_no_model_named_picks_the_newest_stable_flash(fake: FakeGemini, tmp_path) -> None:
    model, notice = make_model(_settings(fake, tmp_path))
    assert model.name == "gemini-3.8-flash"  # not -lite, not -preview, not the image model
    assert model.window == 1_048_576
    assert notice and "gemini-3.8-flash" in notice
    assert len(fake.calls("models.list")) >= 2  # followed nextPageToken
    assert not fake.calls("generateContent")


def test_the_choice_is_remembered_for_a_day(fake: FakeGemini, tmp_path) -> None:
    make_model(_settings(fake, tmp_path))
    listed = len(fake.calls("models.list"))
    make_model(_settings(fake, tmp_path))
    assert len(fake.calls("models.list")) == listed  # from the memo in the data dir
    assert "test-key" not in (tmp_path / "gemini-models.json").read_text()  # the key is never written
    client = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=fake.url))
    later = load_catalog(
        client, data_dir=tmp_path, base_url=fake.url, api_key="test-key", now=lambda: 9e12
    )  # a day later: listed again
    assert len(fake.calls("models.list")) > listed and later.get("gemini-3.8-flash")


def test_default_prefers_stable_then_preview_flash() -> None:
    def cat(*names: str) -> Catalog:
        return Catalog([ModelInfo(n, actions=["generateContent"]) for n in names], 0)

    assert (
        cat("gemini-3.5-flash", "gemini-3.8-flash", "gemini-4.0-flash-preview").default().name
        == "gemini-3.8-flash"
    )
    assert cat("gemini-3.1-pro-preview", "gemini-4-flash-preview").default().name == "gemini-4-flash-preview"
    assert cat("gemini-3.1-pro-preview", "gemini-3.5-flash-lite").default().name == "gemini-3.5-flash-lite"
    assert cat("gemini-3.5-flash-image", "gemini-3.1-pro-preview").default().name == "gemini-3.1-pro-preview"
    assert Catalog([ModelInfo("gemini-3.8-flash", actions=["countTokens"])], 0).default() is None


@pytest.mark.parametrize("name", ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-nope"])
def test_a_retired_or_unknown_model_is_one_clear_error_without_retries(
    fake: FakeGemini, tmp_path, name
) -> None:
    with pytest.raises(ModelUnavailable) as info:
        make_model(_settings(fake, tmp_path, model=name))
    message = str(info.value)
    assert f"{name!r} is not available" in message
    assert "gemini-3.8-flash" in message and "--model" in message and "forage.toml" in message
    assert not fake.calls("generateContent") and not fake.calls("models.get")


def test_a_model_retired_since_the_memo_answers_404_and_says_so(fake: FakeGemini, tmp_path) -> None:
    model, _ = make_model(_settings(fake, tmp_path, model="gemini-3.5-flash"))
    del fake.models["gemini-3.5-flash"]
    fake.retired["gemini-3.5-flash"] = "404"
    from agent.models.base import Message

    with pytest.raises(ModelUnavailable, match="'gemini-3.5-flash' is not available"):
        model.generate([Message(role="user", content="hi")])
    assert len(fake.calls("generateContent")) == 1  # a 404 is not retried


def test_a_retired_model_that_answers_503_is_named_after_the_retries(fake: FakeGemini, tmp_path) -> None:
    client = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=fake.url))
    fake.retired["gemini-2.5-flash"] = "503"
    model = GeminiModel(client, "gemini-2.5-flash", window=10_000, max_retries=2, sleep=lambda s: None)
    from agent.models.base import Message

    with pytest.raises(ModelUnavailable, match="retired or unknown"):
        model.generate([Message(role="user", content="hi")])


def test_a_silent_reroute_is_reported_and_priced_as_the_model_that_answered(fake: FakeGemini) -> None:
    from agent.models.base import Message

    client = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=fake.url))
    fake.retired["gemini-2.5-flash"] = "reroute:gemini-3.5-flash"
    model = GeminiModel(client, "gemini-2.5-flash", window=10_000)
    fake.reply_text("hello")
    reply = model.generate([Message(role="user", content="hi")])
    assert reply.notice and "gemini-3.5-flash" in reply.notice
    assert reply.usage.cost_known and reply.usage.cost_usd is not None


def test_prices_by_exact_name_overridable_and_unknown_says_so(tmp_path) -> None:
    assert price_for("gemini-3.5-flash").input == 1.50
    assert price_for("models/gemini-3.5-flash-001").output == 9.00
    assert price_for("gemini-3.5-flash-lite") is None  # never priced like its big sibling
    (tmp_path / "forage.toml").write_text(
        '[prices."gemini-3.5-flash-lite"]\ninput = 0.3\ncached = 0.03\noutput = 2.5\n'
    )
    settings = load_settings({}, env={}, cwd=tmp_path, user_config=tmp_path / "none.toml")
    price = price_for("gemini-3.5-flash-lite", settings.prices)
    assert price == Price(input=0.3, cached=0.03, output=2.5)
    assert price.cost(1_000_000, 0, 0) == pytest.approx(0.3)
    long = price_for("gemini-3.1-pro-preview")
    assert long.cost(150_000, 0, 0) == pytest.approx(0.30)
    assert long.cost(300_000, 0, 0) == pytest.approx(1.20)  # the >200k-token tier


def test_usage_from_an_unpriced_model_says_cost_unknown() -> None:
    from cli.render import format_cost

    assert format_cost(Usage(cost_usd=None, cost_known=False)) == "cost unknown"
    both = Usage(cost_usd=0.01) + Usage(cost_usd=None, cost_known=False)
    assert format_cost(both).startswith("cost unknown (≥ $0.0100")
    assert format_cost(Usage(cost_usd=0.0123)) == "~$0.0123"


def test_reserve_scales_with_the_window() -> None:
    from agent.pack.routing import available_tokens

    assert Settings(window=8000).reserve_for(8000) == 2000
    assert available_tokens(Settings(window=8000), 1) == 6000
    assert available_tokens(Settings(), 1_048_576) == 1_048_576 - 8192
    assert available_tokens(Settings(window=8000, reserve=500), 1) == 7500
    assert available_tokens(Settings(window=8000, budget=3000), 1) == 3000


def test_no_key_with_a_gemini_model_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="GEMINI_API_KEY"):
        make_model(Settings(model="gemini-3.5-flash", data_dir=tmp_path))
