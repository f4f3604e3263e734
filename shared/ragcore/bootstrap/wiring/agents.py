"""Wiring of the agents area: agents (RAGFlow's canvas DSL), their runs, versions, webhooks and attachments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import conversation, models, retrieval, runtime, system

if TYPE_CHECKING:
    from ragcore.services.agents.attachments import AgentAttachments
    from ragcore.services.agents.engine.runtime import Tools
    from ragcore.services.agents.runs import AgentRunner
    from ragcore.services.agents.service import AgentService
    from ragcore.services.agents.webhooks import WebhookService


@cached
def agents() -> AgentService:
    from ragcore.services.agents.service import AgentService

    return AgentService(get_container().store, runtime.background, stats=system.conversation_stats())


def _agent_tools(tenant: str) -> Tools:
    """What a run of the tenant's agent may call: retrieval, chat models, guarded outbound HTTP, the tenant's MCP
    servers' tools."""
    from functools import partial

    from ragcore.services.agents.engine.runtime import Tools

    container = get_container()
    settings = container.settings
    fetcher = runtime.guarded_fetcher(settings.agent_invoke_allowed_hosts, max_bytes=settings.agent_invoke_max_bytes,
                                      max_timeout_s=settings.agent_invoke_timeout_s,
                                      allow_setting="AGENT_INVOKE_ALLOWED_HOSTS")
    router = models.model_router()

    def mcp_call(mcp_id: str, name: str, arguments: dict[str, Any], headers: dict[str, str]) -> str:
        from ragcore.bootstrap.wiring.mcp import mcp_servers

        return mcp_servers().call_tool(tenant, mcp_id, name, arguments, headers)

    return Tools(retrieve=partial(retrieval.retrieval().retrieve, tenant), chat_model=conversation.deployment_chat_model,
                 has_llm=container.has_llm, fetch=fetcher, max_steps=settings.agent_max_steps,
                 model_for=partial(router.chat_model_for, tenant), mcp_call=mcp_call)


@cached
def agent_runner() -> AgentRunner:
    from ragcore.services.agents.runs import AgentRunner

    return AgentRunner(agents(), _agent_tools)


@cached
def agent_webhooks() -> WebhookService:
    from ragcore.services.agents.webhooks import WebhookService

    return WebhookService(get_container().store, agents(), agent_runner().run_unkept, agent_attachments().store)


@cached
def agent_attachments() -> AgentAttachments:
    from ragcore.services.agents.attachments import AgentAttachments

    container = get_container()
    return AgentAttachments(container.blobs, container.settings.max_upload_bytes)
