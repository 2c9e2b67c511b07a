"""The offline model: plans from the source specs, answers with the best passages.

It generates nothing. Its answer is a list of quoted passages with citations, and it says so.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from agent.models.base import Message, Reply, ToolSpec
from agent.models.suggestions import suggested_calls
from agent.state import ToolCall, Usage
from tools.tokens import estimate_tokens
from tools.tool_names import ToolName

EXTRACTIVE_NOTE = (
    "Extractive answer: forage is running without a generative model (no GEMINI_API_KEY), "
    "so these are the passages that best match the question, quoted from the sources."
)

_STOP = set(
    "a an and are as at be by can do does for from how i in is it its of on or the this to what "
    "when where which who why will with you your there their they that these those was were has have "
    "had not no yes into about than then so if".split()
)
_BLOCK = re.compile(r"^## \[(\d+)\] (.+?)(?: \((?:excerpt|outline)\))?$", re.M)
_LINES = re.compile(r":(\d+)(?:-(\d+))?$")


_SUFFIXES = (
    ("ations", ""),
    ("ation", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
    ("e", ""),
)


def _stem(word: str) -> str:
    """A light suffix stripper: configure, configured, configuration -> configur."""
    for suffix, repl in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + repl
    return word


def terms(text: str) -> list[str]:
    """Lower-cased stemmed words; identifiers split on _ and camelCase."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9]+|\d+", text.replace("_", " "))
    return [_stem(w.lower()) for w in words if w.lower() not in _STOP]


@dataclass
class Passage:
    block: int
    uri: str  # uri as shown in the block header, without the span
    span_kind: str
    start: int | None
    end: int | None
    label: str
    text: str
    score: float = 0.0

    def cite(self) -> str:
        if self.span_kind == "lines" and self.start is not None:
            return f"[{self.block}] {self.uri}:{self.start}-{self.end}"
        return f"[{self.block}] {self.uri}{self.label}"


def parse_blocks(prefix: str) -> list[tuple[int, str, str]]:
    """Split a markdown pack prefix into (block number, header, body)."""
    out = []
    matches = list(_BLOCK.finditer(prefix))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(prefix)
        body = prefix[m.end() : end]
        fence = re.search(r"^(`{3,})[^\n]*\n", body, re.M)
        if fence:
            close = body.rfind("\n" + fence.group(1))
            body = body[fence.end() : close if close > fence.end() else len(body)]
        out.append((int(m.group(1)), m.group(2), body))
    return out


def passages(prefix: str, window: int = 12) -> list[Passage]:
    """Cut every block into passages: line windows for line-spanned text, paragraphs otherwise."""
    out: list[Passage] = []
    for block, header, body in parse_blocks(prefix):
        lines_m = _LINES.search(header)
        if lines_m:
            uri = header[: lines_m.start()]
            first = int(lines_m.group(1))
            lines = body.split("\n")
            step = max(1, window // 2)
            for i in range(0, max(1, len(lines)), step):
                chunk = lines[i : i + window]
                if not "".join(chunk).strip():
                    continue
                out.append(
                    Passage(block, uri, "lines", first + i, first + i + len(chunk) - 1, "", "\n".join(chunk))
                )
                if i + window >= len(lines):
                    break
            continue
        uri, label = header, ""
        for sep in (" p.", " pp.", " § "):
            if sep in header:
                uri, rest = header.split(sep, 1)
                label = sep + rest
                break
        paras = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
        for para in paras:
            out.append(Passage(block, uri, "other", None, None, label, para.strip()[:2000]))
    return out


def rank_passages(found: list[Passage], question: str) -> list[Passage]:
    """Score passages with BM25 over stemmed terms; identifiers count like words."""
    q = set(terms(question))
    if not q or not found:
        return []
    # Only passages holding some question term can score: find them with a substring test in C
    # (a stem less its last letter, so "retries" is found for "retry"), and tokenize only those.
    keys = {t[: max(3, len(t) - 1)] for t in q}
    candidates = [p for p in found if any(k in f"{p.text} {p.uri}".lower() for k in keys)]
    docs = [Counter(terms(p.text + " " + p.uri)) for p in candidates]
    n = len(found)
    avg = sum(p.text.count(" ") + 1 for p in found) / n or 1.0
    df = Counter(t for d in docs for t in q if t in d)
    for p, d in zip(candidates, docs, strict=True):
        length = sum(d.values()) or 1
        score = 0.0
        for t in q:
            tf = d.get(t, 0)
            if tf:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / avg))
        # Passages that cover more distinct question terms win ties of raw frequency.
        covered = sum(1 for t in q if t in d)
        p.score = score * (1 + covered / len(q))
    return sorted((p for p in candidates if p.score > 0), key=lambda p: -p.score)


