"""A tenant's providers, instances, models and defaults behave the same on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from ragcore.adapters.key_cipher import KeyCipher
from ragcore.providers.catalogue import load_catalogue
from ragcore.services.model_providers import Failure, ModelProviderService


def service(store: Any, calls: list[tuple[str, ...]]) -> ModelProviderService:
    cipher = KeyCipher(base64.b64decode(base64.b64encode(b"k" * 32)))
    return ModelProviderService(store, load_catalogue('{"ZHIPU-AI": "http://127.0.0.1:9/v1"}'), lambda: cipher,
                                lambda *args: calls.append(args))


def test_providers_instances_models_and_defaults(store: Any) -> None:
    calls: list[tuple[str, ...]] = []
    svc = service(store, calls)
    svc.add_provider("t1", "ZHIPU-AI")
    with pytest.raises(Failure, match="already exists"):
        svc.add_provider("t1", "ZHIPU-AI")
    svc.create_instance("t1", "ZHIPU-AI", "CI", "secret-key-123456", "", "default",
                        [{"model_name": "glm-4-flash", "model_type": ["chat"]}, {"model_name": "embedding-3", "model_type": ["embedding"]}])
    assert calls == [("ZHIPU-AI", "secret-key-123456", "http://127.0.0.1:9/v1", "glm-4-flash", "chat")]
    assert [i["instance_name"] for i in svc.list_instances("t1", "ZHIPU-AI")] == ["CI"]
    assert sorted(m["name"] for m in svc.added_models("t1", "", "chat")) == ["glm-4-flash"]

    config = svc.resolve("t1", "chat", "glm-4-flash@CI@ZHIPU-AI")
    assert (config.api_key, config.base_url, config.model_name) == ("secret-key-123456", "http://127.0.0.1:9/v1", "glm-4-flash")
    assert svc.resolve("t1", "chat", "glm-4-flash@ZHIPU-AI").instance == "CI"  # the provider's one instance
    with pytest.raises(LookupError, match="Provider ZHIPU-AI not found"):
        svc.resolve("t2", "chat", "glm-4-flash@CI@ZHIPU-AI")

    svc.set_default("t1", "ZHIPU-AI", "CI", "glm-4-flash", "chat", "")
    assert [m["model_name"] for m in svc.default_models("t1")["models"]] == ["glm-4-flash"]
    svc.update_model("t1", "ZHIPU-AI", "CI", "glm-4-flash", {"status": "inactive"})
    with pytest.raises(LookupError, match="is disabled"):
        svc.resolve("t1", "chat", "glm-4-flash@CI@ZHIPU-AI")

    svc.delete_provider("t1", "ZHIPU-AI")
    assert [m["provider_name"] for m in svc.added_models("t1", "", None)] == ["Builtin"]
    assert svc.default_models("t1") == {"models": []}
