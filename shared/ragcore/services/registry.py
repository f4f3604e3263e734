"""Wires services to the container's adapters; routes and handlers ask for services here.

Each factory imports its service on first call: a function imports only the services its routes use, which
keeps every Lambda's cold start to what its requests need.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from ragcore.container import Container, get_container, on_reset

_T = TypeVar("_T")

if TYPE_CHECKING:
    from ragcore.agents.runtime import Tools
    from ragcore.parsing.ocr import OcrEngine
    from ragcore.ports import ChatModel, Embedder, JobQueue, Reranker
    from ragcore.services.agent_attachments import AgentAttachments
    from ragcore.services.agent_runs import AgentRunner
    from ragcore.services.agent_webhooks import WebhookService as AgentWebhooks
    from ragcore.services.agents import AgentService
    from ragcore.services.audio import AudioService
    from ragcore.services.bots import BotService
    from ragcore.services.chats import ChatService
    from ragcore.services.chunk_store import ChunkStore
    from ragcore.services.chunks import ChunkService
    from ragcore.services.completion import CompletionService
    from ragcore.services.conversation_stats import ConversationStats
    from ragcore.services.datasets import DatasetService
    from ragcore.services.dify_retrieval import DifyRetrieval
    from ragcore.services.document_assets import DocumentAssets
    from ragcore.services.documents import DocumentService
    from ragcore.services.dropfolder import DropFolderService
    from ragcore.services.embedding_check import EmbeddingCheck
    from ragcore.services.file_commits import FileCommitService
    from ragcore.services.files import FileService
    from ragcore.services.index_tasks import IndexTaskService
    from ragcore.services.ingestion import IngestionService
    from ragcore.services.ingestion_logs import IngestionLogService
    from ragcore.services.langfuse import LangfuseService
    from ragcore.services.memories import MemoryService
    from ragcore.services.meta_vocabulary import MetaVocabulary
    from ragcore.services.metadata import MetadataService
    from ragcore.services.model_providers import ModelProviderService
    from ragcore.services.retrieval import RetrievalService
    from ragcore.services.search_apps import SearchAppService
    from ragcore.services.structure_graph import StructureGraphs
    from ragcore.services.system import LogLevels, Probe
    from ragcore.services.tags import TagService
    from ragcore.services.teams import TeamService
    from ragcore.services.tenants import TenantService
    from ragcore.services.uploads import UploadService
    from ragcore.services.users import UserService


def build_dataset_service(container: Container) -> DatasetService:
    from ragcore.services.datasets import DatasetService

    return DatasetService(
        container.store,
        default_embedding_model=container.settings.embedding_model,
        known_embedding_models=container.embedding_models, model_problem=tenant_model_problem,
        default_llm=lambda tenant: tenant_default_model(tenant, "chat"),
        purge=lambda tenant, dataset_id: documents().request_purge_dataset(tenant, dataset_id),
        run_counts=lambda tenant, dataset_id: documents().run_counts(tenant, dataset_id),
        shared=lambda tenant, dataset_id: teams().team_dataset(tenant, dataset_id),
        chat_model_usable=chat_model_usable,
        team_owners=lambda tenant: teams().joined_teams(tenant),
        link_connectors=lambda *args, **kw: connectors().link_dataset(*args, **kw),
        connectors_of=lambda tenant, refs: connectors().dataset_connectors(tenant, refs),
    )


def _queue() -> JobQueue:
    container = get_container()
    try:
        return container.queue
    except RuntimeError:
        if container.is_aws:
            from ragcore.adapters.sqs_queue import SqsJobQueue

            container.set_queue(SqsJobQueue(container.settings.task_queue_url, endpoint_url=container.settings.aws_endpoint_url))
            return container.queue
        raise


def _background(task: dict[str, Any]) -> None:
    _queue().submit(task)


def _is_supported(name: str) -> bool:
    from ragcore.parsing import is_supported

    return bool(is_supported(name))


@lru_cache(maxsize=1)
def datasets() -> DatasetService:
    return build_dataset_service(get_container())


@lru_cache(maxsize=1)
def tenants() -> TenantService:
    from ragcore.services.tenants import TenantService

    return TenantService(get_container().store)


def users() -> UserService:
    from ragcore.services.users import LoginPolicy, UserService

    settings = get_container().settings
    policy = LoginPolicy(settings.login_max_failures, settings.login_failure_window_s, settings.login_lock_s,
                         settings.login_address_max_failures)
    return UserService(get_container().store, register_enabled=bool(settings.register_enabled), policy=policy)


def trusted_proxies() -> frozenset[str]:
    return frozenset(h.strip() for h in get_container().settings.trusted_proxies.split(",") if h.strip())


def read_shared(tenant: str, dataset_id: str, read: Callable[[str], _T]) -> _T:
    """A read of a dataset's documents or chunks: as the caller, or — when the dataset is not the caller's but a
    team dataset of a team its user joined — as the dataset's owner. Only the caller's own miss pays the team
    lookup, and anything else answers the caller's own refusal."""
    from ragcore.errors import ApiError

    try:
        return read(tenant)
    except ApiError:
        shared = teams().team_dataset(tenant, dataset_id) if isinstance(dataset_id, str) and dataset_id else None
        if shared is None:
            raise
    return read(str(shared["tenant_id"]))


