"""Wiring of the models area: tenants' providers and models, which model serves a request, speech."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragcore.bootstrap.container import BUILTIN_EMBEDDING_MODEL, cached, get_container

if TYPE_CHECKING:
    from ragcore.services.models.audio import AudioService
    from ragcore.services.models.providers import ModelProviderService
    from ragcore.services.models.routing import ModelRouter
    from ragcore.services.models.tenant_models import TenantModels


def _discover_models(factory: str, api_key: str, base_url: str) -> list[dict[str, Any]]:
    from ragcore.adapters.model_discovery import discover

    return discover(factory, api_key, base_url)


@cached
def model_providers() -> ModelProviderService:
    from ragcore.services.models.providers import ModelProviderService

    container = get_container()
    return ModelProviderService(container.store, container.catalogue, lambda: container.cipher, container.verify_model,
                                discover=_discover_models)


@cached
def tenant_models() -> TenantModels:
    from ragcore.services.models.tenant_models import TenantModels

    container = get_container()
    return TenantModels(container.store, container.catalogue, model_providers(),
                        builtin_embedding=BUILTIN_EMBEDDING_MODEL in container.embedding_models())


@cached
def model_router() -> ModelRouter:
    from ragcore.services.models.routing import ModelRouter

    container = get_container()
    return ModelRouter(model_providers(), tenant_models(), container,
                       embedding_model=container.settings.embedding_model, llm_model=container.llm_model)


@cached
def audio() -> AudioService:
    from ragcore.services.models.audio import AudioService

    container = get_container()
    return AudioService(tenant_models(), container.speech_model_of, container.transcriber_of)