# What a question names: a quoted or backticked string, a token with digits or inner punctuation
# or capitals (an identifier, a path, a code, a number), or a run of capitalised words (a name).
_QUOTED = re.compile(r"`([^`\n]{2,80})`|\"([^\"\n]{2,80})\"|(?<!\w)'([^'\n]{2,80})'(?!\w)")
_TOKEN = re.compile(r"[\w./:-]*\w")
_NAME_RUN = re.compile(r"\b[A-Z][\w'-]*(?:[ \t]+[A-Z][\w'-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.?!:;]\s+)$")
MAX_ASKED = 12  # items quoted first; a question naming more is a list, not a set of asks


def asked_items(question: str) -> list[str]:
    """The things a question names, in its order: quoted text, identifiers and codes, proper names."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, text: str) -> None:
        if any(start < b and a < end for a, b in taken):
            return
        taken.append((start, end))
        found.append((start, text))

    for m in _QUOTED.finditer(question):
        add(m.start(), m.end(), next(g for g in m.groups() if g))
    for m in _NAME_RUN.finditer(question):
        words = m.group(0).split()
        if len(words) == 1 and _SENTENCE_START.search(question[: m.start()]):
            continue  # a capitalised first word is how a sentence starts, not a name
        if words[0].lower() in _STOP and len(words) > 1 and _SENTENCE_START.search(question[: m.start()]):
            words = words[1:]  # "What Marta Kowalski ...": the question word is not part of the name
        if all(w.lower() in _STOP for w in words):
            continue
        add(m.start(), m.end(), " ".join(words))
    for m in _TOKEN.finditer(question):
        word = m.group(0).strip(".:-/")
        inner = word[1:]
        if len(word) >= 3 and (
            any(c.isdigit() for c in word)
            or any(c in "_./:-" for c in word)
            or any(c.isupper() for c in inner)
        ):
            add(m.start(), m.end(), word)
    return [text for _, text in sorted(found)][:MAX_ASKED]


def _holds(passage: Passage, item: str) -> bool:
    """Whether a passage names the item: the exact text, or all its words on one line."""
    text = passage.text.lower()
    needle = item.lower()
    if re.search(rf"(?<![\w-]){re.escape(needle)}(?![\w-])", text):
        return True
    words = needle.split()
    return len(words) > 1 and any(
        all(re.search(rf"\b{re.escape(w)}\b", line) for w in words) for line in text.split("\n")
    )


def cover_asked(found: list[Passage], ranked: list[Passage], question: str) -> list[Passage]:
    """A passage for each thing the question names that the material holds, best-ranked first, in the question's order."""
    order = {id(p): i for i, p in enumerate(ranked)}
    out: list[Passage] = []
    for item in asked_items(question):
        if any(_holds(p, item) for p in out):
            continue
        holders = [p for p in found if _holds(p, item)]
        if holders:
            # Apart from the passages already quoted if it can be: no line is quoted twice.
            apart = [p for p in holders if not any(_overlap(c, p) for c in out)] or holders
            out.append(min(apart, key=lambda p: order.get(id(p), len(order))))
    return out


