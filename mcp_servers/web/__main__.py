"""`python -m mcp_servers.web`: run the web server."""

from mcp_servers.web.server import main

main()
