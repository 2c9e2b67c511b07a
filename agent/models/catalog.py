"""Which Gemini models a key can use today: `models.list`, the default choice, a one-day memo.

Model names retire (gemini-2.5-flash did on 2026-12-01), so forage never hard-codes one: with
no --model it lists the models, keeps those that can generateContent, and takes the newest
stable Flash. The list and the choice are remembered for a day in the data dir, keyed by the
endpoint and a hash of the key (the key itself is never written).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.settings import Price

MEMO_TTL_S = 24 * 3600
MEMO_FILE = "gemini-models.json"

# Models that generate text but are made for something else (images, speech, live audio...).
_SPECIAL = re.compile(r"(image|tts|audio|live|embedding|aqa|robotics|computer-use|veo|imagen|learnlm)")
_STABLE_FLASH = re.compile(r"^gemini-(\d+(?:\.\d+)*)-flash(?:-\d{3})?$")
_PREVIEW_FLASH = re.compile(r"^gemini-(\d+(?:\.\d+)*)-flash-preview(?:-[0-9-]+)?$")
_VERSION = re.compile(r"^gemini-(\d+(?:\.\d+)*)")


@dataclass
class ModelInfo:
    """What models.list says of one model."""

    name: str  # without the "models/" prefix
    display_name: str = ""
    input_token_limit: int = 0
    output_token_limit: int = 0
    actions: list[str] = field(default_factory=list)  # supportedGenerationMethods
    thinking: bool = False

    @property
    def generates(self) -> bool:
        return "generateContent" in self.actions

    @property
    def caches(self) -> bool:
        """Explicit context caching (cachedContents) is offered for this model."""
        return "createCachedContent" in self.actions


@dataclass
class Catalog:
    """The models a key can use, and when they were listed."""

    models: list[ModelInfo]
    listed_at: float

    def get(self, name: str) -> ModelInfo | None:
        name = name.removeprefix("models/")
        return next((m for m in self.models if m.name == name), None)

    def generative(self) -> list[ModelInfo]:
        """Models that answer generateContent, newest first."""
        usable = [m for m in self.models if m.generates and m.name.startswith("gemini-")]
        return sorted(usable, key=lambda m: (_version(m.name), m.name), reverse=True)

    def default(self) -> ModelInfo | None:
        """The newest stable Flash; else the newest Flash preview; else the newest general model."""
        general = [m for m in self.generative() if not _SPECIAL.search(m.name)]
        for pattern in (_STABLE_FLASH, _PREVIEW_FLASH):
            found = [m for m in general if pattern.match(m.name)]
            if found:
                return found[0]
        return general[0] if general else None


def _version(name: str) -> tuple[int, ...]:
    m = _VERSION.match(name)
    return tuple(int(x) for x in m.group(1).split(".")) if m else ()


def list_models(client: Any) -> list[ModelInfo]:
    """Every base model the key can see (all pages of models.list)."""
    out = []
    for m in client.models.list(config={"page_size": 1000}):
        out.append(
            ModelInfo(
                name=(m.name or "").removeprefix("models/"),
                display_name=m.display_name or "",
                input_token_limit=int(m.input_token_limit or 0),
                output_token_limit=int(m.output_token_limit or 0),
                actions=list(m.supported_actions or []),
                thinking=bool(m.thinking),
            )
        )
    return out


def _memo_key(base_url: str | None, api_key: str) -> str:
    return hashlib.sha256(f"{base_url or 'default'}\0{api_key}".encode()).hexdigest()[:24]


def load_catalog(
    client: Any,
    *,
    data_dir: Path | None,
    base_url: str | None,
    api_key: str,
    refresh: bool = False,
    now: Callable[[], float] = time.time,
) -> Catalog:
    """The catalog from the one-day memo when fresh, else from models.list (and memoised)."""
    path = data_dir / MEMO_FILE if data_dir is not None else None
    key = _memo_key(base_url, api_key)
    if path is not None and not refresh:
        cached = _read_memo(path, key, now())
        if cached is not None:
            return cached
    catalog = Catalog(models=list_models(client), listed_at=now())
    if path is not None:
        _write_memo(path, key, catalog)
    return catalog


def _read_memo(path: Path, key: str, now: float) -> Catalog | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entry = data[key]
        if now - float(entry["listed_at"]) > MEMO_TTL_S:
            return None
        return Catalog([ModelInfo(**m) for m in entry["models"]], float(entry["listed_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, stale or unreadable: list again


def _write_memo(path: Path, key: str, catalog: Catalog) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[key] = {"listed_at": catalog.listed_at, "models": [asdict(m) for m in catalog.models]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a memo that cannot be written only costs one models.list next time


def unavailable_message(name: str, catalog: Catalog | None, why: str = "") -> str:
    """One message for a retired or unknown model: what is current and how to choose."""
    current = [m.name for m in catalog.generative() if not _SPECIAL.search(m.name)] if catalog else []
    shown = ", ".join(current[:8]) + (" …" if len(current) > 8 else "")
    lines = [f"Gemini model {name!r} is not available{f' ({why})' if why else ''}: it is retired or unknown."]
    if shown:
        lines.append(f"Current models: {shown}.")
    lines.append(
        'Set --model NAME, or model = "NAME" in forage.toml (or leave it unset: forage then picks '
        "the newest stable Flash). `forage models` lists what your key can use."
    )
    return " ".join(lines)


def model_rows(catalog: Catalog, prices: Mapping[str, Price]) -> list[dict[str, Any]]:
    """One row per model that generates text, newest first: window, caching, price; the default marked."""
    from agent.models.prices import format_price, price_for

    default = catalog.default()
    out = []
    for m in catalog.generative():
        price = price_for(m.name, prices)
        out.append(
            {
                "name": m.name,
                "window": m.input_token_limit,
                "output": m.output_token_limit,
                "caching": m.caches,
                "thinking": m.thinking,
                "price": price.model_dump(exclude_none=True) if price else None,
                "price_text": format_price(price),
                "default": default is not None and m.name == default.name,
            }
        )
    return out
