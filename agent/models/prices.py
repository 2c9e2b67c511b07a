"""What forage assumes Gemini charges, and the cost of one reply's usage.

A dated table for the current models, overridable in forage.toml (`[prices."MODEL"]` with
`input`, `cached`, `output` in USD per 1M tokens). A model in neither gets "cost unknown", never
a guess from a similar name (gemini-3.5-flash-lite is not priced like gemini-3.5-flash).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agent.settings import Price

PRICES_CHECKED = "2026-12-01"
PRICES_SOURCE = "https://ai.google.dev/gemini-api/docs/pricing (paid tier, text input)"


# Checked on PRICES_CHECKED. Models absent here (gemini-3.8-flash, gemini-3.5-flash-lite, ...)
# had no price we could confirm: they report "cost unknown" until [prices] in forage.toml names one.
PRICES: dict[str, Price] = {
    "gemini-3.5-flash": Price(input=1.50, cached=0.15, output=9.00),
    "gemini-3.1-pro-preview": Price(
        input=2.00,
        cached=0.20,
        output=12.00,
        long_above=200_000,
        long_input=4.00,
        long_cached=0.40,
        long_output=18.00,
    ),  # fmt: skip
    "gemini-3.1-flash-lite-preview": Price(input=0.25, cached=0.025, output=1.50),
    "gemini-3-flash-preview": Price(input=0.50, cached=0.05, output=3.00),
}

_VERSION_SUFFIX = re.compile(r"-\d{3}$")


def price_for(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The price of a model by its exact name (a trailing -001 style version is ignored)."""
    name = model.removeprefix("models/")
    for candidate in (name, _VERSION_SUFFIX.sub("", name)):
        if overrides and candidate in overrides:
            return overrides[candidate]
        if candidate in PRICES:
            return PRICES[candidate]
    return None


def format_price(price: Price | None) -> str:
    """A price as `forage models` shows it: input / cached / output, USD per 1M tokens."""
    if price is None:
        return "unknown"
    text = f"${price.input:g} / ${price.cached:g} / ${price.output:g}"
    return text + (f" (more above {price.long_above:,})" if price.long_above else "")