def _overlap(a: Passage, b: Passage) -> bool:
    """Whether two passages share lines (or are the same passage)."""
    if a is b:
        return True
    if a.block != b.block or a.start is None or b.start is None:
        return False
    return b.start <= a.end and a.start <= b.end  # type: ignore[operator]


class ExtractiveModel:
    """Deterministic offline model: plan from suggestions and continuations, quote passages."""

    name = "extractive"
    extractive = True

    def __init__(self, window: int = 1_000_000, top: int = 4) -> None:
        self.window = window
        self.top = top

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def close(self) -> None:
        """Release nothing: this model holds no state outside the process."""

    def generate(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        *,
        on_text: Callable[[str], None] | None = None,
    ) -> Reply:
        if tools is not None:
            return self._plan(messages, tools)
        return self._answer(messages, on_text)

    def _plan(self, messages: list[Message], tools: list[ToolSpec]) -> Reply:
        available = {t.name for t in tools}
        # Every call asked for counts as made, except one a killed run never finished.
        made = Counter((c.name, json.dumps(c.args, sort_keys=True)) for m in messages for c in m.tool_calls)
        wanted: list[ToolCall] = []
        turn: list[ToolCall] = []
        answered = 0
        for m in messages:
            if m.role == "assistant":
                turn, answered = list(m.tool_calls), 0
                continue
            if m.role == "tool" and answered < len(turn):
                call = turn[answered]
                answered += 1
                if m.data and m.data.get("interrupted"):
                    made[(call.name, json.dumps(call.args, sort_keys=True))] -= 1
                    wanted.append(call)  # ask again
            if m.role == "user" and not wanted:
                wanted.extend(suggested_calls(m.content))
            if m.role == "tool" and m.data:
                if m.data.get("next") and m.name:
                    wanted.append(ToolCall(name=m.name, args=m.data["next"]))
                for path in m.data.get("pdfs", []):
                    wanted.append(ToolCall(name=ToolName.READ_PDF, args={"path": path}))
                for url in m.data.get("pdf_urls", []):
                    wanted.append(ToolCall(name=ToolName.FETCH_PAGE, args={"url": url}))
        calls = []
        for call in wanted:
            key = (call.name, json.dumps(call.args, sort_keys=True))
            if call.name in available and made[key] <= 0:
                made[key] += 1
                calls.append(call)
        if not calls:
            return Reply(text="DONE")
        return Reply(tool_calls=[c.model_copy(update={"id": f"call-{i}"}) for i, c in enumerate(calls)])

    def _answer(self, messages: list[Message], on_text: Callable[[str], None] | None) -> Reply:
        user = next((m for m in reversed(messages) if m.role == "user"), None)
        prefix = (user.cacheable_prefix or "") if user else ""
        question = user.content if user else ""
        match = re.search(r"answer this question: (.*)", question)
        if match:
            question = match.group(1)
        found = passages(prefix)
        best = rank_passages(found, question)
        # Each thing the question names first (the codes of four people: all four), then the rest.
        first = cover_asked(found, best, question)
        chosen: list[Passage] = list(first)
        for p in best:
            if len(chosen) >= self.top:
                break
            if not any(_overlap(c, p) for c in chosen):
                chosen.append(p)
        if not chosen:
            text = f"{EXTRACTIVE_NOTE}\n\nNo passage in the gathered material matches the question."
            reply = Reply(text=text, unanswerable=True)
        else:
            parts = [EXTRACTIVE_NOTE, ""]
            for p in chosen:
                parts += [p.cite(), "", *("    " + ln for ln in p.text.strip("\n").split("\n")), ""]
            reply = Reply(text="\n".join(parts).rstrip() + "\n")
        if on_text and not reply.unanswerable:
            on_text(reply.text)
        reply.usage = Usage(prompt_tokens=estimate_tokens(prefix + question), output_tokens=0)
        return reply
