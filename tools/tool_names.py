"""Tool names: forage's own reader tools (one enum for the servers that register them and the agent
that calls them), and the namespaced names third-party tools are offered under."""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

SEPARATOR = "__"
MAX_TOOL_NAME = 64  # what model APIs accept for a function name


class ToolName(StrEnum):
    """A tool of the files, pdf or web server (members compare equal to their names as strings)."""

    # files server
    LIST_FILES = "list_files"
    READ_FILE = "read_file"
    READ_MANY = "read_many"
    SEARCH_FILES = "search_files"
    FILE_INFO = "file_info"
    READ_REPO = "read_repo"
    # pdf server
    PDF_INFO = "pdf_info"
    READ_PDF = "read_pdf"
    SEARCH_PDF = "search_pdf"
    # web server
    FETCH_PAGE = "fetch_page"
    CRAWL_SITE = "crawl_site"
    EXTRACT_LINKS = "extract_links"


def namespaced(server: str, tool: str) -> str:
    """`server__tool` as model APIs accept a function name: at most 64 of [A-Za-z0-9_.-]."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", tool)
    name = f"{server}{SEPARATOR}{safe}"
    if len(name) <= MAX_TOOL_NAME and safe == tool:
        return name
    digest = hashlib.sha1(tool.encode()).hexdigest()[:6]  # keeps two tools apart once shortened
    return f"{server}{SEPARATOR}{safe[: MAX_TOOL_NAME - len(server) - len(SEPARATOR) - 7]}_{digest}"
