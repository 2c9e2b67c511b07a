"""Safety of what is gathered and done: screening, remembered secret verdicts, envelopes, guards.

Modules: envelope, guard, screening, secret_verdicts.
"""
