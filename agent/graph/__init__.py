"""The LangGraph agent: wiring, the plan/call/observe nodes, routing and answering, prompts.

Modules: answering, build, compaction, control, nodes, observe, prompts.
"""
