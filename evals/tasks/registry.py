"""Every suite `forage eval` runs, by name, and how names on the command line become suites."""

from __future__ import annotations

from evals.tasks.base import Suite
from evals.tasks.codeqa import CodeQA
from evals.tasks.cross_source import CrossSource
from evals.tasks.faults import Faults
from evals.tasks.gather import Gather
from evals.tasks.history import History
from evals.tasks.niah import NiahMultiKey, NiahMultiQuery, NiahMultiValue, NiahSingle
from evals.tasks.safety import Safety
from evals.tasks.variables import VariableTracking
from evals.tasks.words import CommonWords

SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        NiahSingle(),
        NiahMultiKey(),
        NiahMultiValue(),
        NiahMultiQuery(),
        VariableTracking(),
        CommonWords(),
        CrossSource(),
        Gather(),
        CodeQA(),
        History(),
        Safety(),
        Faults(),
    )
}

# `all`: every suite but codeqa and history, which need your repository (and questions).
GENERATED = [name for name, s in SUITES.items() if s.available and name not in ("codeqa", "history")]


def expand(names: list[str]) -> list[str]:
    """Suite names as given, with `all` expanded; unknown names raise ValueError."""
    out: list[str] = []
    for name in names:
        for part in (p.strip() for p in name.split(",")):
            if not part:
                continue
            if part == "all":
                out += GENERATED
            elif part in SUITES:
                out.append(part)
            else:
                raise ValueError(
                    f"unknown suite {part!r}; `forage eval list` names them: {', '.join(SUITES)}"
                )
    return list(dict.fromkeys(out))
