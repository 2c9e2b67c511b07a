"""Text that talks to the assistant instead of the reader, and characters a reader cannot see.

`find_injections` flags the shapes prompt injection takes, whatever its wording: orders to drop
earlier instructions, attempts to hand the model a new role, lines addressed to an AI or agent,
chat-template control tokens, and payloads shaped like tool calls. The visible text stays in
the pack (a page about prompt injection quotes such lines too); the flag tells the user, and
the answering model is told that enveloped content is data.

`strip_invisible` removes characters that render as nothing (zero-width, bidi controls, Unicode
tag characters, which can spell a whole hidden message a model still reads), keeping the
joiners that Persian, Indic scripts and emoji need; its report has the shape web pages use in
``meta["hidden"]`` (count, chars, kinds, samples).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

SAMPLE_CHARS = 160
MAX_FLAGS = 20  # per document: enough to show a pattern, never a flood

_W = r"[^\n.!?]{0,60}?"  # the rest of one clause
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "overrides_instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass|do not follow|stop following)\b"
            + _W
            + r"\b(previous|prior|preceding|above|earlier|all|any|your|the|these|those|original|system)\b"
            + _W
            + r"\b(instructions?|prompts?|rules|directions|guidelines|guardrails|directives|messages?)\b",
            re.I,
        ),
    ),
    (
        "assigns_a_role",
        re.compile(
            r"\b(you are now|from now on,? you|you will now act|pretend (that )?you are|act as (an?|the) "
            r"(unrestricted|unfiltered|jailbroken|different|new)|(developer|god|jailbreak|DAN) mode "
            r"(enabled|activated|on)|new (system )?instructions?\s*:)",
            re.I,
        ),
    ),
    (
        "addresses_the_assistant",
        re.compile(
            r"(^|\n)\s*(dear |hey |hi |note to (the )?|attention,? |important,? )?"
            r"(ai|llm|assistant|ai assistant|language model|chatbot|agent|gpt|gemini|claude)s?\s*[:,]\s*\S"
            r"|\b(attention|instructions?|message|note|notice)\s+(to|for)\s+(the |any |all )?"
            r"(ai|llm|assistant|language model|chatbot|agent|model)s?\b"
            r"|\bif you are an? (ai|llm|language model|assistant|agent|bot)\b",
            re.I,
        ),
    ),
    (
        "chat_markup",
        re.compile(
            r"<\|(im_start|im_end|system|user|assistant|endoftext|start_header_id|eot_id)\|>"
            r"|\[/?INST\]|<</?SYS>>|<(start|end)_of_turn>|</?(system|tool_call|function_call|tool_response)>",
            re.I,
        ),
    ),
    (
        "tool_call",
        re.compile(
            r"\{\s*\"(name|tool|tool_name|function)\"\s*:\s*\"[\w.-]+\"\s*,\s*\"(arguments|args|parameters|input)\"\s*:"
            r"|\"(functionCall|function_call|tool_calls)\"\s*:"
            r"|\b(call|invoke)\s+(the\s+)?(tool\s+)?`?(read_file|read_many|list_files|search_files|"
            r"fetch_page|crawl_site|extract_links|read_pdf)`?\b",
            re.I,
        ),
    ),
)


@dataclass(frozen=True)
class Flag:
    """One place where a text addresses the assistant: what kind, 1-based line, the words."""

    kind: str
    line: int
    sample: str


def find_injections(text: str) -> list[Flag]:
    """Flag every clause of text that speaks to the assistant (at most MAX_FLAGS)."""
    found: list[tuple[int, Flag]] = []
    for kind, rx in _PATTERNS:
        for m in rx.finditer(text):
            start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", start)
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            sample = " ".join(line.split())[:SAMPLE_CHARS]
            found.append((start, Flag(kind, text.count("\n", 0, start) + 1, sample)))
            if len(found) >= MAX_FLAGS * 2:
                break
    found.sort(key=lambda f: f[0])
    out: list[Flag] = []
    seen: set[tuple[str, int]] = set()
    for _, flag in found:
        if (flag.kind, flag.line) not in seen:
            seen.add((flag.kind, flag.line))
            out.append(flag)
    return out[:MAX_FLAGS]


# ---------------------------------------------------------------------------- characters

_ZERO_WIDTH = "\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(f"[{_ZERO_WIDTH}{_BIDI}\u200c\u200d\U000e0000-\U000e007f]")


def strip_invisible(text: str) -> tuple[str, dict[str, Any] | None]:
    """Remove characters that render as nothing; report them (None when there were none).

    A byte-order mark opening the text and joiners between letters or symbols stay.
    """
    if not _INVISIBLE.search(text):
        return text, None
    out: list[str] = []
    kinds: dict[str, int] = {}
    tags: list[str] = []
    pos = 0
    for m in _INVISIBLE.finditer(text):  # only the matches: a long text is not walked per character
        i, ch = m.start(), m.group()
        if (i == 0 and ch == "\ufeff") or (ch in "\u200c\u200d" and _joins(text, i)):
            continue
        code = ord(ch)
        if 0xE0000 <= code <= 0xE007F:
            if code == 0xE007F or (i and _in_flag_sequence(text, i)):
                continue  # a subdivision flag emoji (England, Scotland) is spelled with tags
            kind = "tag_characters"
            if 0xE0020 <= code <= 0xE007E:
                tags.append(chr(code - 0xE0000))
        elif ch in _BIDI:
            kind = "bidi_controls"
        else:
            kind = "zero_width"
        kinds[kind] = kinds.get(kind, 0) + 1
        out.append(text[pos:i])
        pos = i + 1
    out.append(text[pos:])
    dropped = sum(kinds.values())
    if not dropped:
        return text, None
    message = "".join(tags).strip()
    sample = f"{dropped} invisible characters" + (f" spelling {message!r}" if message else "")
    report = {
        "count": 1,
        "chars": dropped,
        "kinds": {"invisible_chars": 1},
        "samples": [{"kind": "invisible_chars", "text": sample[:SAMPLE_CHARS]}],
        "characters": kinds,
    }
    if message:
        report["decoded"] = message[:2000]
    return "".join(out), report


def _joins(text: str, i: int) -> bool:
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    return bool(before and after) and _letterish(before) and _letterish(after)


def _letterish(ch: str) -> bool:
    return ch.isalpha() or unicodedata.category(ch) in ("So", "Mn", "Mc", "Sk")


def _in_flag_sequence(text: str, i: int) -> bool:
    """Tell whether the tag character at i belongs to a flag emoji (U+1F3F4 then tags)."""
    j = i
    while j > 0 and 0xE0020 <= ord(text[j - 1]) <= 0xE007E:
        j -= 1
    return j > 0 and text[j - 1] == "\U0001f3f4"
