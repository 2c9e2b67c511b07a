"""Errors the agent layer raises; cli/ turns them into messages and exit codes."""

from __future__ import annotations


class AgentError(Exception):
    """Base for agent errors. Messages say what happened and what to do."""


class ConfigError(AgentError):
    """A config file, variable or flag has a wrong key or value."""


class SourceError(AgentError):
    """A source spec cannot be used (missing path, unsupported scheme)."""


class ModelError(AgentError):
    """The model backend failed (bad key, unknown model, request over the window)."""


class IndexLocked(AgentError):
    """Another process is writing the embedded retrieval index."""
