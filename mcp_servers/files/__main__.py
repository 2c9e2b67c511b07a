"""`python -m mcp_servers.files`: run the files server."""

from mcp_servers.files.server import main

main()
