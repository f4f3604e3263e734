"""Wiring of the retrieval area: hybrid search over a tenant's datasets (and the team datasets it may read)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import accounts, knowledge, models, runtime

if TYPE_CHECKING:
    from ragcore.services.retrieval.service import RetrievalService


def _keyword_extractor(question: str) -> list[str]:
    from ragcore.text.tokenize import keywords

    return list(keywords(question, 8))


@cached
def retrieval() -> RetrievalService:
    from ragcore.services.retrieval.service import RetrievalService

    container = get_container()
    router = models.model_router()
    return RetrievalService(
        container.store, knowledge.chunk_store(), container.index, router.embedder_for,
        reranker=router.reranker_for, vocabulary=knowledge.meta_vocabulary(), keyword_extractor=_keyword_extractor,
        background=runtime.background, shared=accounts.teams().team_dataset,
    )