def teams() -> TeamService:
    from ragcore.services.teams import TeamService

    return TeamService(get_container().store, users())


@lru_cache(maxsize=1)
def chunk_store() -> ChunkStore:
    from ragcore.services.chunk_store import ChunkStore

    container = get_container()
    return ChunkStore(container.store, container.index)


@lru_cache(maxsize=1)
def documents() -> DocumentService:
    from ragcore.services.documents import DocumentService

    container = get_container()
    return DocumentService(
        container.store, container.blobs, chunk_store(), _queue,
        max_upload_bytes=container.settings.max_upload_bytes, lease_s=container.settings.parse_lease_s,
        is_supported=_is_supported, vocabulary=meta_vocabulary(),
    )


@lru_cache(maxsize=1)
def document_assets() -> DocumentAssets:
    from ragcore.services.document_assets import DocumentAssets

    container = get_container()
    return DocumentAssets(container.store, container.blobs, chunk_store(), max_upload_bytes=container.settings.max_upload_bytes)


@lru_cache(maxsize=1)
def embedding_check() -> EmbeddingCheck:
    from ragcore.services.embedding_check import EmbeddingCheck

    container = get_container()
    return EmbeddingCheck(container.store, chunk_store(), container.index, embedder_for,
                          lambda tenant, model: datasets().check_model(tenant, model))


@lru_cache(maxsize=1)
def structure_graphs() -> StructureGraphs:
    from ragcore.services.structure_graph import StructureGraphs

    return StructureGraphs(get_container().store)


@lru_cache(maxsize=1)
def meta_vocabulary() -> MetaVocabulary:
    from ragcore.services.meta_vocabulary import MetaVocabulary

    return MetaVocabulary(get_container().store)


@lru_cache(maxsize=1)
def ingestion() -> IngestionService:
    from ragcore.services.ingestion import IngestionService

    container = get_container()
    return IngestionService(
        container.store, container.blobs, chunk_store(), embedder_for, _queue,
        lease_s=container.settings.parse_lease_s, index_jobs=lambda job: index_tasks().handle(job),
        purges=lambda task: documents().purge(task), ocr=lambda: ocr_engine(), vision_for=lambda t: vision_for(t),
        connector_jobs=lambda task: connector_sync().handle(task),
    )


@lru_cache(maxsize=1)
def ocr_engine() -> OcrEngine | None:
    """The OCR function on AWS (OCR_FUNCTION_NAME), else the in-process engine when rapidocr is installed."""
    settings = get_container().settings
    if settings.ocr_function:
        from ragcore.adapters.lambda_ocr import LambdaOcr

        return LambdaOcr(settings.ocr_function, endpoint_url=settings.aws_endpoint_url)
    from ragcore.parsing.ocr import local_engine

    return local_engine()


on_reset(ocr_engine.cache_clear)


def vision_for(tenant: str) -> Callable[[bytes], str] | None:
    """The tenant's default image-to-text model (img2txt_id) as picture bytes → description; None without one."""
    import logging

    from ragcore.services.vision import ImageDescriber

    model_id = tenant_default_model(tenant, "vision")
    if not model_id:
        return None
    try:
        config = model_providers().resolve(tenant, "vision", model_id)
    except LookupError as exc:
        logging.getLogger("ragcore.vision").warning("the default vision model is unusable: %s", exc)
        return None
    return ImageDescriber(get_container().chat_model_of(config)).describe


@lru_cache(maxsize=1)
def index_tasks() -> IndexTaskService:
    from ragcore.services.index_tasks import IndexTaskService

    container = get_container()
    return IndexTaskService(
        container.store, chunk_store(), container.index, embedder_for, _queue,
        chat_model=named_chat_model,
    )


