"""`forage chat`: the command, one chat and its loop, its slash commands and its live view.

Modules: command, repl, room, slash, view.
"""
