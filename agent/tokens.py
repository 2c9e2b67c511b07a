"""Token counting: the model's own count when it has one, the calibrated estimate otherwise.

Each distinct text is counted once (keyed by its hash), so re-packing the same documents
for a follow-up costs nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tools.tokens import estimate_tokens


class TokenCounter:
    """Count tokens with a model's counter, caching by content hash."""

    def __init__(self, count: Callable[[str], int] | None = None) -> None:
        self._count = count or estimate_tokens
        self._cache: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        if len(text) < 64:  # hashing costs more than counting short strings
            return self._count(text)
        key = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._count(text)
        return hit
