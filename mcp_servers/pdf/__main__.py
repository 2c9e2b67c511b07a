"""`python -m mcp_servers.pdf`: run the pdf server."""

from mcp_servers.pdf.server import main

main()
