"""One PDF worker process (`python -m tools.pdf.worker`, started by `tools.pdf.pool.PdfPool`).

It runs one job at a time under the address-space limit it was given, and streams what it reads
back to the pool as it goes: the document's facts, then one message per page, then "done".
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tools import errors
from tools.pdf.extract import document_info, extract_page
from tools.pdf.opening import PYPDF_FAILURES, open_pdf
from tools.pdf.pages import PageText, page_block, parse_page_range


def _fields(page: PageText) -> tuple[int, str, str, str | None, dict[str, Any] | None]:
    # A plain tuple pickles several times faster than the dataclass: one message per page.
    return (page.number, page.text, page.status, page.note, page.hidden)


def _run_job(job: dict[str, Any], send: Callable[[Any], None]) -> None:
    name = job["name"]
    data = job["data"] if job["data"] is not None else Path(job["path"]).read_bytes()
    opened = open_pdf(data, name=name, password=job["password"], default_password=job["default_password"])
    del data
    send(
        (
            "meta",
            {
                "page_count": opened.page_count,
                "damaged": opened.damaged,
                "repairs": opened.repairs,
                "encryption": opened.encryption,
                "password_used": opened.password_used,
            },
        )
    )
    if job["op"] == "info":
        info, sampled = document_info(opened)
        for page in sampled:
            send(("page", _fields(page)))
        send(("done", {"info": info}))
        return
    numbers = parse_page_range(job["pages"], opened.page_count, name=name)
    known: dict[int, int] = job["known"]
    budget: int | None = job["budget"]
    used = 0
    for n in numbers:
        if budget is not None and used >= budget:
            break
        if n in known:
            used += known[n]
            continue
        page = extract_page(opened, n)
        send(("page", _fields(page)))
        used += len(page_block(page))
    send(("done", {}))


def _serve(recv: Connection, send: Connection, memory_bytes: int) -> None:
    """The worker loop: one job at a time until told to stop or the parent goes away."""
    import resource

    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # pypdf's warnings are collected as repair notes while a file opens; never print them.
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.propagate = False
    pypdf_log.addHandler(logging.NullHandler())
    while True:
        try:
            job = recv.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        out_of_memory = False
        try:
            _run_job(job, send.send)
        except errors.ToolError as exc:
            send.send(("error", type(exc).__name__, str(exc)))
        except MemoryError:
            out_of_memory = True  # reported below, once the frames holding the memory are gone
        except FileNotFoundError:
            send.send(("error", "NotFound", f"{job['name']} does not exist (was it removed?)"))
        except PYPDF_FAILURES as exc:
            send.send(("error", "DamagedDocument", f"{job['name']} could not be read: {exc}"))
        if out_of_memory:
            send.send(("oom",))
            return  # the heap may be fragmented: a fresh worker replaces this one


if __name__ == "__main__":
    _serve(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        int(sys.argv[3]),
    )
