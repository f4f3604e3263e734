"""Which model serves a tenant's request: the rules that pick between the deployment's own models (the bundled
embedder, LLM_BASE_URL's chat model, the extractive answerer, RERANK_BASE_URL's reranker) and the models the
tenant configured with its own provider keys."""

from __future__ import annotations

from collections.abc import Callable

from ragcore.errors import ProviderError
from ragcore.ports import ChatModel, Embedder, ModelFactory, Reranker
from ragcore.services.models.catalogue import BUILTIN
from ragcore.services.models.names import DEFAULT_FIELDS, split_model_name
from ragcore.services.models.providers import ModelProviderService
from ragcore.services.models.tenant_models import TenantModels
from ragcore.services.models.vision import ImageDescriber

EXTRACTIVE_MODEL = "extractive@Builtin"  # the llm_id of the answerer that quotes retrieved chunks (no LLM configured)


class ModelRouter:
    def __init__(self, providers: ModelProviderService, models: TenantModels, factory: ModelFactory, *,
                 embedding_model: str, llm_model: str | None) -> None:
        self._providers = providers
        self._models = models
        self._factory = factory
        self._embedding_model = embedding_model  # EMBEDDING_MODEL: the hosted embedding API's model name
        self._llm_model = llm_model  # LLM_BASE_URL's model, None where answers are extractive

    # ---- what the deployment serves itself ------------------------------------------------------------------------
    def llm_ids(self) -> set[str]:
        """The chat llm_ids the deployment answers with its own model."""
        if self._llm_model is not None:
            return {self._llm_model, f"{self._llm_model}@OpenAI-API-Compatible"}
        return {EXTRACTIVE_MODEL}

    def deployment_serves(self, llm_id: str) -> bool:
        served = self.llm_ids()
        return llm_id in served or llm_id.split("@")[0] in {m.split("@")[0] for m in served}

    def deployment_chat_model(self) -> ChatModel | None:
        """LLM_BASE_URL's model, or None where answers are extractive."""
        return self._factory.deployment_chat_model

    # ---- the tenant's models --------------------------------------------------------------------------------------
    def model_problem(self, tenant: str, kind: str, name: str) -> str:
        """Why the tenant cannot use this model (RAGFlow's LookupError text), or "" when it can."""
        try:
            self._models.resolve(tenant, kind, name)
        except LookupError as exc:
            return str(exc)
        return ""

    def has_model(self, tenant: str, kind: str, name: str) -> bool:
        return not self.model_problem(tenant, kind, name)

    def default_model(self, tenant: str, kind: str) -> str:
        """The tenant's default model of a kind ("" when none is set)."""
        return str(self._models.defaults(tenant).get(DEFAULT_FIELDS[kind]) or "")

    def default_chat_model(self, tenant: str) -> str:
        return self.default_model(tenant, "chat")

    def chat_model_usable(self, tenant: str, llm_id: str) -> bool:
        """Whether a search app, a RAPTOR build or a memory may name llm_id: the tenant configured it, the deployment
        serves it, or the tenant added no provider at all (then the deployment's model answers for any name)."""
        return self.has_model(tenant, "chat", llm_id) or self.deployment_serves(llm_id) \
            or not self._providers.has_providers(tenant)

    # ---- model clients --------------------------------------------------------------------------------------------
    def embedder_for(self, model_id: str, tenant: str) -> Embedder:
        """The embedding model a dataset or memory names: the deployment's (builtin, EMBEDDING_BASE_URL) when it
        serves that name, else the tenant's own provider model with the tenant's key."""
        if model_id and model_id not in self._factory.embedding_models():
            try:
                config = self._models.resolve(tenant, "embedding", model_id)
            except LookupError as exc:
                factory = split_model_name(model_id)[2]
                if factory != BUILTIN and self._factory.is_provider(factory) and model_id != self._embedding_model:
                    # a provider model the tenant removed: never embed with another model in its place
                    raise ProviderError(str(exc)) from None
            else:
                return self._factory.embedder_of(config)
        return self._factory.embedder_for(model_id)

    def chat_model_for(self, tenant: str, llm_id: str) -> ChatModel | None:
        """The chat model an llm_id names with the tenant's key; None for the deployment's own model (LLM_BASE_URL or
        the extractive answerer). A model the tenant configured and then removed is the answer's error, in RAGFlow's
        words ("Instance CI not found for model ...")."""
        try:
            config = self._models.resolve(tenant, "chat", llm_id)
        except LookupError as exc:
            if self.deployment_serves(llm_id) or not self._providers.has_providers(tenant):
                return None
            raise ProviderError(str(exc)) from None
        return self._factory.chat_model_of(config)

    def named_chat_model(self, tenant: str, llm_id: str) -> ChatModel | None:
        """The chat model llm_id names with the tenant's key ("": the tenant's default chat model), else the
        deployment's (None: extractive). Search apps, RAPTOR and memories summarise and extract with it."""
        llm_id = llm_id or self.default_model(tenant, "chat")
        return (self.chat_model_for(tenant, llm_id) if llm_id else None) or self.deployment_chat_model()

    def reranker_for(self, tenant: str, rerank_id: str) -> Reranker | None:
        try:
            config = self._models.resolve(tenant, "rerank", rerank_id)
        except LookupError:
            return self._factory.deployment_reranker  # RERANK_BASE_URL's, or None: "Model(...) not authorized"
        return self._factory.reranker_of(config)

    def vision_for(self, tenant: str, on_unusable: Callable[[str], None]) -> Callable[[bytes], str] | None:
        """The tenant's default image-to-text model (img2txt_id) as picture bytes → description; None without one
        (or when it cannot be used: `on_unusable` hears why)."""
        model_id = self.default_model(tenant, "vision")
        if not model_id:
            return None
        try:
            config = self._models.resolve(tenant, "vision", model_id)
        except LookupError as exc:
            on_unusable(str(exc))
            return None
        return ImageDescriber(self._factory.chat_model_of(config)).describe
