"""A tenant's providers, instances, models and defaults behave the same on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from ragcore.adapters.key_cipher import KeyCipher
from ragcore.services.models.catalogue import load_catalogue
from ragcore.services.models.providers import Failure, ModelProviderService
from ragcore.services.models.tenant_models import TenantModels


def service(store: Any, calls: list[tuple[str, ...]]) -> tuple[ModelProviderService, TenantModels]:
    cipher = KeyCipher(base64.b64decode(base64.b64encode(b"k" * 32)))
    catalogue = load_catalogue('{"ZHIPU-AI": "http://127.0.0.1:9/v1"}')
    providers = ModelProviderService(store, catalogue, lambda: cipher, lambda *args: calls.append(args))
    return providers, TenantModels(store, catalogue, providers)


def test_providers_instances_models_and_defaults(store: Any) -> None:
    calls: list[tuple[str, ...]] = []
    svc, models = service(store, calls)
    svc.add_provider("t1", "ZHIPU-AI")
    with pytest.raises(Failure, match="already exists"):
        svc.add_provider("t1", "ZHIPU-AI")
    svc.create_instance("t1", "ZHIPU-AI", "CI", "secret-key-123456", "", "default",
                        [{"model_name": "glm-4-flash", "model_type": ["chat"]}, {"model_name": "embedding-3", "model_type": ["embedding"]}])
    assert calls == [("ZHIPU-AI", "secret-key-123456", "http://127.0.0.1:9/v1", "glm-4-flash", "chat")]
    assert [i["instance_name"] for i in svc.list_instances("t1", "ZHIPU-AI")] == ["CI"]
    assert sorted(m["name"] for m in models.added_models("t1", "", "chat")) == ["glm-4-flash"]

    config = models.resolve("t1", "chat", "glm-4-flash@CI@ZHIPU-AI")
    assert (config.api_key, config.base_url, config.model_name) == ("secret-key-123456", "http://127.0.0.1:9/v1", "glm-4-flash")
    assert models.resolve("t1", "chat", "glm-4-flash@ZHIPU-AI").instance == "CI"  # the provider's one instance
    with pytest.raises(LookupError, match="Provider ZHIPU-AI not found"):
        models.resolve("t2", "chat", "glm-4-flash@CI@ZHIPU-AI")

    models.set_default("t1", "ZHIPU-AI", "CI", "glm-4-flash", "chat", "")
    assert [m["model_name"] for m in models.default_models("t1")["models"]] == ["glm-4-flash"]
    svc.update_model("t1", "ZHIPU-AI", "CI", "glm-4-flash", {"status": "inactive"})
    with pytest.raises(LookupError, match="is disabled"):
        models.resolve("t1", "chat", "glm-4-flash@CI@ZHIPU-AI")

    svc.delete_provider("t1", "ZHIPU-AI")
    assert [m["provider_name"] for m in models.added_models("t1", "", None)] == ["Builtin"]
    assert models.default_models("t1") == {"models": []}
