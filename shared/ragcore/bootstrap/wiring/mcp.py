"""Wiring of the mcp area: the tools of our MCP endpoint, and MCP servers as agent tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import accounts, conversation, knowledge, retrieval

if TYPE_CHECKING:
    from ragcore.ports import McpClient
    from ragcore.services.mcp.servers import McpServerService
    from ragcore.services.mcp.toolbox import McpToolbox


@cached
def mcp_toolbox() -> McpToolbox:
    from ragcore.services.mcp.toolbox import McpToolbox, ToolboxDeps

    teams = accounts.teams()
    return McpToolbox(ToolboxDeps(
        store=get_container().store, datasets=knowledge.datasets(), documents=knowledge.documents(),
        chunks=knowledge.chunks(), chats=conversation.chats(), completion=conversation.completion(),
        retrieval=retrieval.retrieval(), read_shared=teams.read_shared, team_dataset=teams.team_dataset,
    ))


def mcp_client() -> McpClient:
    """The MCP client of agent tools and mcp_api: the SDK's, behind the private-address guard (MCP_ALLOWED_HOSTS)."""
    from ragcore.adapters.mcp_client import SdkMcpClient

    settings = get_container().settings
    hosts = frozenset(h.strip() for h in settings.mcp_allowed_hosts.split(",") if h.strip())
    return SdkMcpClient(allowed_hosts=hosts, allow_setting="MCP_ALLOWED_HOSTS", max_timeout_s=settings.mcp_timeout_s)


@cached
def mcp_servers() -> McpServerService:
    from ragcore.services.mcp.servers import McpServerService

    container = get_container()
    return McpServerService(container.store, mcp_client(), max_timeout_s=container.settings.mcp_timeout_s)
