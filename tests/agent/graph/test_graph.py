"""The graph driven by the scripted model, over a real files MCP server (stdio subprocess)."""

import sys
from pathlib import Path

import pytest

from agent.events import CallStart, Event, Notice, Plan, Route
from agent.mcp.connection import ServerConfig
from agent.mcp.toolbox import Toolbox
from agent.models.scripted import ScriptedModel
from agent.session.session import run
from agent.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "client.py").write_text("import time\n\nRETRY_DELAY = 0.5  # seconds before a retry\n")
    (root / "README.md").write_text("# Demo\nThe retry delay lives in src/client.py.\n")
    return root


def _settings(tmp_path, **kw):
    return Settings(data_dir=tmp_path / "data", **kw)


async def test_scripted_plan_act_observe_pack_answer(repo, tmp_path):
    model = ScriptedModel()
    model.call("read_file", path=str(repo / "src" / "client.py"))
    model.reply("DONE")
    model.reply("RETRY_DELAY is set in src/client.py [1].")
    result = await run(
        "Where is the retry delay?", [str(repo / "src" / "client.py")], _settings(tmp_path), model
    )

    # planning saw the MCP tools with their schemas, and the question and sources
    first = model.sent[0]
    names = {t.name for t in first.tools or []}
    assert {"read_file", "read_many", "list_files", "search_files", "file_info"} <= names
    read_file = next(t for t in first.tools if t.name == "read_file")
    assert "path" in read_file.input_schema["properties"]
    assert "Where is the retry delay?" in first.messages[1].content

    # the second planning call saw the first call's observation, summarised
    second = model.sent[1]
    tool_msgs = [m for m in second.messages if m.role == "tool"]
    assert tool_msgs and tool_msgs[0].name == "read_file" and "Added 1 document" in tool_msgs[0].content

    # history: tool, args, status, tokens added, duration
    assert [(a.tool, a.status) for a in result.history] == [("read_file", "ok")]
    assert result.history[0].tokens_added > 0 and result.history[0].duration_s >= 0

    # answer: the pack is the cacheable prefix and the question comes last
    answer_call = model.sent[2]
    assert answer_call.tools is None
    user = answer_call.messages[-1]
    assert "RETRY_DELAY = 0.5" in user.cacheable_prefix
    assert "Where is the retry delay?" in user.content
    assert result.answer and result.answer.citations[0].uri.endswith("client.py")
    assert result.failures == []


async def test_failed_call_is_an_observation_not_a_crash(repo, tmp_path):
    model = ScriptedModel()
    model.call("read_file", path=str(repo / "nope.py"))
    model.call("read_file", path="/etc/passwd")
    model.reply("DONE")
    model.reply("Nothing useful [1].")
    result = await run("q?", [str(repo)], _settings(tmp_path, max_steps=5), model)
    statuses = [a.status for a in result.history]
    assert statuses == ["error", "error"]
    assert "does not exist" in model.sent[1].messages[-1].content
    assert "outside" in model.sent[2].messages[-1].content


async def test_extractive_default_reads_folder_and_answers(repo, tmp_path):
    from agent.models.extractive import ExtractiveModel

    result = await run(
        "Where is the retry delay configured?", [str(repo)], _settings(tmp_path), ExtractiveModel()
    )
    assert result.documents == 2
    assert result.answer is not None and result.answer.extractive
    assert "RETRY_DELAY = 0.5" in result.answer.text
    assert any(c.uri.endswith("client.py") for c in result.answer.citations)


async def test_a_one_shot_run_stops_its_servers_once_gathering_is_over(repo, tmp_path):
    import psutil

    from agent.models.extractive import ExtractiveModel

    def servers() -> list[str]:
        kids = psutil.Process().children(recursive=True)
        return [" ".join(k.cmdline()) for k in kids if "mcp_servers.files" in " ".join(k.cmdline())]

    seen: dict[str, list[str]] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, Plan | Route):
            seen.setdefault(event.kind, servers())

    result = await run(
        "Where is the retry delay?", [str(repo)], _settings(tmp_path), ExtractiveModel(), on_event=on_event
    )
    assert result.answer is not None and "RETRY_DELAY = 0.5" in result.answer.text
    assert len(seen["plan"]) == 1  # the files server read the folder...
    assert seen["route"] == []  # ... and was stopped before ranking and packing began


async def test_missing_source_and_dead_server_are_failures_and_others_go_on(repo, tmp_path):
    from agent.models.extractive import ExtractiveModel

    result = await run(
        "retry delay?", [str(repo), str(tmp_path / "missing")], _settings(tmp_path), ExtractiveModel()
    )
    assert result.documents == 2 and len(result.failures) == 1 and "no such file" in result.failures[0]


async def test_toolbox_reports_a_server_that_cannot_start(tmp_path):
    configs = {"files": ServerConfig("files", sys.executable, ("-m", "mcp_servers.does_not_exist"))}
    async with Toolbox(configs, timeout=5, log_dir=tmp_path) as box:
        errors = await box.start({"files"})
        assert "files" in errors and "No module named" in errors["files"]
        outcome = await box.call("read_file", {"path": "x"})
        assert outcome.status == "error" and "files server" in outcome.text


