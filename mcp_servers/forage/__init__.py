"""`forage mcp`: forage as an MCP server for editors (gather_context, ask, list_sources, index).

Modules: auth, clients, oauth, paging, server, sessions, team.
"""
