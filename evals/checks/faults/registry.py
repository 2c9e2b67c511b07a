"""The fault-case registry: every module of this package registers its cases with `@fault`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SURFACES = ("ask", "chat", "pack", "mcp", "index")


@dataclass(frozen=True)
class Outcome:
    """What the user saw after one fault, and whether the case holds."""

    exit_code: int | None  # the process's exit code; None where the surface has none (an MCP result)
    message: str  # the one readable line the user got (stderr, or the is_error text)
    traceback: bool  # a traceback reached the user without --debug
    data_kept: str  # what was saved before the fault and is still there, in words
    ok: bool  # the case's own verdict: the expected exit code, one clear line, nothing lost
    detail: str = ""  # why the case failed, when it did


@dataclass(frozen=True)
class FaultCase:
    """One fault on one surface; `run` works in a scratch directory it is given."""

    fault: str
    surface: str
    run: Callable[[Path], Outcome]

    @property
    def id(self) -> str:
        return f"{self.surface}:{self.fault}"


CASES: list[FaultCase] = []


def fault(name: str, surface: str) -> Callable[[Callable[[Path], Outcome]], Callable[[Path], Outcome]]:
    """Register the decorated function as the case `name` on `surface`."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; one of {', '.join(SURFACES)}")

    def register(run: Callable[[Path], Outcome]) -> Callable[[Path], Outcome]:
        CASES.append(FaultCase(name, surface, run))
        return run

    return register


def all_cases() -> list[FaultCase]:
    """Every registered case, after importing every module of this package."""
    package = importlib.import_module(__package__ or "evals.checks.faults")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return sorted(CASES, key=lambda c: (c.surface, c.fault))
