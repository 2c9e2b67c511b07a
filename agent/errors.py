"""Errors the agent layer raises; cli/ turns them into messages and exit codes."""

from __future__ import annotations


class AgentError(Exception):
    """Base for agent errors. Messages say what happened and what to do."""


class ConfigError(AgentError):
    """A config file, variable or flag has a wrong key or value."""


class SourceError(AgentError):
    """A source spec cannot be used (missing path, unsupported scheme)."""


class NothingGathered(AgentError):
    """Every source failed or was empty; there is nothing to answer from."""


class ModelError(AgentError):
    """The model backend failed (bad key, unknown model, request over the window)."""


class ServerError(AgentError):
    """An MCP server could not be started or died."""


class IndexLocked(AgentError):
    """Another process is writing the embedded retrieval index."""
