"""The composition root: the one place that builds adapters (`container`) and wires the areas of
ragcore.services together (`wiring`, one module per area). Routes, handlers and the CLI ask here for the services
they call; services never import this package (an import-linter contract).

Every factory below is cached per process (a Lambda cold start, `make serve`) and imports its service on first
call, so a function imports only the services its routes use. `reset()` drops them all (tests switch settings).
"""

from __future__ import annotations

from ragcore.bootstrap.container import get_container, reset
from ragcore.bootstrap.wiring.accounts import teams, tenants, trusted_proxies, users
from ragcore.bootstrap.wiring.agents import agent_attachments, agent_runner, agent_webhooks, agents
from ragcore.bootstrap.wiring.channels import channel_replies, channel_webhooks, chat_channels
from ragcore.bootstrap.wiring.connector_sync import connector_sync
from ragcore.bootstrap.wiring.connectors import connectors, oauth_flows
from ragcore.bootstrap.wiring.conversation import chats, completion, memories, search_apps
from ragcore.bootstrap.wiring.files import file_commits, files
from ragcore.bootstrap.wiring.ingestion import dropfolder, embedding_check, index_tasks, ingestion
from ragcore.bootstrap.wiring.knowledge import (
    chunk_store,
    chunks,
    datasets,
    document_assets,
    document_parsing,
    documents,
    ingestion_logs,
    meta_vocabulary,
    metadata,
    structure_graphs,
    tags,
    uploads,
)
from ragcore.bootstrap.wiring.mcp import mcp_servers, mcp_toolbox
from ragcore.bootstrap.wiring.models import aimlapi_sign_in, audio, model_providers, model_router, tenant_models
from ragcore.bootstrap.wiring.published import bots, dify_retrieval
from ragcore.bootstrap.wiring.retrieval import retrieval
from ragcore.bootstrap.wiring.runtime import ocr_engine, queue
from ragcore.bootstrap.wiring.system import conversation_stats, langfuse, log_levels, status_probes

__all__ = [
    "agent_attachments", "agent_runner", "agent_webhooks", "agents", "aimlapi_sign_in", "audio", "bots", "channel_replies",
    "channel_webhooks", "chat_channels", "chats", "chunk_store",
    "chunks", "completion", "connector_sync", "connectors", "conversation_stats", "datasets", "dify_retrieval",
    "document_assets", "document_parsing", "documents", "dropfolder", "embedding_check", "file_commits", "files",
    "get_container", "index_tasks", "ingestion", "ingestion_logs", "langfuse", "log_levels", "mcp_servers", "mcp_toolbox", "memories",
    "meta_vocabulary", "metadata", "model_providers", "model_router", "oauth_flows", "ocr_engine", "queue", "reset",
    "retrieval", "search_apps", "status_probes", "structure_graphs", "tags", "teams", "tenant_models", "tenants",
    "trusted_proxies", "uploads", "users"
]
