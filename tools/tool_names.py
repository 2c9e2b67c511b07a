"""The names of forage's own reader tools: one enum for the servers that register them and the agent that calls them."""

from __future__ import annotations

from enum import StrEnum


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
