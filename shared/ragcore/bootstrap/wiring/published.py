"""Wiring of the published area: embeddable bots (beta tokens) and Dify's External Knowledge API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import agents, conversation, retrieval

if TYPE_CHECKING:
    from ragcore.services.published.bots import BotService
    from ragcore.services.published.dify import DifyRetrieval


@cached
def bots() -> BotService:
    from ragcore.services.published.bots import BotService

    return BotService(conversation.chats(), agents.agents(), conversation.search_apps(), retrieval.retrieval())


@cached
def dify_retrieval() -> DifyRetrieval:
    from ragcore.services.published.dify import DifyRetrieval

    return DifyRetrieval(get_container().store, retrieval.retrieval().retrieve)