async def test_call_deadline_becomes_timeout(repo, tmp_path):
    configs = {"files": ServerConfig("files", sys.executable, ("-m", "mcp_servers.files", str(repo)))}
    async with Toolbox(configs, timeout=0.000001, log_dir=tmp_path) as box:
        box.timeout = 30.0
        assert not await box.start({"files"})
        box.timeout = 0.000001
        outcome = await box.call("read_many", {"paths_or_glob": str(repo)})
        assert outcome.status == "timeout" and "did not finish" in outcome.text
        box.timeout = 30.0
        again = await box.call("read_file", {"path": str(repo / "README.md")})
        assert again.status == "ok"  # the session survives a timed-out call


def _big_folder(tmp_path: Path) -> Path:
    root = tmp_path / "big"
    root.mkdir()
    for n in range(130):  # ~1.3 MB: two replies of the files server (1 MB each)
        (root / f"m{n:03d}.py").write_text(f"# module {n}\n" + "x = 1\n" * 1700)
    return root


async def test_reading_a_folder_page_by_page_uses_none_of_the_planners_steps(tmp_path):
    from agent.models.extractive import ExtractiveModel

    root = _big_folder(tmp_path)
    notices: list[str] = []
    result = await run(
        "What is x?", [str(root)], _settings(tmp_path, max_steps=1), ExtractiveModel(),
        on_event=lambda event: notices.append(event.text) if isinstance(event, Notice) else None,
    )  # fmt: skip
    assert result.documents == 130  # both pages, in the one step the planner was allowed
    pages = [a for a in result.history if a.tool == "read_many"]
    assert len(pages) == 2 and {(a.step, a.call_index) for a in pages} == {(0, 0)}
    assert not [n for n in notices if "not read yet" in n]


async def test_stopping_at_the_gather_limit_says_how_many_files_were_left_unread(tmp_path):
    from agent.models.extractive import ExtractiveModel

    root = _big_folder(tmp_path)
    notices: list[str] = []

    def on_event(event: Event) -> None:
        if isinstance(event, Notice):
            notices.append(event.text)

    settings = _settings(tmp_path, max_gather_tokens=100_000)
    result = await run("What is x?", [str(root)], settings, ExtractiveModel(), on_event=on_event)
    stop = next(n for n in notices if n.startswith("stopped gathering"))
    unread = 130 - result.documents
    assert 0 < unread < 130
    assert stop == (
        f"stopped gathering at {result.gathered_tokens:,} tokens (max_gather_tokens): {unread:,} file(s) of "
        f"{root} not read yet; raise max_gather_tokens in the config to read them, or ask about a narrower folder"
    )


async def test_a_folder_read_killed_between_pages_resumes_without_reading_the_finished_pages(tmp_path):
    from agent.models.extractive import ExtractiveModel
    from agent.session.checkpoints import sqlite_checkpointer
    from agent.session.session import Session

    root = _big_folder(tmp_path)
    settings = _settings(tmp_path)
    db = tmp_path / "sessions.sqlite"

    class Killed(Exception):
        pass

    def kill_at_the_second_page(event: Event) -> None:
        if isinstance(event, CallStart) and event.args.get("offset"):
            raise Killed  # the first page's result and its observe round were saved by now

    async with sqlite_checkpointer(db) as saver, Session(
        [str(root)], settings, ExtractiveModel(), checkpointer=saver, thread_id="t",
        on_event=kill_at_the_second_page,
    ) as session:  # fmt: skip
        with pytest.raises(Killed):
            await session.ask("What is x?", want_answer=False)
    started: list[dict] = []

    def record(event: Event) -> None:
        if isinstance(event, CallStart):
            started.append(dict(event.args))

    async with (
        sqlite_checkpointer(db) as saver,
        Session(
            [str(root)], settings, ExtractiveModel(), checkpointer=saver, thread_id="t", on_event=record
        ) as session,
    ):
        assert await session.interrupted() == "What is x?"
        result = await session.resume()
    assert [a.get("offset") for a in started if a.get("paths_or_glob") == str(root)] == [started[0]["offset"]]
    assert started[0]["offset"] > 0  # only the unfinished page was read again
    assert result.documents == 130


async def test_nothing_gathered_asks_no_model_and_claims_no_pack(repo, tmp_path):
    from agent.events import Packed

    model = ScriptedModel()
    model.call("read_file", path=str(repo / "nope.py"))
    model.reply("DONE")
    model.reply("An answer from nothing [1].")  # must stay unasked
    events: list[Event] = []
    result = await run("q?", [str(repo)], _settings(tmp_path, max_steps=3), model, on_event=events.append)
    assert len(model.sent) == 2 and all(s.tools for s in model.sent)  # two plans, no answer call
    assert result.answer is None and result.pack is None and result.documents == 0
    assert not [e for e in events if isinstance(e, (Packed, Route))]
    message = result.nothing_gathered()
    assert message and "no model was asked" in message
