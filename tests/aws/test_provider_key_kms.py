"""Provider API keys on AWS: envelope encryption under a KMS key (moto), through the routes a tenant uses."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from ragcore.bootstrap import container as container_module

from tests.aws.conftest import emulated_aws
from tests.fakes.openai_server import FakeOpenAI

SECRET_KEY = "zhipu-secret-key-0123456789"
MODEL = "glm-4-flash@CI@ZHIPU-AI"


@dataclass
class Env:
    client: TestClient
    key: str
    tenant: str
    key_id: str
    monkeypatch: pytest.MonkeyPatch

    def call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        res = self.client.request(method, path, headers={"Authorization": f"Bearer {self.key}"}, **kw)
        return res.json()  # type: ignore[no-any-return]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


def _start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeOpenAI, secret: dict[str, str],
           with_key_id: bool = True) -> Iterator[Env]:
    env = {"DATA_DIR": str(tmp_path / "var"), "PROVIDER_BASE_URLS": json.dumps({"ZHIPU-AI": fake.url})}
    with emulated_aws(monkeypatch, "kms-test", "kms-bucket", env) as (tenant, key):
        key_id = boto3.client("kms").create_key(Description="provider keys")["KeyMetadata"]["KeyId"]
        arn = boto3.client("secretsmanager").create_secret(Name=f"providers-{tmp_path.name}",
                                                           SecretString=json.dumps(secret))["ARN"]
        monkeypatch.setenv("PROVIDER_SECRET_ARN", arn)
        if with_key_id:
            monkeypatch.setenv("PROVIDER_KEY_KMS_KEY_ID", key_id)
        container_module.reset()
        from functions.system.handler import app

        yield Env(TestClient(app), key, tenant, key_id, monkeypatch)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeOpenAI) -> Iterator[Env]:
    yield from _start(monkeypatch, tmp_path, fake, {"LLM_API_KEY": ""})


def add_instance(env: Env, api_key: str = SECRET_KEY) -> dict[str, Any]:
    assert env.call("PUT", "/api/v1/providers", json={"provider_name": "ZHIPU-AI"}) == {"code": 0}
    return env.call("POST", "/api/v1/providers/ZHIPU-AI/instances",
                    json={"instance_name": "CI", "api_key": api_key, "base_url": "",
                          "model_info": [{"model_name": "glm-4-flash", "model_type": ["chat"]}]})


def instance_items() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName="kms-test")["Items"]
    return [i for i in items if "api_key_enc" in json.dumps(i)]


def kms_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every KMS operation the code makes from now on (a spy around the real moto client)."""
    from ragcore.adapters import kms_cipher

    calls: list[str] = []
    real = kms_cipher.kms_client

    class Spy:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(self._inner, name)

    monkeypatch.setattr(kms_cipher, "kms_client", lambda endpoint: Spy(real(endpoint)))
    return calls


def test_keys_round_trip_through_kms_and_the_table_holds_no_plaintext(aws: Env, fake: FakeOpenAI) -> None:
    calls = kms_calls(aws.monkeypatch)
    assert add_instance(aws) == {"code": 0}
    dump = json.dumps(instance_items())
    assert '"v2:' in dump  # the envelope form
    assert SECRET_KEY not in dump and base64.b64encode(SECRET_KEY.encode()).decode() not in dump
    shown = aws.call("GET", "/api/v1/providers/ZHIPU-AI/instances/CI")
    assert shown["code"] == 0 and shown["data"]["api_key"] == "zhi...6789"
    assert calls == ["generate_data_key"]  # the data key made by the write serves this process's reads

    # a fresh process (a cold start) unwraps the stored data key once, then reads from its cache
    container_module.reset()
    calls.clear()
    from ragcore import bootstrap

    for _ in range(3):
        assert bootstrap.tenant_models().resolve(aws.tenant, "chat", MODEL).api_key == SECRET_KEY
    assert calls == ["decrypt"]


def test_the_stored_value_is_bound_to_the_kms_key(aws: Env) -> None:
    assert add_instance(aws) == {"code": 0}
    [item] = instance_items()
    stored = item["api_key_enc"]["S"]
    blob = base64.b64decode(stored[3:].partition(":")[0])
    # KMS itself refuses the data key without the purpose it was made for
    with pytest.raises(Exception, match="InvalidCiphertext"):
        boto3.client("kms").decrypt(CiphertextBlob=blob, KeyId=aws.key_id)


def test_a_function_without_the_key_id_fails_clearly_and_stores_nothing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeOpenAI) -> None:
    for env in _start(monkeypatch, tmp_path, fake, {}, with_key_id=False):
        res = add_instance(env)
        assert res["code"] == 500
        assert res["message"].startswith("PROVIDER_KEY_KMS_KEY_ID is not set for this function")
        assert instance_items() == []
        assert env.call("GET", "/api/v1/providers/ZHIPU-AI/instances")["data"] == []


def test_records_sealed_the_old_way_are_read_and_migrated_on_write(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeOpenAI) -> None:
    from ragcore.adapters.key_cipher import KeyCipher
    from ragcore.services.models.providers import KIND_INSTANCE

    legacy = base64.b64encode(b"L" * 32).decode()
    for env in _start(monkeypatch, tmp_path, fake, {"PROVIDER_KEY_ENCRYPTION_KEY": legacy}):
        assert add_instance(env) == {"code": 0}
        from ragcore import bootstrap
        from ragcore.bootstrap.container import get_container

        store = get_container().store
        [item] = instance_items()
        instance_id = item["id"]["S"]
        old = KeyCipher(b"L" * 32).encrypt("old-scheme-key-4321")
        store.update(KIND_INSTANCE, env.tenant, instance_id, {"api_key_enc": old})
        container_module.reset()

        assert bootstrap.tenant_models().resolve(env.tenant, "chat", MODEL).api_key == "old-scheme-key-4321"
        assert env.call("GET", "/api/v1/providers/ZHIPU-AI/instances/CI")["data"]["api_key"] == "old...4321"
        # any write of the instance seals it under KMS
        res = env.call("PUT", "/api/v1/providers/ZHIPU-AI/instances/CI",
                       json={"instance_name": "CI", "api_key": "old-scheme-key-4321", "base_url": "", "model_info": []})
        assert res["code"] == 0, res
        stored = store.get(KIND_INSTANCE, env.tenant, instance_id)
        assert stored is not None and stored["api_key_enc"].startswith("v2:")
        assert env.call("GET", "/api/v1/providers/ZHIPU-AI/instances/CI")["data"]["api_key"] == "old...4321"
