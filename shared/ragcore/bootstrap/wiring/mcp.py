"""Wiring of the mcp area: the tools of our MCP endpoint, and MCP servers as agent tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import accounts, conversation, knowledge, retrieval

if TYPE_CHECKING:
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
