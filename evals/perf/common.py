"""Helpers shared by the benchmarks: timing runs, peak memory of a process tree, reports."""

from __future__ import annotations

import contextlib
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
    peaks_mb: dict[str, float] = field(default_factory=dict)  # each process's own peak, by its role
    linger_s: float = 0.0  # how long detached children were still measured after the command ended


def _role(proc: psutil.Process) -> str:
    """A short name for a process of the tree: `python -m X` -> X, else the program and its first argument."""
    cmd = proc.cmdline()
    if "-m" in cmd[:-1]:
        return cmd[cmd.index("-m") + 1]
    return " ".join(Path(c).name for c in cmd[:2])


def run_measured(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, linger: float = 0.0
) -> Run:
    """Run a command; return wall time and the peak summed RSS of it and its children.

    A child whose command line is still its parent's (forked, not yet exec'd: it shares the
    parent's pages) is not counted twice. linger: keep measuring the children that outlive
    the command (a detached background worker) for up to this many seconds after it ends, in
    the same sum, then stop them: the figure is then the peak of everything it started.
    """
    peak = 0.0
    peaks: dict[str, float] = {}
    seen: dict[int, psutil.Process] = {}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ended = threading.Event()

    def classify(procs: list[psutil.Process]) -> list[tuple[psutil.Process, str]]:
        """Each process with its role; a forked child not yet exec'd is left out."""
        out = []
        for p in procs:
            try:
                if p.pid != proc.pid and p.parent() is not None and p.cmdline() == p.parent().cmdline():
                    continue
                role = _role(p)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            if role:  # an exited process (a zombie) has no command line and no memory
                out.append((p, role))
        return out

    def measure(procs: list[tuple[psutil.Process, str]]) -> None:
        nonlocal peak
        total = 0
        for p, role in procs:
            try:
                rss = p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            total += rss
            peaks[role] = max(peaks.get(role, 0.0), rss / 1e6)
        peak = max(peak, total / 1e6)

    def sample() -> None:
        # Memory every 20 ms, the process tree every 250 ms: listing a tree reads every process
        # of the system, and doing that each sample took ~12% of a core from the command measured.
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        tree: list[tuple[psutil.Process, str]] = []
        listed = -1.0
        while not ended.is_set():
            if time.perf_counter() - listed >= 0.25:
                try:
                    kids = root.children(recursive=True)
                except psutil.NoSuchProcess:
                    break
                seen.update((k.pid, k) for k in kids)
                tree, listed = classify([root, *kids]), time.perf_counter()
            measure(tree)
            ended.wait(0.02)
        deadline = time.perf_counter() + linger
        while time.perf_counter() < deadline:
            alive = [p for p in seen.values() if p.is_running()]
            if not alive:
                break
            measure(classify(alive))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    ended.set()
    lingered = time.perf_counter()
    sampler.join()
    lingered = time.perf_counter() - lingered
    for p in seen.values() if linger else ():  # children that outlived the command: ours to stop
        with contextlib.suppress(psutil.NoSuchProcess):
            if p.is_running():
                p.terminate()
    return Run(elapsed, peak, proc.returncode, out, err, {k: round(v, 1) for k, v in peaks.items()}, lingered)


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
