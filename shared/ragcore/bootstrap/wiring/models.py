"""Wiring of the models area: tenants' providers and models, which model serves a request, speech."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragcore.bootstrap.container import BUILTIN_EMBEDDING_MODEL, cached, get_container
from ragcore.bootstrap.wiring import runtime

if TYPE_CHECKING:
    from ragcore.services.models.aimlapi import AimlapiSignIn
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
                        builtin_embedding=BUILTIN_EMBEDDING_MODEL in container.embedding_models(),
                        extractive_chat=container.llm_model is None)


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


@cached
def aimlapi_sign_in() -> AimlapiSignIn:
    """The AI/ML API device sign-in; its host is the deployment's setting, so the guard lets exactly it through (a
    loopback fake in tests) and nothing else."""
    from urllib.parse import urlsplit

    from ragcore.services.models.aimlapi import AimlapiSettings, AimlapiSignIn

    container = get_container()
    s = container.settings
    settings = AimlapiSettings(app_url=s.aimlapi_app_url, partner_id=s.aimlapi_partner_id,
                               partner_name=s.aimlapi_partner_name, source=s.aimlapi_source,
                               verification_base_url=s.aimlapi_verification_base_url,
                               requested_usd_limit_minor=s.aimlapi_requested_usd_limit_minor)
    fetch = runtime.guarded_fetcher(urlsplit(s.aimlapi_app_url).hostname or "", max_bytes=1024 * 1024,
                                    max_timeout_s=15, allow_setting="AIMLAPI_APP_URL")
    return AimlapiSignIn(container.store, settings, fetch, cipher=lambda: container.cipher)
