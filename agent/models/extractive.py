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
        best = rank_passages(passages(prefix), question)
        chosen: list[Passage] = []
        for p in best:
            if len(chosen) >= self.top:
                break
            overlaps = any(
                c.block == p.block
                and c.start is not None
                and p.start is not None
                and p.start <= c.end
                and c.start <= p.end  # type: ignore[operator]
                for c in chosen
            )
            if not overlaps:
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
