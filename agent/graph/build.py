"""build_graph: wiring only. plan -> call (one task per tool call) -> observe (loop) -> route -> pack
-> answer (-> widen -> answer). Nothing gathered ends at route: no pack, no model call.

Each planned call is its own task (a `Send`), so its result is saved the moment it finishes:
a session killed in the middle of a step re-runs only the calls that had not finished.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph

from agent.events import EventSink
from agent.graph.answering import AnswerNodes
from agent.graph.control import Stop
from agent.graph.nodes import Nodes
from agent.mcp.toolbox import Toolbox
from agent.models.base import ChatModel
from agent.settings import Settings
from agent.state import AgentState


def build_graph(
    settings: Settings,
    model: ChatModel,
    toolbox: Toolbox,
    *,
    on_event: EventSink | None = None,
    on_text: Callable[[str], None] | None = None,
    checkpointer: Any = None,
    stop: Stop | None = None,
    on_gathered: Callable[[], Awaitable[None]] | None = None,
) -> Any:
    """Compile the agent graph with the model and toolbox injected (on_gathered: see AnswerNodes)."""
    stop = stop or Stop()
    nodes = Nodes(settings, model, toolbox, on_event=on_event, on_text=on_text, stop=stop)
    answering = AnswerNodes(
        settings, model, nodes.count, on_event=on_event, on_text=on_text, stop=stop, on_gathered=on_gathered
    )
    g = StateGraph(AgentState)
    g.add_node("plan", nodes.plan)
    g.add_node("call", nodes.call)
    g.add_node("observe", nodes.observe)
    g.add_node("route", answering.route)
    g.add_node("pack", answering.pack)
    g.add_node("answer", answering.answer)
    g.add_node("widen", answering.widen)
    # Edits the chat makes to a saved session (/add, /drop) are written as this node's update,
    # so the session is left with nothing to resume.
    g.add_node("amend", lambda state: {})

    g.add_edge(START, "plan")
    g.add_conditional_edges("plan", nodes.dispatch, {"call": "call", "route": "route", "end": END})
    g.add_edge("call", "observe")
    g.add_conditional_edges(
        "observe", nodes.after_observe, {"call": "call", "plan": "plan", "route": "route", "end": END}
    )
    g.add_edge("amend", END)

    def after_route(state: AgentState) -> Literal["pack", "end"]:
        # Nothing gathered: no pack to build and no model to pay; every surface says so from the result.
        return "pack" if state.get("documents") else "end"

    g.add_conditional_edges("route", after_route, {"pack": "pack", "end": END})

    def after_pack(state: AgentState) -> Literal["answer", "end"]:
        return "answer" if state.get("want_answer", True) else "end"

    g.add_conditional_edges("pack", after_pack, {"answer": "answer", "end": END})
    g.add_conditional_edges("answer", answering.after_answer, {"widen": "widen", "end": END})
    g.add_conditional_edges("widen", answering.after_widen, {"answer": "answer", "end": END})
    return g.compile(checkpointer=checkpointer)
