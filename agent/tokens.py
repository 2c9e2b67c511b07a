"""Token counting: a calibrated estimate for every text, the model's own count where it decides.

Counting each document through a model API would cost one request per file, so documents are
counted with the fast estimate (tools/tokens.py), scaled by a ratio learned from the model's
real counts. `exact` asks the model (one call) and recalibrates; packing uses it once, on the
whole pack, so the budget holds against the real count.
"""

from __future__ import annotations

from collections.abc import Callable

from tools.tokens import estimate_tokens

_CALIBRATE_MIN_CHARS = 2000  # short texts say little about the ratio


class TokenCounter:
    """Count tokens cheaply (calibrated estimate) and exactly (the model).

    Estimates are not memoised: the estimate reads at most a 12 KB sample, where a memo's key
    (a digest of the whole text) cost as much or more, and a memo of a 100k-file folder's texts
    held ~14 MB through ranking.
    """

    def __init__(self, exact: Callable[[str], int] | None = None) -> None:
        self._exact = exact
        self.ratio = 1.0

    def __call__(self, text: str) -> int:
        if not text:
            return 0
        return max(1, round(estimate_tokens(text) * self.ratio))

    def exact(self, text: str) -> int:
        """The model's own count (one request when online); also recalibrates the estimate."""
        if self._exact is None or not text:
            return self(text)
        n = self._exact(text)
        if len(text) >= _CALIBRATE_MIN_CHARS:
            ratio = n / max(1, estimate_tokens(text))
            if abs(ratio - self.ratio) > 0.02:
                self.ratio = ratio
        return n
