"""Sessions: one question or a whole chat, checkpointed; the editor's workspace; what a run produced.

Modules: checkpoints, result, session, store, workspace.
"""
