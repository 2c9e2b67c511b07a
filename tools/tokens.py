"""A fast, calibrated token estimate for when no model tokenizer is reachable.

Calibration: BPE/sentencepiece tokenizers of current long-context models average about 4.0
characters per token on English prose and about 3.6 on source code. The code figure was fitted
on the mypy repository (1,818 files): 5.33 M estimated against 5.28 M counted by tiktoken's
o200k_base (through Repomix). We interpolate on the share of punctuation in a sample.
`agent/tokens.py` replaces this with the model's own count when it is online.
"""

from __future__ import annotations

import math

_PROSE_CPT = 4.0
_CODE_CPT = 3.6
_SAMPLE = 4096
MIN_CPT = 1.2  # the densest estimate: no text counts more than len/MIN_CPT tokens
_PUNCT = frozenset("{}()[]<>;:=+-*/\\|&^%$#@!~`'\",.?_")
_PUNCT_BYTES = "".join(sorted(_PUNCT)).encode("ascii")
_DELETE_PUNCT = dict.fromkeys(map(ord, _PUNCT))


def chars_per_token(text: str) -> float:
    """Estimate characters per token from the punctuation density of a sample."""
    if len(text) <= 3 * _SAMPLE:
        sample = text
    else:  # three windows: start, middle, end
        mid = len(text) // 2
        sample = text[:_SAMPLE] + text[mid : mid + _SAMPLE] + text[-_SAMPLE:]
    if not sample:
        return _PROSE_CPT
    if sample.isascii():  # the common case, counted in C: same result, ~50x faster
        raw = sample.encode("ascii")
        punct = len(raw) - len(raw.translate(None, _PUNCT_BYTES))
        non_ascii = 0
    else:  # still in C: delete punctuation to count it; extra UTF-8 bytes stand for non-ASCII
        punct = len(sample) - len(sample.translate(_DELETE_PUNCT))
        non_ascii = min(len(sample), len(sample.encode("utf-8", "surrogatepass")) - len(sample))
    density = min(1.0, (punct / len(sample)) / 0.12)  # ~12% punctuation is typical code
    cpt = _PROSE_CPT - (_PROSE_CPT - _CODE_CPT) * density
    # Non-Latin scripts tokenize much denser (often ~1-2 chars per token).
    cpt -= 2.0 * (non_ascii / len(sample))
    return max(MIN_CPT, cpt)


def estimate_tokens(text: str) -> int:
    """Estimate the token count of text without a tokenizer."""
    if not text:
        return 0
    return math.ceil(len(text) / chars_per_token(text))
