"""Errors raised by the pure tools. Each message names the input and says what to do next."""

from __future__ import annotations


class ToolError(Exception):
    """A tool could not do what was asked; the message is meant for the model and the user."""


class InvalidArgument(ToolError):
    """An argument is malformed (bad range, bad pattern, NUL byte)."""


class NotFound(ToolError):
    """A path or resource does not exist."""


class OutsideRoots(ToolError):
    """A path resolves outside the roots the server was given."""


class AccessDenied(ToolError):
    """The operating system refused to read a path."""


class TooLarge(ToolError):
    """An input is over a configured size limit."""


class BinaryContent(ToolError):
    """A file holds binary data, not text."""


class PolicyRefused(ToolError):
    """The network policy refused a URL (scheme, address, robots.txt)."""


class FetchFailed(ToolError):
    """A network fetch failed (connection, HTTP status, deadline)."""


class Timeout(ToolError):
    """An operation ran past its deadline."""


class EncryptedDocument(ToolError):
    """A document is encrypted and no (or a wrong) password was given."""


class DamagedDocument(ToolError):
    """A document is damaged beyond what could be recovered."""
