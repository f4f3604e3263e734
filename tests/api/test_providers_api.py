"""Model providers over HTTP, as RAGFlow's test suites set them up: add a factory, an instance with its key (checked
against the provider), list the tenant's models, set defaults; keys stay encrypted and masked; tenants isolated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fakes() -> Iterator[tuple[FakeOpenAI, FakeOpenAI]]:
    zhipu, silicon = FakeOpenAI(), FakeOpenAI()
    yield zhipu, silicon
    zhipu.close()
    silicon.close()


@pytest.fixture
def papi(fakes: tuple[FakeOpenAI, FakeOpenAI], monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    zhipu, silicon = fakes
    urls = json.dumps({"ZHIPU-AI": zhipu.url, "SILICONFLOW": silicon.url})
    yield from app_with({"PROVIDER_BASE_URLS": urls}, monkeypatch)


SILICON_MODELS = [
    {"model_type": ["rerank"], "model_name": "BAAI/bge-reranker-v2-m3", "max_tokens": 8192},
    {"model_type": ["embedding"], "model_name": "BAAI/bge-m3", "max_tokens": 8192},
]


def auth(request: dict[str, Any]) -> str:
    return next(v for k, v in request["headers"].items() if k.lower() == "authorization")


def configure(api: Api, key: str | None = None, zhipu_key: str = "zhipu-secret-key-123456") -> None:
    """conftest.py's add_model_instance and set_tenant_info of RAGFlow's suites."""
    for name in ("ZHIPU-AI", "SILICONFLOW"):
        assert api.call("PUT", "/api/v1/providers", key, json={"provider_name": name}) == {"code": 0}
    res = api.call("POST", "/api/v1/providers/ZHIPU-AI/instances", key,
                   json={"instance_name": "CI", "api_key": zhipu_key, "region": "default", "base_url": ""})
    assert res == {"code": 0}, res
    res = api.call("POST", "/api/v1/providers/SILICONFLOW/instances", key,
                   json={"instance_name": "CI", "api_key": "silicon-secret-key-654321", "region": "default",
                         "base_url": "", "model_info": SILICON_MODELS})
    assert res == {"code": 0}, res
    for provider, kind, model in (("ZHIPU-AI", "chat", "glm-4-flash"), ("SILICONFLOW", "rerank", "BAAI/bge-reranker-v2-m3")):
        res = api.call("PATCH", "/api/v1/models/default", key,
                       json={"model_provider": provider, "model_instance": "CI", "model_type": kind, "model_name": model})
        assert res == {"code": 0}, res


def test_the_suites_set_up_works_and_checks_each_key(papi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    zhipu, silicon = fakes
    configure(papi)
    # the connection checks reached each provider with its own key
    assert auth(zhipu.chat_requests()[0]) == "Bearer zhipu-secret-key-123456"
    assert silicon.requests[0]["path"].endswith("/rerank")
    assert auth(silicon.requests[0]) == "Bearer silicon-secret-key-654321"

    models = papi.call("GET", "/api/v1/models")["data"]
    assert {m["model_provider"] for m in models} >= {"ZHIPU-AI", "SILICONFLOW"}
    glm = next(m for m in models if m["name"] == "glm-4-flash")
    assert glm["provider_name"] == "ZHIPU-AI" and glm["instance_name"] == "CI" and glm["model_type"] == ["chat"]
    reranks = papi.call("GET", "/api/v1/models?type=rerank")["data"]
    assert [m["name"] for m in reranks] == ["BAAI/bge-reranker-v2-m3"]

    defaults = papi.call("GET", "/api/v1/models/default")["data"]["models"]
    assert {(d["model_type"], d["model_name"], d["model_provider"]) for d in defaults} == {
        ("chat", "glm-4-flash", "ZHIPU-AI"), ("rerank", "BAAI/bge-reranker-v2-m3", "SILICONFLOW")}


def test_ragflow_messages_for_bad_input(papi: Api) -> None:
    assert papi.call("PUT", "/api/v1/providers", json={}) == {"code": 101, "message": "provider_name is required"}
    assert papi.call("PUT", "/api/v1/providers", json={"provider_name": "Nope"}) == {
        "code": 102, "message": "Provider 'Nope' is not allowed"}
    assert papi.call("PUT", "/api/v1/providers", json={"provider_name": "ZHIPU-AI"}) == {"code": 0}
    assert papi.call("PUT", "/api/v1/providers", json={"provider_name": "ZHIPU-AI"}) == {
        "code": 102, "message": "Provider ZHIPU-AI already exists"}
    assert papi.call("POST", "/api/v1/providers/ZHIPU-AI/instances", json={"instance_name": "default", "api_key": "k"}) == {
        "code": 102, "message": "Instance name cannot be 'default'"}
    assert papi.call("GET", "/api/v1/providers/ZHIPU-AI/instances/nope") == {
        "code": 102, "message": "No instance found for provider 'ZHIPU-AI' and instance 'nope'"}
    assert papi.call("PATCH", "/api/v1/models/default", json={"model_type": "weird"}) == {
        "code": 102, "message": "model type 'weird' is invalid"}
    assert papi.call("PATCH", "/api/v1/models/default", json={}) == {"code": 101, "message": "model_type is required"}
    assert papi.call("GET", "/api/v1/providers/Nope") == {"code": 102, "message": "Provider 'Nope' not found"}
    shown = papi.call("GET", "/api/v1/providers/ZHIPU-AI")["data"]
    assert shown["name"] == "ZHIPU-AI" and shown["total_models"] > 10


def test_a_refused_key_is_reported_and_nothing_is_added(papi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    silicon = fakes[1]
    silicon.fail_next(1, 401)
    assert papi.call("PUT", "/api/v1/providers", json={"provider_name": "SILICONFLOW"}) == {"code": 0}
    res = papi.call("POST", "/api/v1/providers/SILICONFLOW/instances",
                    json={"instance_name": "CI", "api_key": "bad-key-0000000", "base_url": "",
                          "model_info": SILICON_MODELS[:1]})
    assert res["code"] == 102 and "Fail to access model(SILICONFLOW/BAAI/bge-reranker-v2-m3)" in res["message"]
    assert "bad-key-0000000" not in res["message"]
    assert papi.call("GET", "/api/v1/providers/SILICONFLOW/instances") == {"code": 0, "data": []}


def test_keys_are_encrypted_at_rest_and_shown_masked(papi: Api) -> None:
    from ragcore.bootstrap.container import get_container

    configure(papi)
    instances = papi.call("GET", "/api/v1/providers/ZHIPU-AI/instances")["data"]
    assert [i["instance_name"] for i in instances] == ["CI"]
    shown = papi.call("GET", f"/api/v1/providers/ZHIPU-AI/instances/{instances[0]['id']}")["data"]
    assert shown["api_key"] == "zhi...3456" and shown["instance_name"] == "CI"
    settings = get_container().settings
    dump = b"".join(p.read_bytes() for p in settings.data_dir.glob(settings.sqlite_path.name + "*"))  # and its WAL
    assert dump and b"zhipu-secret-key-123456" not in dump
    assert settings.provider_key_file.is_file() and settings.provider_key_file.stat().st_mode & 0o077 == 0


def test_instance_models_and_deletion(papi: Api) -> None:
    configure(papi)
    base = "/api/v1/providers/SILICONFLOW/instances/CI/models"
    names = [m["name"] for m in papi.call("GET", base)["data"]]
    assert sorted(names) == ["BAAI/bge-m3", "BAAI/bge-reranker-v2-m3"]
    assert papi.call("POST", base, json={"model_name": "Qwen/Qwen3-8B", "model_type": ["chat"]}) == {"code": 0}
    assert papi.call("POST", base, json={"model_name": "Qwen/Qwen3-8B", "model_type": ["chat"]}) == {
        "code": 102, "message": "Model 'Qwen/Qwen3-8B' already exists for provider 'SILICONFLOW' and instance 'CI'"}
    assert papi.call("PATCH", base + "/Qwen/Qwen3-8B", json={"status": "inactive"}) == {"code": 0}
    model = next(m for m in papi.call("GET", base)["data"] if m["name"] == "Qwen/Qwen3-8B")
    assert model["status"] == "inactive" and model["model_type"] == ["chat"]
    assert papi.call("DELETE", base, json={"model_name": ["nope"]}) == {
        "code": 102, "message": "Models {'nope'} not found for provider 'SILICONFLOW' and instance 'CI'"}
    assert papi.call("DELETE", base, json={"model_name": ["Qwen/Qwen3-8B"]}) == {"code": 0}
    assert papi.call("DELETE", "/api/v1/providers/SILICONFLOW/instances", json={"instances": ["CI"]}) == {"code": 0}
    assert all(m["provider_name"] != "SILICONFLOW" for m in papi.call("GET", "/api/v1/models")["data"])
    assert papi.call("DELETE", "/api/v1/providers/ZHIPU-AI") == {"code": 0}
    listed = papi.call("GET", "/api/v1/providers")["data"]
    assert [(p["name"], p["has_instance"]) for p in listed] == [("SILICONFLOW", False)]
    assert listed[0]["url"]["default"].startswith("http://127.0.0.1:")


def test_another_tenant_never_sees_the_first_tenants_providers(papi: Api) -> None:
    configure(papi)
    other = papi.new_tenant_key()
    assert papi.call("GET", "/api/v1/models", other)["data"] == [
        m for m in papi.call("GET", "/api/v1/models", other)["data"] if m["provider_name"] == "Builtin"]
    assert papi.call("GET", "/api/v1/providers/ZHIPU-AI/instances", other) == {
        "code": 102, "message": "No provider found for provider 'ZHIPU-AI'"}
    first_id = papi.call("GET", "/api/v1/providers/ZHIPU-AI/instances")["data"][0]["id"]
    assert papi.call("PUT", "/api/v1/providers", other, json={"provider_name": "ZHIPU-AI"}) == {"code": 0}
    assert papi.call("GET", f"/api/v1/providers/ZHIPU-AI/instances/{first_id}", other) == {
        "code": 102, "message": f"No instance found for provider 'ZHIPU-AI' and instance '{first_id}'"}
    res = papi.call("PATCH", "/api/v1/models/default", other,
                    json={"model_provider": "ZHIPU-AI", "model_instance": "CI", "model_type": "chat", "model_name": "glm-4-flash"})
    assert res == {"code": 102, "message": "Instance 'CI' not found for provider 'ZHIPU-AI'"}
