"""The `forage` subcommands besides ask, pack and chat: index, models, sessions, servers, eval.

Modules: eval, index, models, servers, sessions.
"""