@lru_cache(maxsize=1)
def dropfolder() -> DropFolderService:
    from ragcore.services.dropfolder import DropFolderService

    return DropFolderService(get_container().store, datasets(), documents())


for _cached in (datasets, tenants, chunk_store, documents, document_assets, embedding_check, structure_graphs, ingestion,
                index_tasks, dropfolder, meta_vocabulary):
    on_reset(_cached.cache_clear)


@lru_cache(maxsize=1)
def uploads() -> UploadService:
    from ragcore.services.uploads import UploadService

    container = get_container()
    return UploadService(container.store, container.blobs, presigned=container.is_aws,
                         max_bytes=container.settings.max_upload_bytes)


on_reset(uploads.cache_clear)


def _keyword_extractor(question: str) -> list[str]:
    from ragcore.text.tokenize import keywords

    return list(keywords(question, 8))


@lru_cache(maxsize=1)
def retrieval() -> RetrievalService:
    from ragcore.services.retrieval import RetrievalService

    container = get_container()
    return RetrievalService(
        container.store, chunk_store(), container.index, embedder_for,
        reranker=reranker_for, vocabulary=meta_vocabulary(), keyword_extractor=_keyword_extractor,
        background=_background, shared=lambda tenant, dataset_id: teams().team_dataset(tenant, dataset_id),
    )


on_reset(retrieval.cache_clear)


@lru_cache(maxsize=1)
def chunks() -> ChunkService:
    from ragcore.services.chunks import ChunkService

    container = get_container()
    return ChunkService(container.store, chunk_store(), documents(), embedder_for, container.index)


on_reset(chunks.cache_clear)


@lru_cache(maxsize=1)
def metadata() -> MetadataService:
    from ragcore.services.metadata import MetadataService

    return MetadataService(get_container().store, documents(), meta_vocabulary())


on_reset(metadata.cache_clear)


@lru_cache(maxsize=1)
def tags() -> TagService:
    from ragcore.services.tags import TagService

    container = get_container()
    return TagService(container.store, chunk_store(), container.index)


@lru_cache(maxsize=1)
def ingestion_logs() -> IngestionLogService:
    from ragcore.services.ingestion_logs import IngestionLogService

    return IngestionLogService(get_container().store)


on_reset(tags.cache_clear)
on_reset(ingestion_logs.cache_clear)


@lru_cache(maxsize=1)
def model_providers() -> ModelProviderService:
    from ragcore.services.model_providers import ModelProviderService

    container = get_container()
    return ModelProviderService(container.store, container.catalogue, lambda: container.cipher, container.verify_model,
                                builtin_embedding="all-MiniLM-L6-v2@Builtin" in container.embedding_models(),
                                discover=_discover_models)


def _discover_models(factory: str, api_key: str, base_url: str) -> list[dict[str, Any]]:
    from ragcore.adapters.model_discovery import discover

    return discover(factory, api_key, base_url)


on_reset(model_providers.cache_clear)


@lru_cache(maxsize=1)
def audio() -> AudioService:
    from ragcore.services.audio import AudioService

    container = get_container()
    return AudioService(model_providers(), container.speech_model_of, container.transcriber_of)


on_reset(audio.cache_clear)


def embedder_for(model_id: str, tenant: str) -> Embedder:
    """The embedding model a dataset or memory names: the deployment's (builtin, EMBEDDING_BASE_URL) when it serves
    that name, else the tenant's own provider model with the tenant's key."""
    container = get_container()
    if model_id and model_id not in container.embedding_models():
        from ragcore.errors import ProviderError
        from ragcore.providers.catalogue import BUILTIN
        from ragcore.services.model_providers import split_model_name

        try:
            config = model_providers().resolve(tenant, "embedding", model_id)
        except LookupError as exc:
            factory = split_model_name(model_id)[2]
            if factory != BUILTIN and container.catalogue.get(factory) is not None \
                    and model_id != container.settings.embedding_model:
                # a provider model the tenant removed: never embed with another model in its place
                raise ProviderError(str(exc)) from None
        else:
            return container.embedder_of(config)
    return container.embedder_for(model_id)


def tenant_has_model(tenant: str, kind: str, name: str) -> bool:
    return not tenant_model_problem(tenant, kind, name)


def tenant_model_problem(tenant: str, kind: str, name: str) -> str:
    """Why the tenant cannot use this model (RAGFlow's LookupError text), or "" when it can."""
    try:
        model_providers().resolve(tenant, kind, name)
    except LookupError as exc:
        return str(exc)
    return ""


