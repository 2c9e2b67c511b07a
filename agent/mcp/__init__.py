"""The MCP client side: which servers run, starting and calling them, third-party tools and their trust.

Modules: connection, server_configs, thirdparty, toolbox, trust.
"""
