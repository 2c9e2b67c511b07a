"""Variable tracking (RULER): a chain X1 = v, X2 = X1, ... spread over the corpus, in order.

The question names only the value; finding the later links needs the names found earlier,
so one-shot retrieval on the question is expected to miss hops. Two distractor chains with
other values use the same notation. The notation (shell-like, code-like, prose) and the
variable naming style vary per case.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

from evals.tasks import haystack
from evals.tasks.base import BuildContext, Case, Gate, Needle, Suite, rng_for

# (first assignment, copy) templates; one family per case, as in one file of code or notes.
NOTATIONS = (
    ("VAR {a} = {v}", "VAR {b} = VAR {a}"),
    ("let {a} = {v};", "let {b} = {a};"),
    ("set {a} to {v}.", "set {b} to the value of {a}."),
    ("{a} := {v}", "{b} := {a}"),
    ("Assign the number {v} to {a}.", "Copy {a} into {b}."),
    ("export {a}={v}", "export {b}=${a}"),
)
QUESTIONS = (
    "Which variables end up holding the value {v}? List every one.",
    "Find all variables that are assigned the value {v}, directly or by copying another variable.",
    "Follow the assignments: which variable names hold {v} in the end?",
)


def _names(style: str, n: int, rng: random.Random, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        if style == "upper":
            name = "".join(rng.choice(string.ascii_uppercase) for _ in range(5))
        elif style == "snake":
            name = f"{rng.choice(_PARTS)}_{rng.choice(_PARTS)}_{rng.randint(1, 99)}"
        else:
            name = f"{rng.choice(string.ascii_lowercase)}{rng.choice(_PARTS).title()}{rng.randint(2, 9)}"
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


_PARTS = "cache limit retry queue index shard token window batch delay quota route".split()


class VariableTracking(Suite):
    name = "variable-tracking"
    description = "chains X1 = v, X2 = X1, ... spread over the corpus; name every variable holding v"
    example = "forage eval run variable-tracking --sizes 8k,32k --seeds 5 --out runs/vt"
    hops = 4
    gates = (Gate("full", "evidence", 0.99, over_budget=False),)

    def build(self, size: int, seed: int, dest: Path, ctx: BuildContext) -> Case:
        rng = rng_for(self.name, size, seed)
        assign, copy = rng.choice(NOTATIONS)
        style = rng.choice(["upper", "snake", "camel"])
        taken: set[str] = set()
        values = rng.sample(range(10_000, 99_999), 3)
        chains = []
        for v in values:
            names = _names(style, self.hops + 1, rng, taken)
            lines = [assign.format(a=names[0], v=v)]
            lines += [copy.format(a=a, b=b) for a, b in zip(names, names[1:], strict=False)]
            chains.append((str(v), names, lines))
        pool = haystack.pool_for(ctx.haystack, int(size * 4.5), ctx.cache_dir)
        docs = haystack.compose(pool, size, rng)
        for _, _, lines in chains:
            for line, depth in zip(lines, sorted(rng.random() for _ in lines), strict=True):
                haystack.plant(docs, line, depth, rng, alone=True)
        corpus = haystack.write(docs, dest)
        value, names, lines = chains[0]
        depth = haystack.depths(docs, lines)
        where = [next(d.path for d in docs if line in d.paras) for line in lines]
        needles = [
            Needle(text=line, value=name, depth=d, where=w)
            for line, name, d, w in zip(lines, names, depth, where, strict=True)
        ]
        return Case(
            suite=self.name, size=size, seed=seed, question=rng.choice(QUESTIONS).format(v=value),
            answers=names, needles=needles, sources=["corpus"], corpus_tokens=corpus,
            distractors=[n for _, other, _ in chains[1:] for n in other],
            meta={"notation": assign, "hops": self.hops, "value": value},
        )  # fmt: skip
