"""Wiring of the conversation area: chat assistants and their sessions, completions, memories, search apps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import accounts, models, retrieval, runtime, system

if TYPE_CHECKING:
    from ragcore.ports import ChatModel
    from ragcore.services.conversation.chats import ChatService
    from ragcore.services.conversation.completion import CompletionService
    from ragcore.services.conversation.memories import MemoryService
    from ragcore.services.conversation.search_apps import SearchAppService


def deployment_chat_model() -> ChatModel:
    """LLM_BASE_URL's model, else the extractive answerer."""
    return get_container().chat_model


@cached
def chats() -> ChatService:
    from ragcore.services.conversation.chats import ChatService

    container = get_container()
    router = models.model_router()
    llm_ids = router.llm_ids()
    return ChatService(container.store, llm_ids=llm_ids, default_llm_id=sorted(llm_ids)[0],
                       rerank_available=bool(container.settings.rerank_base_url), background=runtime.background,
                       stats=system.conversation_stats(), tenant_model=router.has_model,
                       tenant_default=router.default_model, shared=accounts.teams().team_dataset)


@cached
def completion() -> CompletionService:
    from ragcore.services.conversation.completion import CompletionService

    search = retrieval.retrieval()
    return CompletionService(chats(), search.retrieve, deployment_chat_model, document_metadata=search.document_metadata,
                             model_for=models.model_router().chat_model_for,
                             tracer=system.langfuse().trace_completion)


@cached
def memories() -> MemoryService:
    from ragcore.services.conversation.memories import MemoryService

    container = get_container()
    router = models.model_router()
    return MemoryService(container.store, container.index, router.embedder_for, router.named_chat_model,
                         background=runtime.background, max_size=container.settings.max_memory_bytes,
                         model_usable=router.chat_model_usable)


@cached
def search_apps() -> SearchAppService:
    from ragcore.services.conversation.search_apps import SearchAppService

    router = models.model_router()
    return SearchAppService(get_container().store, retrieve=retrieval.retrieval().retrieve,
                            model_usable=router.chat_model_usable, default_llm=router.default_chat_model,
                            shared=accounts.teams().team_dataset, named_chat_model=router.named_chat_model)
