"""build_graph: wiring only. plan -> act -> observe (loop) -> route -> pack -> answer (-> widen -> answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph

from agent.answering import AnswerNodes
from agent.models.base import ChatModel
from agent.nodes import EventSink, Nodes
from agent.settings import Settings
from agent.state import AgentState
from agent.toolbox import Toolbox


def build_graph(
    settings: Settings,
    model: ChatModel,
    toolbox: Toolbox,
    *,
    on_event: EventSink | None = None,
    on_text: Callable[[str], None] | None = None,
    checkpointer: Any = None,
) -> Any:
    """Compile the agent graph with the model and toolbox injected."""
    nodes = Nodes(settings, model, toolbox, on_event=on_event, on_text=on_text)
    answering = AnswerNodes(settings, model, nodes.count, on_event=on_event, on_text=on_text)
    g = StateGraph(AgentState)
    g.add_node("plan", nodes.plan)
    g.add_node("act", nodes.act)
    g.add_node("observe", nodes.observe)
    g.add_node("route", answering.route)
    g.add_node("pack", answering.pack)
    g.add_node("answer", answering.answer)
    g.add_node("widen", answering.widen)

    g.add_edge(START, "plan")
    g.add_conditional_edges("plan", nodes.after_plan, {"act": "act", "route": "route"})
    g.add_edge("act", "observe")
    g.add_conditional_edges("observe", nodes.after_observe, {"plan": "plan", "route": "route"})
    g.add_edge("route", "pack")

    def after_pack(state: AgentState) -> Literal["answer", "end"]:
        return "answer" if state.get("want_answer", True) else "end"

    g.add_conditional_edges("pack", after_pack, {"answer": "answer", "end": END})
    g.add_conditional_edges("answer", answering.after_answer, {"widen": "widen", "end": END})
    g.add_conditional_edges("widen", answering.after_widen, {"answer": "answer", "end": END})
    return g.compile(checkpointer=checkpointer)
