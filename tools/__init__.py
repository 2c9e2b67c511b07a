"""Pure readers and checks, no MCP and no UI: files, web pages, HTML, PDFs, screening.

Subpackages: files, html, pdf, screening, web.
Modules: crash, errors, roots, runtime, tokens, tool_names.
"""
