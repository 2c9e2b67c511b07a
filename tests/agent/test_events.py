"""describe_event: the one plain line per event that forage mcp sends as a progress notification."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import get_args

import pytest

from agent.events import CallDone, Event, Plan, describe_event
from tests.fakes.events import EVENTS

# Today's lines, pinned: a change here is a change a client sees.
DESCRIBED = [
    "starting MCP servers: files, web",
    "calling read_file(path=/x/[a].py, start_line=5)",
    "calling search(n=3, flag=true)",
    "read_many: reading (3 of 10)",
    "read_many: working",
    None,
    None,
    "read_file done: 1 document(s), 321 tokens in 0.2s",
    "search done: error in 1.5s",
    None,
    "line one [b]",
    "/missing: no such file [x]",
    "packing: route full, 1,234 tokens gathered, budget no limit",
    "packing: route select, 50,000 tokens gathered, budget 8,000",
    "embedding chunks: 1,200 of 5,000",
    "packed 2,400 tokens in 2 block(s)",
    "packed 2,400 tokens in 2 block(s)",
    "the pack could not answer; widening to select at 16,000 tokens",
    "the pack could not answer; not widened: same blocks",
    "answering with extractive",
]


def test_each_event_is_described_in_one_plain_line():
    assert [describe_event(event) for event in EVENTS] == DESCRIBED


SILENT = {CallDone, Plan}  # said by the CallEnd and CallStart that follow them


def test_every_event_type_has_a_sample_a_kind_and_a_description():
    types = get_args(Event)
    assert {type(event) for event in EVENTS} == set(
        types
    )  # a new event needs a sample in tests/fakes/events.py
    kinds = [t.__dataclass_fields__["kind"].default for t in types]
    assert len(set(kinds)) == len(kinds)  # the kind tells every event apart
    for event in EVENTS:  # a type with no case in describe_event fails assert_never here
        assert (describe_event(event) is None) == (type(event) in SILENT), event.kind


def test_an_event_is_frozen():
    with pytest.raises(FrozenInstanceError):
        EVENTS[0].kind = "notice"  # type: ignore[misc]
