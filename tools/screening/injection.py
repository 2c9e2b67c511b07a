"""Text that talks to the assistant instead of the reader.

`find_injections` flags the shapes prompt injection takes, whatever its wording: orders to drop
earlier instructions, attempts to hand the model a new role, lines addressed to an AI or agent,
chat-template control tokens, and payloads shaped like tool calls. The visible text stays in
the pack (a page about prompt injection quotes such lines too); the flag tells the user, and
the answering model is told that enveloped content is data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
