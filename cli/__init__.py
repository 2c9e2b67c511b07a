"""The `forage` command line: commands, the terminal chat, rendering; errors become messages here.

Subpackages: chat, commands.
Modules: app, errors, index_progress, render.
"""
