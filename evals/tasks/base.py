"""What every suite produces: a Case on disk (files, pages, PDFs), its question, answers and evidence."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SITE = "{site}"  # placeholder in source specs: the loopback web server's base URL at run time


@dataclass
class Needle:
    """One piece of evidence planted in the corpus."""

    text: str  # exactly what was written (searched for in the pack, whitespace-normalised)
    value: str  # the answer it carries
    depth: float  # 0 = start of the corpus, 1 = end (in the order the sources are listed)
    where: str  # the file, page or PDF (relative to the case folder) that holds it


@dataclass
class Case:
    """One generated task: sources to gather, a question, and what a correct answer holds."""

    suite: str
    size: int  # corpus tokens asked for (for codeqa: the pack budget)
    seed: int  # for codeqa: the question's number
    question: str
    answers: list[str]  # every value a correct answer holds
    needles: list[Needle]  # every piece of evidence a complete pack holds
    sources: list[str]  # specs: paths relative to the case folder, or SITE + "/path" URLs
    corpus_tokens: int
    kind: Literal["lookup", "aggregate", "files"] = "lookup"
    distractors: list[str] = field(default_factory=list)  # wrong values a precise answer avoids
    relevant: list[str] = field(default_factory=list)  # sources that hold evidence (gather)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        needles = [Needle(**n) for n in data.pop("needles")]
        return cls(needles=needles, **data)

    def save(self, folder: Path) -> None:
        (folder / "case.json").write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Case:
        return cls.from_json(json.loads((folder / "case.json").read_text(encoding="utf-8")))


def rng_for(suite: str, size: int, seed: int) -> random.Random:
    """The generator's random source: the same (suite, size, seed) always gives the same case."""
    return random.Random(f"{suite}/{size}/{seed}")


@dataclass(frozen=True)
class Gate:
    """A pass mark a suite must reach: mean metric of one strategy, on cases bigger than the budget."""

    strategy: str
    metric: str  # a row field: "evidence", "score", "correct", "source_recall", ...
    at_least: float
    over_budget: bool = True  # only cases whose gathered corpus exceeds the pack budget

    def describe(self) -> str:
        where = " where the corpus exceeds the budget" if self.over_budget else ""
        return f"{self.strategy}: mean {self.metric} >= {self.at_least:g}{where}"


@dataclass
class BuildContext:
    """What a generator may use besides (size, seed): the haystack and a cache folder."""

    haystack: str = "stdlib"
    cache_dir: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)  # suite options from the command line
    progress: Callable[[str], None] | None = None  # a suite scoring itself says where it is (history)


class Suite:
    """A family of generated cases. Subclasses set the class fields and implement build()."""

    name: str = ""
    description: str = ""  # one line for `forage eval list`
    example: str = ""  # a worked example: a command line
    needs: frozenset[str] = frozenset()  # "web" (the loopback site), "pdf"
    gates: tuple[Gate, ...] = ()
    available: bool = True
    unavailable_reason: str = ""
    own_rows: bool = False  # the suite scores itself (safety): rows() instead of cases x strategies

    def rows(self, ctx: BuildContext) -> list[dict[str, Any]]:
        """All rows of a suite that does not run cases through the strategies."""
        raise NotImplementedError

    def build(self, size: int, seed: int, dest: Path, ctx: BuildContext) -> Case:
        raise NotImplementedError

    def settings_for(self, case: Case, window: int, reserve: int) -> dict[str, Any]:
        """Settings this suite's cases need beyond the run's (codeqa: the size is the budget)."""
        return {}

    def cases(self, sizes: list[int], seeds: int, ctx: BuildContext) -> list[tuple[int, int]]:
        """The (size, seed) pairs a run covers; suites with their own questions override this."""
        return [(size, seed) for size in sizes for seed in range(seeds)]
