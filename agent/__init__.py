"""The agent: gathers sources through MCP, packs what it found, and has a model answer.

Subpackages: gather, graph, mcp, models, pack, retrieval, safety, session.
Modules: damaged, errors, events, isolation, mcp_config, paths, settings, state, tokens.
"""
