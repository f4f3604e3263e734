"""The adapters the settings ask for, built once per process (a Lambda cold start or `make serve`): the only
place besides the wiring (ragcore.bootstrap.wiring) that constructs adapters.

Heavy adapters (the embedding model, the vector index) are built on first use, so an API function
that never embeds never pays for them.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from ragcore.config import Settings, get_settings
from ragcore.ports import (
    BlobStore,
    ChatModel,
    Embedder,
    JobQueue,
    MetadataStore,
    Reranker,
    SpeechModel,
    Transcriber,
    VectorIndex,
)

if TYPE_CHECKING:
    from ragcore.ports import Cipher, ModelConfig
    from ragcore.services.models.catalogue import Catalogue

BUILTIN_EMBEDDING_MODEL = "all-MiniLM-L6-v2@Builtin"
_T = TypeVar("_T")


def with_provider_secrets(settings: Settings) -> Settings:
    """On AWS, keys come from Secrets Manager (never plain environment variables in the template)."""
    if not settings.provider_secret_arn:
        return settings
    from ragcore.adapters.secrets import load_secret

    secret = load_secret(settings.provider_secret_arn, settings.aws_endpoint_url)
    fields = {"PINECONE_API_KEY": "pinecone_api_key", "LLM_API_KEY": "llm_api_key", "EMBEDDING_API_KEY": "embedding_api_key",
              "RERANK_API_KEY": "rerank_api_key"}
    updates = {field: secret[name] for name, field in fields.items() if secret.get(name)}
    return settings.with_updates(**updates) if updates else settings


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.extras: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._embedders: dict[str, Embedder] = {}
        self._queue: JobQueue | None = None
        if self.settings.runtime == "local":
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)

    @cached_property
    def keys(self) -> Settings:
        """The settings with the provider keys from Secrets Manager: fetched when an adapter that calls a provider is
        built, so a request that lists or stores things never waits on Secrets Manager."""
        return with_provider_secrets(self.settings)

    @property
    def is_aws(self) -> bool:
        return self.settings.runtime == "aws"

    @cached_property
    def store(self) -> MetadataStore:
        if self.is_aws:
            from ragcore.adapters.dynamodb_store import DynamoMetadataStore

            return DynamoMetadataStore(self.settings.table_name, endpoint_url=self.settings.aws_endpoint_url)
        from ragcore.adapters.sqlite_store import SqliteMetadataStore

        return SqliteMetadataStore(self.settings.sqlite_path)

    @cached_property
    def blobs(self) -> BlobStore:
        if self.is_aws:
            from ragcore.adapters.s3_blobs import S3BlobStore

            return S3BlobStore(self.settings.bucket_name, endpoint_url=self.settings.aws_endpoint_url)
        from ragcore.adapters.local_blobs import LocalBlobStore

        base = f"http://{self.settings.host}:{self.settings.port}/api/v1/uploads"
        return LocalBlobStore(self.settings.blob_dir, upload_base_url=base)

    @cached_property
    def index(self) -> VectorIndex:
        if self.settings.pinecone_host:
            from ragcore.adapters.pinecone_index import PineconeVectorIndex

            return PineconeVectorIndex(api_key=self.keys.pinecone_api_key, host=self.settings.pinecone_host)
        from ragcore.adapters.local_index import LocalVectorIndex

        return LocalVectorIndex(self.settings.data_dir / "index")

    def embedding_models(self) -> set[str]:
        """Embedding models this deployment can serve (model@provider)."""
        models: set[str] = set()
        # the builtin model only where its runtime ships (the AWS API functions embed through the hosted API)
        if not self.is_aws or importlib.util.find_spec("onnxruntime") is not None:
            models.add(BUILTIN_EMBEDDING_MODEL)
        if self.settings.embedding_base_url:
            models.add(self.settings.embedding_model)
        return models

    def embedder_for(self, model_id: str) -> Embedder:
        with self._lock:
            if model_id not in self._embedders:
                if model_id == BUILTIN_EMBEDDING_MODEL or not self.settings.embedding_base_url:
                    from ragcore.adapters.local_embedder import LocalEmbedder

                    self._embedders[model_id] = LocalEmbedder()
                else:
                    from ragcore.adapters.openai_embedder import OpenAIEmbedder

                    self._embedders[model_id] = OpenAIEmbedder(
                        model=model_id.rpartition("@")[0] or model_id,
                        base_url=self.settings.embedding_base_url,
                        api_key=self.keys.embedding_api_key,
                    )
            return self._embedders[model_id]

    @cached_property
    def chat_model(self) -> ChatModel:
        if self.settings.llm_base_url:
            from ragcore.adapters.openai_chat import OpenAIChatModel

            return OpenAIChatModel(
                model=self.settings.llm_model or "gpt-4o-mini",
                base_url=self.settings.llm_base_url,
                api_key=self.keys.llm_api_key,
                timeout=self.settings.llm_timeout_s,
            )
        from ragcore.adapters.extractive_llm import ExtractiveChatModel

        return ExtractiveChatModel()

    @property
    def has_llm(self) -> bool:
        return bool(self.settings.llm_base_url)

    @property
    def llm_model(self) -> str | None:
        """LLM_BASE_URL's model name; None where answers are extractive."""
        return (self.settings.llm_model or "gpt-4o-mini") if self.has_llm else None

    @property
    def deployment_chat_model(self) -> ChatModel | None:
        return self.chat_model if self.has_llm else None

    @property
    def deployment_reranker(self) -> Reranker | None:
        return self.reranker

    def is_provider(self, factory: str) -> bool:
        return self.catalogue.get(factory) is not None

    @cached_property
    def reranker(self) -> Reranker | None:
        if not self.settings.rerank_base_url:
            return None
        from ragcore.adapters.http_reranker import HttpReranker

        return HttpReranker(base_url=self.settings.rerank_base_url, api_key=self.keys.rerank_api_key)

    # ---- tenants' model providers ----------------------------------------------------------------------------------
    @cached_property
    def catalogue(self) -> Catalogue:
        from ragcore.services.models.catalogue import load_catalogue

        return load_catalogue(self.settings.provider_base_urls)

    @cached_property
    def cipher(self) -> Cipher:
        """Encrypts tenants' provider keys: the key file under DATA_DIR locally; on AWS, data keys from KMS
        (envelope encryption), still reading records sealed with the provider secret's PROVIDER_KEY_ENCRYPTION_KEY."""
        from ragcore.adapters.key_cipher import file_cipher

        if not self.is_aws:
            return file_cipher(self.settings.provider_key_file)
        from ragcore.adapters.kms_cipher import KmsEnvelopeCipher, kms_client

        endpoint = self.settings.aws_endpoint_url
        return KmsEnvelopeCipher(self.settings.provider_key_kms_key_id, lambda: kms_client(endpoint),
                                 legacy=self._legacy_decrypt)

    def _legacy_decrypt(self) -> Callable[[str], str] | None:
        from ragcore.adapters.key_cipher import secret_cipher

        if not self.settings.provider_secret_arn:
            return None
        from ragcore.adapters.secrets import load_secret

        encoded = load_secret(self.settings.provider_secret_arn, self.settings.aws_endpoint_url).get(
            "PROVIDER_KEY_ENCRYPTION_KEY", "")
        return secret_cipher(encoded).decrypt if encoded else None

    def _bedrock(self, config: ModelConfig) -> Any | None:
        """A bedrock-runtime client when the model's factory is Bedrock (boto3 imported only then)."""
        factory = self.catalogue.get(config.factory)
        if factory is None or factory.protocol != "bedrock":
            return None
        from ragcore.adapters.bedrock import bedrock_client

        return bedrock_client(config.api_key, config.region, self.settings.aws_endpoint_url)

    def chat_model_of(self, config: ModelConfig, *, attempts: int = 3, timeout: float | None = None) -> ChatModel:
        client = self._bedrock(config)
        if client is not None:
            from ragcore.adapters.bedrock import BedrockChatModel

            return BedrockChatModel(config.model_name, client)
        from ragcore.adapters.openai_chat import OpenAIChatModel

        return OpenAIChatModel(model=config.model_name, base_url=config.base_url, api_key=config.api_key,
                               timeout=timeout or self.settings.llm_timeout_s, attempts=attempts)

    def embedder_of(self, config: ModelConfig, *, attempts: int = 3, timeout: float = 30) -> Embedder:
        if config.builtin:
            return self.embedder_for(BUILTIN_EMBEDDING_MODEL)
        client = self._bedrock(config)
        if client is not None:
            from ragcore.adapters.bedrock import BedrockEmbedder

            return BedrockEmbedder(config.model_name, client)
        from ragcore.adapters.openai_embedder import OpenAIEmbedder

        return OpenAIEmbedder(model=config.model_name, base_url=config.base_url, api_key=config.api_key,
                              timeout=timeout, attempts=attempts)

    def reranker_of(self, config: ModelConfig, *, attempts: int = 3, timeout: float = 30) -> Reranker:
        from ragcore.adapters.http_reranker import HttpReranker

        return HttpReranker(base_url=config.base_url, api_key=config.api_key, model=config.model_name,
                            timeout=timeout, attempts=attempts)

    def speech_model_of(self, config: ModelConfig) -> SpeechModel:
        from ragcore.adapters.openai_audio import OpenAISpeech

        return OpenAISpeech(config.model_name, config.base_url, config.api_key)

    def transcriber_of(self, config: ModelConfig) -> Transcriber:
        from ragcore.adapters.openai_audio import OpenAITranscriber

        return OpenAITranscriber(config.model_name, config.base_url, config.api_key)

    def verify_model(self, factory: str, api_key: str, base_url: str, model: str, kind: str) -> None:
        """One connection check (one attempt, a short timeout): raises with a reason that never holds the key."""
        from ragcore.ports import ModelConfig
        from ragcore.services.models.providers import VERIFY_TIMEOUT_S

        config = ModelConfig(factory, "", model, kind, api_key, base_url)
        if kind in ("chat", "vision"):  # a vision model answers chat requests (images ride in the content)
            self.chat_model_of(config, attempts=1, timeout=VERIFY_TIMEOUT_S).complete([{"role": "user", "content": "Hi"}])
        elif kind == "embedding":
            if not self.embedder_of(config, attempts=1, timeout=VERIFY_TIMEOUT_S).embed(["Test if the api key is available"])[0]:
                raise ValueError("")
        elif kind == "rerank":
            self.reranker_of(config, attempts=1, timeout=VERIFY_TIMEOUT_S).rerank("What's the weather?", ["Is it sunny today?"])

    def set_queue(self, queue: JobQueue) -> None:
        self._queue = queue

    @property
    def queue(self) -> JobQueue:
        if self._queue is None:
            raise RuntimeError("no job queue configured")
        return self._queue


def build_container(settings: Settings) -> Container:
    return Container(settings)


@lru_cache(maxsize=1)
def get_container() -> Container:
    return build_container(get_settings())


_resetters: list[Callable[[], None]] = [get_settings.cache_clear, get_container.cache_clear]


def on_reset(clear: Callable[[], None]) -> None:
    """Register a per-process cache to drop when settings change (tests switch DATA_DIR)."""
    _resetters.append(clear)


def cached(factory: Callable[[], _T]) -> Callable[[], _T]:
    """One instance per process (per settings: dropped by reset())."""
    once = lru_cache(maxsize=1)(factory)
    on_reset(once.cache_clear)
    return once


def reset() -> None:
    for clear in _resetters:
        clear()
