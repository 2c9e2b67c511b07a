"""Helpers shared by the benchmarks: timing runs, peak memory of a process tree, reports."""

from __future__ import annotations

import contextlib
import glob
import json
import os
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


def _descendants(root: psutil.Process) -> list[int]:
    """The pids under root, from /proc/PID/task/TID/children (Linux): a few small reads, where
    psutil's children() reads every process of the system, ~12% of a core at one listing per
    20 ms sample, taken from the command measured."""
    if not os.path.exists(f"/proc/{root.pid}/task"):
        return [k.pid for k in root.children(recursive=True)]
    out: list[int] = []
    todo = [root.pid]
    while todo:
        pid = todo.pop()
        for listing in glob.glob(f"/proc/{pid}/task/*/children"):
            with contextlib.suppress(OSError):
                kids = [int(k) for k in Path(listing).read_text().split()]
                out += kids
                todo += kids
    return out


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

    def role_of(p: psutil.Process) -> str | None:
        """The process's role (asked each sample: a process may exec another program); None for
        a forked child not yet exec'd, which shares its parent's pages, or for one gone."""
        try:
            if p.pid != proc.pid and p.parent() is not None and p.cmdline() == p.parent().cmdline():
                return None
            return _role(p) or None  # an exited process (a zombie) has no command line
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return None

    def measure(procs: list[psutil.Process]) -> None:
        nonlocal peak
        total = 0
        for p in procs:
            role = role_of(p)
            if role is None:
                continue
            try:
                rss = p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            total += rss
            peaks[role] = max(peaks.get(role, 0.0), rss / 1e6)
        peak = max(peak, total / 1e6)

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not ended.is_set():
            try:
                kids = [seen.get(pid) or psutil.Process(pid) for pid in _descendants(root)]
            except psutil.NoSuchProcess:
                kids = [k for k in seen.values() if k.is_running()]
            seen.update((k.pid, k) for k in kids)
            measure([root, *kids])
            ended.wait(0.02)
        deadline = time.perf_counter() + linger
        while time.perf_counter() < deadline:
            alive = [p for p in seen.values() if p.is_running()]
            if not alive:
                break
            measure(alive)
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
