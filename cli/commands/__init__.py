"""The `forage` subcommands besides chat: ask, pack (and the flags they share), index, models, sessions, servers, eval.

Modules: ask, eval, index, models, options, pack, servers, sessions.
"""
