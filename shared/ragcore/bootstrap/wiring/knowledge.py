"""Wiring of the knowledge area: datasets, documents, chunks and their metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import accounts, connectors, models, runtime

if TYPE_CHECKING:
    from ragcore.services.knowledge.chunk_editing import ChunkService
    from ragcore.services.knowledge.chunks.store import ChunkStore
    from ragcore.services.knowledge.chunks.tags import TagService
    from ragcore.services.knowledge.datasets import DatasetService
    from ragcore.services.knowledge.document_assets import DocumentAssets
    from ragcore.services.knowledge.document_metadata import MetadataService
    from ragcore.services.knowledge.document_parsing import ParseControl
    from ragcore.services.knowledge.documents import DocumentService
    from ragcore.services.knowledge.ingestion_logs import IngestionLogService
    from ragcore.services.knowledge.metadata.vocabulary import MetaVocabulary
    from ragcore.services.knowledge.structure_graph import StructureGraphs
    from ragcore.services.knowledge.uploads import UploadService


@cached
def datasets() -> DatasetService:
    from ragcore.services.knowledge.datasets import DatasetService

    container = get_container()
    router = models.model_router()
    return DatasetService(
        container.store,
        default_embedding_model=container.settings.embedding_model,
        known_embedding_models=container.embedding_models, model_problem=router.model_problem,
        default_llm=router.default_chat_model,
        purge=documents().request_purge_dataset, run_counts=documents().run_counts,
        shared=accounts.teams().team_dataset, chat_model_usable=router.chat_model_usable,
        team_owners=accounts.teams().joined_teams,
        link_connectors=_link_connectors, connectors_of=_connectors_of,
    )


# A dataset's `connectors` field belongs to the connectors area (above this one): handed over as callables that
# build its service on first use, so a dataset request that names no connector never imports it.
def _link_connectors(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return connectors.connectors().link_dataset(*args, **kwargs)


def _connectors_of(tenant: str, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return connectors.connectors().dataset_connectors(tenant, refs)


@cached
def chunk_store() -> ChunkStore:
    from ragcore.services.knowledge.chunks.store import ChunkStore

    container = get_container()
    return ChunkStore(container.store, container.index)


@cached
def documents() -> DocumentService:
    from ragcore.services.knowledge.documents import DocumentService

    container = get_container()
    return DocumentService(
        container.store, container.blobs, chunk_store(), runtime.queue,
        max_upload_bytes=container.settings.max_upload_bytes,
        is_supported=runtime.is_supported, vocabulary=meta_vocabulary(),
        resume=lambda tenant, dataset, item: document_parsing().queue_parse(tenant, dataset, item),
    )


@cached
def document_parsing() -> ParseControl:
    from ragcore.services.knowledge.document_parsing import ParseControl

    container = get_container()
    return ParseControl(container.store, documents(), runtime.queue, lease_s=container.settings.parse_lease_s)


@cached
def document_assets() -> DocumentAssets:
    from ragcore.services.knowledge.document_assets import DocumentAssets

    container = get_container()
    return DocumentAssets(container.store, container.blobs, chunk_store(), max_upload_bytes=container.settings.max_upload_bytes)


@cached
def structure_graphs() -> StructureGraphs:
    from ragcore.services.knowledge.structure_graph import StructureGraphs

    return StructureGraphs(get_container().store)


@cached
def meta_vocabulary() -> MetaVocabulary:
    from ragcore.services.knowledge.metadata.vocabulary import MetaVocabulary

    return MetaVocabulary(get_container().store)


@cached
def uploads() -> UploadService:
    from ragcore.services.knowledge.uploads import UploadService

    container = get_container()
    return UploadService(container.store, container.blobs, presigned=container.is_aws,
                         max_bytes=container.settings.max_upload_bytes)


@cached
def chunks() -> ChunkService:
    from ragcore.services.knowledge.chunk_editing import ChunkService

    container = get_container()
    return ChunkService(container.store, chunk_store(), documents(), models.model_router().embedder_for, container.index)


@cached
def metadata() -> MetadataService:
    from ragcore.services.knowledge.document_metadata import MetadataService

    return MetadataService(get_container().store, documents(), meta_vocabulary())


@cached
def tags() -> TagService:
    from ragcore.services.knowledge.chunks.tags import TagService

    container = get_container()
    return TagService(container.store, chunk_store(), container.index)


@cached
def ingestion_logs() -> IngestionLogService:
    from ragcore.services.knowledge.ingestion_logs import IngestionLogService

    return IngestionLogService(get_container().store)
