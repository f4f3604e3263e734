"""Wiring of the ingestion area: parse → chunk → embed, dataset-level index builds, the drop folder."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import channels, connector_sync, knowledge, models, runtime

if TYPE_CHECKING:
    from collections.abc import Callable

    from ragcore.parsing.ocr import OcrEngine
    from ragcore.services.ingestion.dropfolder import DropFolderService
    from ragcore.services.ingestion.embedding_check import EmbeddingCheck
    from ragcore.services.ingestion.index_tasks import IndexTaskService
    from ragcore.services.ingestion.pipeline import IngestionService

log = logging.getLogger("ragcore.vision")


def _vision_for(tenant: str) -> Callable[[bytes], str] | None:
    return models.model_router().vision_for(
        tenant, lambda reason: log.warning("the default vision model is unusable: %s", reason))


def _ocr() -> OcrEngine | None:
    return runtime.ocr_engine()  # looked up per document: tests swap the engine of a running server


@cached
def ingestion() -> IngestionService:
    from ragcore.services.ingestion.pipeline import IngestionService

    container = get_container()
    return IngestionService(
        container.store, container.blobs, knowledge.chunk_store(), models.model_router().embedder_for, runtime.queue,
        lease_s=container.settings.parse_lease_s, index_jobs=index_tasks().handle,
        purges=knowledge.documents().purge, ocr=_ocr, vision_for=_vision_for, connector_jobs=_connector_job,
        channel_jobs=_channel_job,
    )


def _connector_job(task: dict[str, Any]) -> None:
    """A step of a connector's sync run (the connectors area, above this one: built on its first step)."""
    connector_sync.connector_sync().handle(task)


def _channel_job(task: dict[str, Any]) -> None:
    """A chat channel's answer to a delivery (the channels area, above this one: built on its first answer)."""
    channels.channel_replies().handle(task)


@cached
def index_tasks() -> IndexTaskService:
    from ragcore.services.ingestion.index_tasks import IndexTaskService

    container = get_container()
    router = models.model_router()
    return IndexTaskService(container.store, knowledge.chunk_store(), container.index, router.embedder_for,
                            runtime.queue, chat_model=router.named_chat_model)


@cached
def embedding_check() -> EmbeddingCheck:
    from ragcore.services.ingestion.embedding_check import EmbeddingCheck

    container = get_container()
    return EmbeddingCheck(container.store, knowledge.chunk_store(), container.index, models.model_router().embedder_for,
                          knowledge.datasets().check_model)


@cached
def dropfolder() -> DropFolderService:
    from ragcore.services.ingestion.dropfolder import DropFolderService

    return DropFolderService(get_container().store, knowledge.datasets(), knowledge.documents(),
                             knowledge.document_parsing())
