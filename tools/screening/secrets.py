"""Secrets in gathered text: found with detect-secrets (plus what it misses), replaced by a marker.

detect-secrets (Yelp) decides what is a secret: its provider plugins (AWS, GitHub, GitLab,
Slack, Stripe, OpenAI, JWT, private keys, basic-auth URLs, ...) and its keyword plugin for
passwords and keys in config files, with its own false-positive filters. We call the
plugins' pure `analyze_string` (never `analyze_line`, which can verify a key over the
network) on the lines a cheap scan of the whole text points at, so a large repository costs
a few regex passes, not a Python loop per line per plugin.

What it misses, added here: the body of a PEM private key (it flags only the BEGIN line),
keys it has no plugin for (Google, Hugging Face, Anthropic, fine-grained GitHub tokens), and
`NAME=value` lines in .env-like files, whose unquoted values its keyword plugin skips.

The generic high-entropy plugins are left out on purpose: they flag hashes, test vectors and
lock-file digests in ordinary code, and a redaction in normal code is a defect.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from detect_secrets.filters import heuristic
from detect_secrets.plugins import (
    aws,
    azure_storage_key,
    basic_auth,
    discord,
    github_token,
    gitlab_token,
    jwt,
    keyword,
    mailchimp,
    npm,
    openai,
    pypi_token,
    sendgrid,
    slack,
    square_oauth,
    stripe,
    telegram_token,
    twilio,
)
from detect_secrets.util.filetype import FileType, determine_file_type

from tools.files.walk import is_secret_file
from tools.screening.secret_filters import PLACEHOLDER, allowlisted, is_false_positive

MARK = "[REDACTED:{kind}]"

# Keys detect-secrets has no plugin for (documented formats, prefix-anchored: no guessing).
_EXTRA = (
    # No leading \b: a literal first keeps re's fast search (the character before is checked apart).
    ("google-api-key", re.compile(r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    ("github-token", re.compile(r"github_pat_[0-9A-Za-z_]{82}(?![0-9A-Za-z_])")),
    ("anthropic-api-key", re.compile(r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}")),
    ("huggingface-token", re.compile(r"hf_[A-Za-z]{34}(?![A-Za-z])")),
    ("slack-webhook", re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]{20,}")),
)
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
_PEM_MAX_LINES = 200
_PEM_BODY_CHARS = re.compile(r"[A-Za-z0-9+/=]{16,}")  # runs of base64 in the body
_PEM_MIN_BODY = 3  # runs: the shortest real key (ed25519, OpenSSH) has about six lines
# NAME=value in env-like files; the name says it is a credential.
_ENV_LINE = re.compile(
    r"(?m)^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(['\"]?)([^\s'\"#][^'\"\n]*?)\2\s*(?:#.*)?$"
)
_ENV_NAME = re.compile(r"(?i)(secret|token|passw|pwd|api_?key|private|credential|auth|access_?key|_key$)")
# Tests and their fixtures: a password assigned by name or written in a URL there is test data.
_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|spec|__tests__|fixtures?)/|(^|/)test_[^/]*$|_test\.\w+$|\.(spec|test)\.\w+$"
)


@dataclass(frozen=True)
class Secret:
    """One secret found in a text: what kind, and where (1-based line, character offsets)."""

    kind: str
    line: int
    start: int
    end: int


def _kind(secret_type: str) -> str:
    kind = re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")
    return {
        "secret-keyword": "password",
        "json-web-token": "jwt",
        "basic-auth-credentials": "password-in-url",
    }.get(kind, kind)


@cache
def _scouts() -> tuple[tuple[Any, re.Pattern[str]], ...]:
    """detect-secrets plugins, each with a cheap pattern that every one of its matches contains.

    The scout starts with a literal, so one pass over a whole text runs at memory speed; only
    the lines it points at go through the plugin. Left out: Artifactory, Cloudant, IBM and
    Softlayer, whose assignment patterns ("cl_key = ...") have no literal to scout with and
    match ordinary code; private keys, which are redacted as whole PEM blocks below.
    """
    # Alternations and leading classes lose re's literal fast path: one pattern per literal.
    table = [
        (aws.AWSKeyDetector(), ("AKIA", "ASIA", "ABIA", "ACCA", "A3T", "aws", "AWS", "Aws")),
        (azure_storage_key.AzureStorageKeyDetector(), ("AccountKey=",)),
        (basic_auth.BasicAuthDetector(), (r"://[^\s:@/]+:[^\s@/]+@",)),
        (
            discord.DiscordBotTokenDetector(),
            tuple(rf"{c}[a-zA-Z\d_-]{{23,25}}\.[a-zA-Z\d_-]{{6}}\." for c in "MNO"),
        ),
        (github_token.GitHubTokenDetector(), ("gh[pousr]_",)),
        (gitlab_token.GitLabTokenDetector(), ("gl[a-z]{2,5}-", "GR1348941")),
        (jwt.JwtTokenDetector(), ("eyJ",)),
        (mailchimp.MailchimpDetector(), ("-us[0-9]",)),
        (npm.NpmDetector(), ("_authToken",)),
        (openai.OpenAIDetector(), ("T3BlbkFJ",)),
        (pypi_token.PypiTokenDetector(), ("pypi-AgE",)),
        (sendgrid.SendGridDetector(), (r"SG\.",)),
        (slack.SlackDetector(), ("xox", "XOX", r"hooks\.slack\.com")),
        (square_oauth.SquareOAuthDetector(), ("sq0csp-",)),
        (stripe.StripeDetector(), ("k_live_",)),
        (telegram_token.TelegramBotTokenDetector(), (":[0-9A-Za-z_-]{35}",)),
        (twilio.TwilioKeyDetector(), ("AC[a-z0-9]{32}", "SK[a-z0-9]{32}")),
    ]
    return tuple((plugin, re.compile(scout)) for plugin, scouts in table for scout in scouts)


@cache
def _keyword() -> tuple[Any, re.Pattern[str], tuple[re.Pattern[str], ...]]:
    """The keyword plugin; every one of its patterns contains one of its denylisted words.

    Scouted as literals in the lower-cased text (one fast pass each) when the text is ASCII,
    where lower() keeps every offset; with the plugin's own case-blind pattern otherwise.
    """
    words = {w.replace("_?", sep) for w in keyword.DENYLIST for sep in ("", "_")}
    literals = tuple(re.compile(re.escape(w)) for w in sorted(words) if w.isascii())
    return keyword.KeywordDetector(), re.compile(keyword.DENYLIST_REGEX, re.IGNORECASE), literals


#: File types whose `password: ...` lines are configuration (detect-secrets' own file types).
_CONFIG_TYPES = frozenset({FileType.YAML, FileType.CONFIG, FileType.INI, FileType.PROPERTIES, FileType.TOML})


def _keyword_file(filename: str) -> bool:
    """Configuration outside tests: where a password assigned by name is taken for one."""
    if not filename or not _config_extension(os.path.splitext(filename)[1]):
        return False
    return not _TEST_PATH.search(filename.replace("\\", "/"))


@lru_cache(maxsize=1024)  # a folder has a few dozen extensions; a hostile one, any number
def _config_extension(extension: str) -> bool:
    """detect-secrets' file type goes by the extension alone: decided once per extension (it
    builds its table on every call, ~6 µs a file on a folder of 100k)."""
    return determine_file_type("f" + extension) in _CONFIG_TYPES


def is_env_like(path: str) -> bool:
    """Tell whether a file holds secrets by design (.env, credentials, private keys)."""
    return is_secret_file(path.replace("\\", "/").rsplit("/", 1)[-1])


def _spans(plugin: Any, line: str, keyword_regexes: dict[Any, int]) -> list[tuple[int, int]]:
    """Where in the line the plugin finds secrets (the plugin's own analyze_string decides)."""
    if isinstance(plugin, keyword.KeywordDetector):
        out = []
        for value in plugin.analyze_string(line, denylist_regex_to_group=keyword_regexes):
            pos = line.find(value) if value else -1
            if pos >= 0:
                out.append((pos, pos + len(value)))
        return out
    values = {v for v in plugin.analyze_string(line) if v}
    if not values:
        return []
    out = []
    for rx in plugin.denylist:
        for m in rx.finditer(line):
            whole, group = m.group(0), (m.group(1) if rx.groups else None)
            if not any(v in (whole, group) or whole.startswith(v) for v in values):
                continue
            # findall() yields a pattern's first group: the secret itself when it ends the match
            # (AWS secret keys, passwords in URLs), a prefix alternative like (ghp|gho) otherwise.
            if group is not None and m.start(1) > m.start() and m.end(1) >= m.end() - 1:
                out.append(m.span(1))
            else:
                out.append(m.span())
    return out


def find_secrets(text: str, filename: str = "") -> list[Secret]:
    """Every secret in text, in order, without overlaps (a PEM key is one secret, all its lines)."""
    if not text:
        return []
    if filename and (heuristic.is_lock_file(filename) or heuristic.is_swagger_file(filename)):
        return []
    found: list[Secret] = []

    def add(kind: str, start: int, end: int) -> None:
        found.append(Secret(kind, text.count("\n", 0, start) + 1, start, end))

    filetype = determine_file_type(filename or "x.txt")
    env_like = bool(filename) and is_env_like(filename)
    test_file = bool(_TEST_PATH.search(filename.replace("\\", "/")))
    scouts = list(_scouts())
    # Passwords and keys assigned by name: only in configuration. In source code the same shape
    # is a test fixture or a tutorial value far more often than a secret (measured on real
    # repositories), and provider tokens are caught by their formats anyway.
    scanned = [(plugin, scout, text) for plugin, scout in scouts]
    if env_like or _keyword_file(filename):
        plugin, anycase, literals = _keyword()
        if text.isascii():
            lowered = text.lower()
            scanned += [(plugin, literal, lowered) for literal in literals]
        else:
            scanned.append((plugin, anycase, text))
    # line start -> plugins whose scout hit that line (first come first)
    candidates: dict[int, list[Any]] = {}
    for plugin, scout, scouted in scanned:
        for m in scout.finditer(scouted):
            line_start = text.rfind("\n", 0, m.start()) + 1
            plugins = candidates.setdefault(line_start, [])
            if not any(p is plugin for p in plugins):  # identity: plugins' == builds their JSON
                plugins.append(plugin)
    if candidates:
        keyword_regexes = keyword.REGEX_BY_FILETYPE.get(filetype, keyword.CONFIG_DENYLIST_REGEX_TO_GROUP)
        for line_start in sorted(candidates):
            line_end = text.find("\n", line_start)
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            if len(line) > 10_000 or allowlisted(filename, text, line_start, line):
                continue
            for plugin in candidates[line_start]:
                for start, end in _spans(plugin, line, keyword_regexes):
                    if not is_false_positive(line[start:end], line, plugin, (start, end), test_file):
                        add(_kind(plugin.secret_type), line_start + start, line_start + end)
    for kind, rx in _EXTRA:
        for m in rx.finditer(text):
            if not m.start() or not (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"):
                add(kind, m.start(), m.end())
    for m in _PEM_BEGIN.finditer(text):
        end = _pem_end(text, m)
        # A key has a body; the markers alone are constants in code that parses keys.
        if len(_PEM_BODY_CHARS.findall(text, m.end(), end)) >= _PEM_MIN_BODY:
            add("private-key", m.start(), end)
    if env_like:
        for m in _ENV_LINE.finditer(text):
            if _ENV_NAME.search(m.group(1)) and not PLACEHOLDER.match(m.group(3).strip()):
                add("env-value", m.start(3), m.end(3))
    return _merge(found)


def _pem_end(text: str, begin: re.Match[str]) -> int:
    """End of the key block: its END line, or (a cut-off key) the end of its base64 body."""
    end_marker = f"-----END {begin.group(1)}-----"
    stop = text.find(end_marker, begin.end())
    limit_lines = text.count("\n", begin.end(), stop) if stop >= 0 else _PEM_MAX_LINES + 1
    if stop >= 0 and limit_lines <= _PEM_MAX_LINES:
        return stop + len(end_marker)
    body = re.compile(r"(?:[ \t]*(?:\\n|\n)?[ \t]*[A-Za-z0-9+/=:,\- ]+)*").match(text, begin.end())
    return body.end() if body else begin.end()


def _merge(found: list[Secret]) -> list[Secret]:
    """Sort by position; where two findings overlap, keep the one that starts first (longest)."""
    out: list[Secret] = []
    for s in sorted(found, key=lambda s: (s.start, -(s.end - s.start))):
        if out and s.start < out[-1].end:
            if s.end > out[-1].end:
                prev = out[-1]
                out[-1] = Secret(prev.kind, prev.line, prev.start, s.end)
            continue
        out.append(s)
    return out


def redact(text: str, filename: str = "") -> tuple[str, list[Secret]]:
    """Replace every secret with [REDACTED:kind]; return the new text and what was replaced.

    Line numbers in the result refer to the original text; a redacted PEM block becomes one line.
    """
    found = find_secrets(text, filename)
    if not found:
        return text, []
    parts: list[str] = []
    pos = 0
    for s in found:
        parts.append(text[pos : s.start])
        parts.append(MARK.format(kind=s.kind))
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts), found


def may_hold_secrets(texts: Sequence[str], filenames: Sequence[str]) -> list[bool]:
    """Which texts any detector could fire on: one scouting pass over all of them together.

    A folder of thousands of files is scouted as one string (each pattern once, at memory
    speed) instead of file by file; only the texts marked True need `find_secrets`.
    """
    marks = [False] * len(texts)
    starts: list[int] = []
    pos = 0
    for i, (text, name) in enumerate(zip(texts, filenames, strict=True)):
        starts.append(pos)
        pos += len(text) + 1
        if name and (is_env_like(name) or _keyword_file(name)):
            marks[i] = True  # names and keywords decide there: scouted per file
    joined = "\n".join(texts)  # no pattern matches across a line break, so none spans two texts
    for rx in _grouped_scouts():
        for m in rx.finditer(joined):
            marks[bisect.bisect_right(starts, m.start()) - 1] = True
    return marks


@cache
def _grouped_scouts() -> tuple[re.Pattern[str], ...]:
    """Every scout, grouped by its first (literal) character: one pass per character, not per pattern."""
    groups: dict[str, list[str]] = {}
    for rx in [scout for _, scout in _scouts()] + [rx for _, rx in _EXTRA] + [_PEM_BEGIN]:
        groups.setdefault(rx.pattern[0], []).append(rx.pattern[1:])
    return tuple(re.compile(re.escape(c) + "(?:" + "|".join(rest) + ")") for c, rest in groups.items())
