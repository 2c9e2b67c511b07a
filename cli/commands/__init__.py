"""The `forage` subcommands (ask, pack, index, models, sessions, servers, eval) and their shared flags.

Modules: ask, eval, index, models, options, pack, servers, sessions.
"""