def tenant_default_model(tenant: str, kind: str) -> str:
    from ragcore.services.model_providers import DEFAULT_FIELDS

    return str(model_providers().defaults(tenant).get(DEFAULT_FIELDS[kind]) or "")


def _deployment_serves(llm_id: str) -> bool:
    served = llm_ids()
    return llm_id in served or llm_id.split("@")[0] in {m.split("@")[0] for m in served}


def chat_model_for(tenant: str, llm_id: str) -> ChatModel | None:
    """The chat model an llm_id names with the tenant's key; None for the deployment's own model (LLM_BASE_URL or
    the extractive answerer). A model the tenant configured and then removed is the answer's error, in RAGFlow's
    words ("Instance CI not found for model ...")."""
    from ragcore.errors import ProviderError

    try:
        config = model_providers().resolve(tenant, "chat", llm_id)
    except LookupError as exc:
        if _deployment_serves(llm_id) or not model_providers().has_providers(tenant):
            return None
        raise ProviderError(str(exc)) from None
    return get_container().chat_model_of(config)


def chat_model_usable(tenant: str, llm_id: str) -> bool:
    """Whether a search app, a RAPTOR build or a memory may name llm_id: the tenant configured it, the deployment
    serves it, or the tenant added no provider at all (then the deployment's model answers for any name)."""
    return tenant_has_model(tenant, "chat", llm_id) or _deployment_serves(llm_id) \
        or not model_providers().has_providers(tenant)


def deployment_chat_model() -> ChatModel | None:
    """LLM_BASE_URL's model, or None where answers are extractive."""
    container = get_container()
    return container.chat_model if container.has_llm else None


def named_chat_model(tenant: str, llm_id: str) -> ChatModel | None:
    """The chat model llm_id names with the tenant's key ("": the tenant's default chat model), else the
    deployment's (None: extractive). Search apps, RAPTOR and memories summarise and extract with it."""
    llm_id = llm_id or tenant_default_model(tenant, "chat")
    return (chat_model_for(tenant, llm_id) if llm_id else None) or deployment_chat_model()


def search_chat_model(tenant: str, search_id: str) -> ChatModel | None:
    """Related questions for a search app use its search_config.chat_id (else the tenant's default model)."""
    return named_chat_model(tenant, search_apps().chat_llm_id(tenant, search_id) if search_id else "")


def reranker_for(tenant: str, rerank_id: str) -> Reranker | None:
    try:
        config = model_providers().resolve(tenant, "rerank", rerank_id)
    except LookupError:
        return get_container().reranker  # RERANK_BASE_URL's, or None: "Model(...) not authorized"
    return get_container().reranker_of(config)


def llm_ids() -> set[str]:
    container = get_container()
    if container.has_llm:
        model = container.settings.llm_model or "gpt-4o-mini"
        return {model, f"{model}@OpenAI-API-Compatible"}
    return {"extractive@Builtin"}


@lru_cache(maxsize=1)
def chats() -> ChatService:
    from ragcore.services.chats import ChatService

    container = get_container()
    default = sorted(llm_ids())[0]
    return ChatService(container.store, llm_ids=llm_ids(), default_llm_id=default,
                       rerank_available=bool(container.settings.rerank_base_url), background=_background,
                       stats=conversation_stats(), tenant_model=tenant_has_model, tenant_default=tenant_default_model,
                       shared=lambda tenant, dataset_id: teams().team_dataset(tenant, dataset_id))


@lru_cache(maxsize=1)
def completion() -> CompletionService:
    from ragcore.services.completion import CompletionService
    from ragcore.services.documents import KIND as DOC_KIND

    store = get_container().store

    def document_metadata(tenant: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {d["id"]: dict(d.get("meta_fields") or {}) for d in store.get_many(DOC_KIND, tenant, ids)}

    return CompletionService(chats(), lambda tenant, **kw: retrieval().retrieve(tenant, **kw), lambda: get_container().chat_model,
                             document_metadata=document_metadata, model_for=chat_model_for,
                             tracer=lambda tenant, record: langfuse().trace_completion(tenant, record))


@lru_cache(maxsize=1)
def _trace_sender() -> ThreadPoolExecutor:
    # traces leave after the answer, off the request's thread; two threads keep a slow Langfuse from piling up work
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="langfuse")


