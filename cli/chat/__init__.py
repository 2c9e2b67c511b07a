"""`forage chat`: the command, its loop, its slash commands and its live view.

Modules: command, repl, room, slash, view.
"""
