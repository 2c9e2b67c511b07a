"""Which of detect-secrets' findings are not secrets: its own false-positive heuristics, plus
placeholders, words, non-random text, hand-written JWTs and `pragma: allowlist secret` lines.

A redaction in ordinary code is a defect, so tools.screening.secrets asks here before it replaces a match.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter
from typing import Any
from urllib.parse import unquote

from detect_secrets.filters import allowlist, heuristic
from detect_secrets.plugins import basic_auth, jwt, keyword
from detect_secrets.util.code_snippet import get_code_snippet

# Values that are placeholders, not secrets ("changeme", "<your-token>", "${DB_PASSWORD}").
PLACEHOLDER = re.compile(
    r"(?i)^(x+|\*+|\.+|changeme|change_me|password|secret|example|sample|dummy|test|none|null|true|false|"
    r"your[_-].*|<.*>|\{.*\}|\$.*|%.*%|todo|fixme|redacted|\[redacted.*)$"
)

_PLACEHOLDER_WORDS = frozenset(
    "pass passwd password pwd secret user username test testing example sample dummy fake foo bar baz "
    "changeme admin root guest demo xxx mypassword yourpassword token key".split()
)
_COMPARISON = re.compile(r"[!=]==?")
# A snake_case name standing where the value goes ("aws_secret_access_key", "test_api_key").
_IDENTIFIER = re.compile(r"[a-z]+(?:_[a-z]+)+")
# Credentials their vendors publish for local emulators: in every tutorial, a secret to no one.
_PUBLIC_SAMPLES = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",)  # Azure Azurite
_MIN_ENTROPY = 3.0  # bits per character; a random 20-character key over 32+ symbols has about 4


def is_false_positive(
    value: str, line: str, plugin: Any, span: tuple[int, int] = (0, 0), test_file: bool = False
) -> bool:
    """detect-secrets' own false-positive heuristics, plus placeholders, words and non-random text."""
    weak = isinstance(plugin, keyword.KeywordDetector | basic_auth.BasicAuthDetector)
    formatted = not weak and not isinstance(plugin, jwt.JwtTokenDetector)
    return (
        (weak and (test_file or _one_word(_unquoted(value)) or bool(_IDENTIFIER.fullmatch(value))))
        or (formatted and (_inside_a_longer_token(line, span) or _not_random(value)))
        or heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
        or heuristic.is_likely_id_string(value, line, plugin)
        or heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_not_alphanumeric_string(value)
        or bool(PLACEHOLDER.match(value.strip()))
        or "EXAMPLE" in value  # AWS's documented sample keys (AKIAIOSFODNN7EXAMPLE)
        or any(sample in value for sample in _PUBLIC_SAMPLES)
        or (isinstance(plugin, keyword.KeywordDetector) and _not_stored(line))
        or (isinstance(plugin, basic_auth.BasicAuthDetector) and _placeholder_words(value))
        or (isinstance(plugin, jwt.JwtTokenDetector) and not _issued(value))
    )


def _not_stored(line: str) -> bool:
    """A keyword line that reads a secret (`= get_secret()`) or compares one (`==`) stores none."""
    return heuristic.is_indirect_reference(line) or bool(_COMPARISON.search(line))


def _placeholder_words(value: str) -> bool:
    """Tell whether a password in a URL is made of placeholder words ("user:pass@", "u:p@")."""
    words = [w for w in re.split(r"[^a-z0-9]+", unquote(value).lower()) if w]
    return all(len(w) <= 2 or w in _PLACEHOLDER_WORDS for w in words)


def _unquoted(value: str) -> str:
    return unquote(value)


def _inside_a_longer_token(line: str, span: tuple[int, int]) -> bool:
    """A key's format matched inside a longer run of letters and digits (a base64 blob, a word)."""
    start, end = span
    before = line[start - 1] if start > 0 else " "
    after = line[end] if end < len(line) else " "
    return before.isalnum() or after.isalnum()


def _not_random(value: str) -> bool:
    """Keys are random: one with little entropy (xxxx placeholders, DNA, repeated runs) is not one."""
    if len(value) < 16:
        return False
    counts = Counter(value)
    entropy = -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())
    return entropy < _MIN_ENTROPY


def _one_word(value: str) -> bool:
    """A short run of letters ("config", "Actions") is a setting's name or a word, not a key."""
    return len(value) <= 10 and value.isalpha()


def _issued(token: str) -> bool:
    """Tell whether a JWT was issued by a real service: it names an issuer or an expiry.

    Identity providers always set them (RFC 7519 registered claims); tokens written by hand
    for tests and tutorials ({"sub": "foo"}) usually do not, and are not credentials.
    """
    try:
        part = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(payload, dict) and bool({"iss", "exp"} & payload.keys())


def allowlisted(filename: str, text: str, line_start: int, line: str) -> bool:
    """detect-secrets' `pragma: allowlist secret` comments (on the line or the one before)."""
    before = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    if "allowlist" not in text[before : line_start + len(line)]:
        return False
    lines = text[before : line_start + len(line)].split("\n")
    context = get_code_snippet(lines, len(lines))
    return bool(allowlist.is_line_allowlisted(filename or "x.txt", line, context))
