"""Helpers shared by the benchmarks: timing runs, peak memory of a process tree, reports."""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

RESULTS = Path(__file__).parent / "results"


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run a command; return wall time and the peak summed RSS of it and its children."""
    peak = 0.0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        continue
            except psutil.NoSuchProcess:
                break
            peak = max(peak, total / 1e6)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return Run(elapsed, peak, proc.returncode, out, err)


def publish(result: dict[str, Any], out: Path) -> None:
    """Print a benchmark's figures as JSON and write them to `out`."""
    text = json.dumps(result, indent=2)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")


@dataclass
class Report:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, value: Any) -> None:
        self.figures[key] = value

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        path.write_text(json.dumps(self.figures, indent=2) + "\n")
        return path

    def print(self) -> None:
        width = max(len(k) for k in self.figures) if self.figures else 0
        print(f"== {self.name}")
        for key, value in self.figures.items():
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            print(f"  {key.ljust(width)}  {shown}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
