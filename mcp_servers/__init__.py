"""forage's MCP servers: thin front ends over tools/ (files, pdf, web) and `forage mcp` itself.

Subpackages: files, forage, pdf, web.
Modules: common.
"""
