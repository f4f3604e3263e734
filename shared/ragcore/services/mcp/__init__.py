"""MCP both ways: our datasets and chat assistants as an MCP server's tools, and MCP servers as agent tools.

Offers `toolbox.McpToolbox` (the tools our /api/v1/mcp endpoint lists and runs for a tenant: RAGFlow's three MCP
tools with their names, schemas and result shapes, and ours; `catalogue` holds their schemas) and
`servers.McpServerService` (RAGFlow's mcp_api: a tenant's MCP servers, their import and test, and the tool calls an
agent's LLM component makes on them). It reads the knowledge, retrieval and conversation areas; the MCP protocol
itself (its server at the HTTP edge, its client behind the McpClient port) stays outside the services.
"""
