"""Whole units: the definition of a ranked file's best chunk that holds the question's terms, in full."""

from __future__ import annotations

from pathlib import Path

from agent.gather.documents import content_hash
from agent.pack.routing import pack_documents
from agent.retrieval.chunking import chunk_all
from agent.retrieval.units import WINDOW_TOKENS, best_unit, definitions, units
from agent.settings import Settings
from agent.state import Document, Span
from agent.tokens import TokenCounter
from tools.tokens import estimate_tokens

CLASS = '''import os


class Base:
    """The base."""


@dataclass
class RetryPolicy(Base):
    """How long to wait between attempts."""

    limit: int = 3

    def delay(self, attempt):
        """Back off exponentially."""
        return 2 ** attempt

    def give_up(self, attempt):
        return attempt > self.limit


def helper():
    return 1
'''

BRACES = """function outer(a) {
  if (a) {
    return 1;
  }
  return 2;
}
const x = 1;
"""


def _doc(uri: str, text: str) -> Document:
    return Document(
        id="d-" + uri, uri=uri, text=text, hash=content_hash(text),
        span=Span(kind="lines", start=1, end=text.count("\n") + 1), tokens=estimate_tokens(text),
    )  # fmt: skip


def test_definitions_span_their_body_decorators_and_nested_methods() -> None:
    lines = CLASS.split("\n")
    found = {lines[lo].strip() or lines[lo + 1].strip(): (lo, hi) for lo, hi in definitions(lines)}
    lo, hi = found["@dataclass"]
    assert (
        lines[lo + 1].startswith("class RetryPolicy")
        and lines[hi - 1].strip() == "return attempt > self.limit"
    )
    lo, hi = found["def delay(self, attempt):"]
    assert hi - lo == 3  # signature, docstring, return: the blank line after it is not part of it
    brace = BRACES.split("\n")
    assert definitions(brace) == [(0, 6)]  # the closing brace belongs to the function, the next line does not


def test_best_unit_is_the_definition_with_the_question_terms_that_fits() -> None:
    lines = CLASS.split("\n")
    weights = {"delay": 3.0, "attempt": 1.0, "exponentially": 2.0}
    lo, hi = best_unit(lines, weights, 400, estimate_tokens)  # type: ignore[misc]
    assert lines[lo].strip().startswith("def delay") and hi - lo == 3  # all it asks, in the fewest lines
    lo, hi = best_unit(lines, {**weights, "retrypolicy": 2.0, "limit": 1.0}, 400, estimate_tokens)  # type: ignore[misc]
    assert lines[lo] == "@dataclass" and "def give_up" in "\n".join(lines[lo:hi])  # the class holds more
    lo, hi = best_unit(lines, {**weights, "helper": 1.0}, 400, estimate_tokens)  # type: ignore[misc]
    assert (lo, hi) == (0, len(lines))  # only the whole chunk holds both
    assert best_unit(lines, {"nowhere": 1.0}, 400, estimate_tokens) is None
    assert best_unit(lines, weights, 5, estimate_tokens) is None


def test_units_show_one_whole_definition_per_file_as_exact_source_at_fidelity_full() -> None:
    docs = {d.id: d for d in (_doc("a/retry.py", CLASS * 4), _doc("b/retry.py", CLASS))}
    ranked = chunk_all(list(docs.values()), 100)
    weights = {"delay": 3.0, "exponentially": 2.0}
    out = units(ranked, {"b/retry.py"}, 2000, 60, weights, docs, estimate_tokens)
    assert [b.uri for b in out] == ["a/retry.py"]  # one per file; b is already shown
    block = out[0]
    assert block.meta["fidelity"] == "full" and block.meta["unit"] == "definition"
    assert block.text.lstrip().startswith("def delay")
    source = docs["d-a/retry.py"].text.split("\n")
    assert block.text == "\n".join(source[block.span.start - 1 : block.span.end])


def module(name: str, n: int) -> str:
    return "".join(
        f"def {name}_step_{i}(value):\n    '''Advance {name} by one step.'''\n"
        + "".join(f"    value = value * {i} + {j}  # stage {j}\n" for j in range(8))
        + "    return value\n\n"
        for i in range(n)
    )


def test_a_small_budget_shows_the_best_files_as_whole_functions(tmp_path: Path) -> None:
    # Twelve files each hold one function about the question between many that are not, next
    # to thirty unrelated files: at 4k, whole 400-token chunks reach nine of the twelve (the
    # rest as excerpts); whole functions reach all twelve.
    about = "def shipping_rate_{}(parcel):\n    '''The shipping rate of a parcel by its weight.'''\n"
    docs = [
        _doc(f"pkg/mod_{k}.py", module(f"part{k}", 12) + about.format(k) + "    return parcel.weight * 3\n\n\n"
             + module(f"tail{k}", 12))
        for k in range(12)
    ] + [_doc(f"other/o_{k}.py", module(f"misc{k}", 20)) for k in range(30)]  # fmt: skip
    settings = Settings(data_dir=tmp_path / "data", embedding="none")
    p = pack_documents(
        docs, "How is the shipping rate of a parcel computed from its weight?", settings=settings,
        counter=TokenCounter(), route="select", budget=4000,
    )[0]  # fmt: skip
    whole = {b.uri for b in p.manifest if b.fidelity == "full" and b.uri.startswith("pkg/")}
    assert len(whole) == 12, sorted(whole)
    assert p.tokens <= 4000


def test_a_best_chunk_inside_a_long_function_shows_a_window_of_it_in_full() -> None:
    # The only definition is far longer than a unit: the file still arrives in full, as the
    # ten or so lines where the question's terms are, not as a three-line excerpt.
    body = "".join(f"    step_{i} = value * {i}  # unrelated arithmetic\n" for i in range(60))
    text = "def process(value):\n" + body + "    refund = value.amount * REFUND_RATE\n    return refund\n"
    docs = {d.id: d for d in (_doc("pkg/billing.py", text),)}
    ranked = chunk_all(list(docs.values()), 2000)
    out = units(ranked, set(), 2000, 300, {"refund": 3.0, "rate": 1.0}, docs, estimate_tokens)
    assert len(out) == 1 and out[0].meta["fidelity"] == "full" and out[0].meta["unit"] == "window"
    assert "refund = value.amount * REFUND_RATE" in out[0].text and out[0].tokens <= WINDOW_TOKENS
    source = text.split("\n")
    assert out[0].text == "\n".join(source[out[0].span.start - 1 : out[0].span.end])  # exact source lines
