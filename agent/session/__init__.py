"""Sessions: a question or a chat through the graph (checkpointed), `forage pack` in-process, an editor's workspace.

Modules: checkpoints, direct, result, session, store, workspace.
"""