@lru_cache(maxsize=1)
def langfuse() -> LangfuseService:
    from ragcore.adapters.guarded_http import GuardedFetcher
    from ragcore.services.langfuse import LangfuseService

    settings = get_container().settings
    fetcher = GuardedFetcher(
        allowed_hosts=frozenset(h.strip() for h in settings.langfuse_allowed_hosts.split(",") if h.strip()),
        max_bytes=1024 * 1024, max_timeout_s=10.0, allow_setting="LANGFUSE_ALLOWED_HOSTS",
    )
    return LangfuseService(get_container().store, fetcher, _send_later)


def _send_later(job: Callable[[], None]) -> None:
    _trace_sender().submit(job)


on_reset(langfuse.cache_clear)


on_reset(chats.cache_clear)
on_reset(completion.cache_clear)


@lru_cache(maxsize=1)
def files() -> FileService:
    from ragcore.services.files import FileService

    container = get_container()
    return FileService(container.store, container.blobs, documents, max_files=container.settings.max_files_per_tenant,
                       max_bytes=container.settings.max_upload_bytes)


on_reset(files.cache_clear)


def file_commits() -> FileCommitService:
    from ragcore.services.file_commits import FileCommitService
    from ragcore.services.files import blob_key

    container = get_container()

    def rename(tenant: str, file_id: str, new_name: str, apply: bool) -> None:
        files().move(tenant, {"src_file_ids": [file_id], "new_name": new_name}, apply=apply)

    return FileCommitService(container.store, container.blobs, max_bytes=container.settings.max_upload_bytes,
                             file_blob=blob_key, write_file=files().write_content, rename_file=rename,
                             document_blob=documents().blob_of)


@lru_cache(maxsize=1)
def memories() -> MemoryService:
    from ragcore.services.memories import MemoryService

    container = get_container()
    return MemoryService(container.store, container.index, embedder_for, named_chat_model,
                         background=_background, max_size=container.settings.max_memory_bytes,
                         model_usable=chat_model_usable)


on_reset(memories.cache_clear)


@lru_cache(maxsize=1)
def agents() -> AgentService:
    from ragcore.services.agents import AgentService

    return AgentService(get_container().store, _background, stats=conversation_stats())


def _agent_tools(tenant: str) -> Tools:
    from ragcore.adapters.guarded_http import GuardedFetcher
    from ragcore.agents.runtime import Tools

    container = get_container()
    settings = container.settings
    fetcher = GuardedFetcher(
        allowed_hosts=frozenset(h.strip() for h in settings.agent_invoke_allowed_hosts.split(",") if h.strip()),
        max_bytes=settings.agent_invoke_max_bytes, max_timeout_s=settings.agent_invoke_timeout_s,
    )
    return Tools(retrieve=lambda **kw: retrieval().retrieve(tenant, **kw), chat_model=lambda: container.chat_model,
                 has_llm=container.has_llm, fetch=fetcher, max_steps=settings.agent_max_steps,
                 model_for=lambda llm_id: chat_model_for(tenant, llm_id))


@lru_cache(maxsize=1)
def agent_runner() -> AgentRunner:
    from ragcore.services.agent_runs import AgentRunner

    return AgentRunner(agents(), _agent_tools)


@lru_cache(maxsize=1)
def agent_webhooks() -> AgentWebhooks:
    from ragcore.services.agent_webhooks import WebhookService

    runner = agent_runner()
    return WebhookService(get_container().store, agents(), runner.run_unkept, agent_attachments().store)


@lru_cache(maxsize=1)
def agent_attachments() -> AgentAttachments:
    from ragcore.services.agent_attachments import AgentAttachments

    container = get_container()
    return AgentAttachments(container.blobs, container.settings.max_upload_bytes)


on_reset(agents.cache_clear)
on_reset(agent_runner.cache_clear)
on_reset(agent_webhooks.cache_clear)
on_reset(agent_attachments.cache_clear)


@lru_cache(maxsize=1)
def search_apps() -> SearchAppService:
    from ragcore.services.search_apps import SearchAppService

    return SearchAppService(get_container().store, retrieve=retrieval().retrieve, model_usable=chat_model_usable,
                            default_llm=lambda tenant: tenant_default_model(tenant, "chat"),
                            shared=lambda tenant, dataset_id: teams().team_dataset(tenant, dataset_id))


on_reset(search_apps.cache_clear)


@lru_cache(maxsize=1)
def bots() -> BotService:
    from ragcore.services.bots import BotService

    return BotService(chats(), agents(), search_apps(), retrieval())


