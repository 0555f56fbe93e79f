"""Weft as an MCP server: a workflow its owner switches on is a tool at /mcp (Streamable HTTP)."""