on_reset(bots.cache_clear)


@lru_cache(maxsize=1)
def conversation_stats() -> ConversationStats:
    from ragcore.services.conversation_stats import ConversationStats

    return ConversationStats(get_container().store)


on_reset(conversation_stats.cache_clear)


@lru_cache(maxsize=1)
def log_levels() -> LogLevels:
    from ragcore.services.system import LogLevels

    return LogLevels(get_container().settings.log_level)


def status_probes() -> list[Probe]:
    """A cheap call per component of /system/status; each adapter is built by its probe, so one that cannot be
    built is reported red instead of failing the route."""
    from ragcore.services.system import Probe

    container = get_container()
    aws = container.is_aws
    return [
        Probe("doc_engine", {"type": "pinecone" if container.settings.pinecone_host else "local"},
              lambda: container.index.count("_health")),
        Probe("storage", {"storage": "s3" if aws else "local"}, lambda: container.blobs.exists("_health")),
        Probe("database", {"database": "dynamodb" if aws else "sqlite"},
              lambda: container.store.get("tenant", "_health", "_health")),
        # the queue is configured (its URL on AWS, the worker pool locally): sending a probe would queue work
        Probe("queue", {"queue": "sqs" if aws else "local"}, _queue_configured),
    ]


def _queue_configured() -> None:
    container = get_container()
    if container.is_aws and not container.settings.task_queue_url:
        raise RuntimeError("TASK_QUEUE_URL is not set")
    _queue()


on_reset(log_levels.cache_clear)


@lru_cache(maxsize=1)
def dify_retrieval() -> DifyRetrieval:
    from ragcore.services.dify_retrieval import DifyRetrieval

    return DifyRetrieval(get_container().store, retrieval().retrieve)


on_reset(dify_retrieval.cache_clear)


# ---- connectors (wiring) ----
if TYPE_CHECKING:
    from ragcore.adapters.sources.guard import OutboundGuard
    from ragcore.domain.sources import SourceFactory
    from ragcore.services.connectors.oauth import OAuthFlows
    from ragcore.services.connectors.service import ConnectorService
    from ragcore.services.connectors.sync import ConnectorSync


def connector_guard() -> OutboundGuard:
    from ragcore.adapters.sources.guard import OutboundGuard

    settings = get_container().settings
    hosts = frozenset(h.strip() for h in settings.connector_allowed_hosts.split(",") if h.strip())
    return OutboundGuard(hosts, timeout_s=settings.connector_http_timeout_s)


def connector_sources() -> SourceFactory:
    from ragcore.adapters.sources import source_factory

    return source_factory(connector_guard(), accept=_is_supported, max_bytes=get_container().settings.max_upload_bytes)


@lru_cache(maxsize=1)
def connectors() -> ConnectorService:
    from ragcore.services.connectors.service import ConnectorService

    container = get_container()
    return ConnectorService(container.store, cipher=lambda: container.cipher, sources=connector_sources(), queue=_queue,
                            lease_s=container.settings.connector_lease_s)


@lru_cache(maxsize=1)
def connector_sync() -> ConnectorSync:
    from ragcore.services.connectors.sync import ConnectorSync

    container = get_container()
    return ConnectorSync(container.store, documents(), connector_sources(), connectors().credentials, _queue,
                         step_budget_s=container.settings.connector_step_s, lease_s=container.settings.connector_lease_s)


@lru_cache(maxsize=1)
def oauth_flows() -> OAuthFlows:
    from ragcore.adapters.sources.oauth import OAuthClient
    from ragcore.services.connectors.oauth import OAuthFlows, RedirectUris

    container = get_container()
    settings = container.settings
    base = f"http://{settings.host}:{settings.port}/api/v1/connectors"
    redirects = RedirectUris(
        google_drive=settings.google_drive_oauth_redirect_uri or f"{base}/google-drive/oauth/web/callback",
        gmail=settings.gmail_oauth_redirect_uri or f"{base}/gmail/oauth/web/callback",
        box=settings.box_oauth_redirect_uri or f"{base}/box/oauth/web/callback",
    )
    client = OAuthClient(connector_guard(), box_authorize_url=settings.box_oauth_authorize_url,
                         box_token_url=settings.box_oauth_token_url)
    return OAuthFlows(container.store, cipher=lambda: container.cipher, client=client, redirects=redirects)


on_reset(connectors.cache_clear)
on_reset(connector_sync.cache_clear)
on_reset(oauth_flows.cache_clear)
