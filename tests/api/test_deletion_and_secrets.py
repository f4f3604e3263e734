"""Deleted things never come back: after deleting a chunk, a document or a dataset, none of its chunks is
retrieved or cited by a completion. And API keys and provider secrets never reach logs or error messages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI


def retrieved_docs(api: Api, ds: str, question: str) -> set[str]:
    res = api.call("POST", "/api/v1/retrieval", json={"question": question, "dataset_ids": [ds], "similarity_threshold": 0})
    return {c["document_id"] for c in res["data"]["chunks"]} if res["code"] == 0 else set()


def cited_docs(api: Api, chat_id: str, question: str) -> set[str]:
    res = api.call("POST", f"/api/v1/chats/{chat_id}/completions", json={"question": question, "stream": False})
    assert res["code"] == 0, res
    return {c["document_id"] for c in res["data"]["reference"].get("chunks", [])}


def test_deleted_chunks_documents_and_datasets_never_come_back(api: Api) -> None:
    ds = make_dataset(api, "rivers")
    nile, amazon = ingest(api, ds, {"nile.txt": b"The Nile river flows north through Egypt.\n",
                                    "amazon.txt": b"The Amazon river carries the most water.\n"})
    chat = api.call("POST", "/api/v1/chats", json={"name": "guide", "dataset_ids": [ds]})["data"]
    question = "Which river flows through Egypt and which carries water?"
    assert retrieved_docs(api, ds, question) == {nile["id"], amazon["id"]}
    assert cited_docs(api, chat["id"], question) == {nile["id"], amazon["id"]}

    chunks = api.call("GET", f"/api/v1/datasets/{ds}/documents/{amazon['id']}/chunks")["data"]["chunks"]
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents/{amazon['id']}/chunks",
                    json={"chunk_ids": [c["id"] for c in chunks]})["code"] == 0
    assert retrieved_docs(api, ds, question) == {nile["id"]}

    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [nile["id"]]})["code"] == 0
    assert retrieved_docs(api, ds, question) == set()
    assert cited_docs(api, chat["id"], question) == set()

    other = make_dataset(api, "more")
    ingest(api, other, {"nile2.txt": b"The Nile river flows north through Egypt.\n"})
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": [other]})["code"] == 0
    res = api.call("POST", "/api/v1/retrieval", json={"question": question, "dataset_ids": [other]})
    assert res["code"] == 102 and res["data"] is None


@pytest.fixture
def secret_api(data_dir: Path, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LLM_BASE_URL": openai_fake.url, "LLM_API_KEY": "sk-very-secret-llm", "LLM_MODEL": "m"}, monkeypatch)


def test_keys_and_secrets_stay_out_of_logs_and_errors(secret_api: Api, openai_fake: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    api = secret_api
    caplog.set_level(logging.DEBUG)
    openai_fake.fail_next(10, 500)
    chat = api.call("POST", "/api/v1/chats", json={"name": "c", "dataset_ids": []})["data"]
    failed = api.client.post("/api/v1/chat/completions", headers=api.headers(),
                             json={"chat_id": chat["id"], "question": "hi", "stream": False}).text
    api.client.get("/api/v1/datasets", headers={"Authorization": "Bearer ragflow-not-a-real-key-123"})
    logged = caplog.text + failed
    assert "sk-very-secret-llm" not in logged and api.key not in logged and "ragflow-not-a-real-key-123" not in logged
    assert "chat model" in failed  # the error still says what failed


def test_passwords_and_access_tokens_stay_out_of_logs_errors_and_the_store(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    import sqlite3

    caplog.set_level(logging.DEBUG)
    c = api.client
    password, new_password = "pw-very-secret-1", "pw-very-secret-2"
    res = c.post("/api/v1/users", json={"email": "s@example.com", "nickname": "s", "password": password})
    auth = res.headers["Authorization"]
    replies = [res.text]
    replies.append(c.post("/api/v1/auth/login", json={"email": "s@example.com", "password": "pw-wrong-secret"}).text)
    replies.append(c.patch("/api/v1/users/me", headers={"Authorization": auth}, json={"password": "pw-wrong-secret", "new_password": new_password}).text)
    replies.append(c.patch("/api/v1/users/me", headers={"Authorization": auth}, json={"nickname": "<bad>", "password": password}).text)
    token = c.post("/api/v1/system/tokens", headers={"Authorization": auth}).json()["data"]["token"]
    replies.append(c.get("/api/v1/system/tokens", headers={"Authorization": auth}).text)
    replies.append(c.get("/api/v1/users/me", headers={"Authorization": auth + "x"}).text)
    c.post("/api/v1/auth/logout", headers={"Authorization": auth})
    replies.append(c.get("/api/v1/users/me", headers={"Authorization": auth}).text)
    seen = caplog.text + "".join(replies)
    for secret in (password, new_password, "pw-wrong-secret", auth, token):
        assert secret not in seen
    # stored: hashes only
    db = sqlite3.connect(data_dir_of(api) / "ragflow.sqlite3")
    dump = "\n".join(db.iterdump())
    for secret in (password, auth, token):
        assert secret not in dump
    assert "$argon2id$" in dump


def data_dir_of(api: Api) -> Path:
    from ragcore.bootstrap.container import get_container

    return Path(get_container().settings.data_dir)


def test_provider_keys_stay_out_of_logs_errors_replies_and_the_store(api: Api, openai_fake: FakeOpenAI,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A tenant's provider key is checked against the provider, stored encrypted and shown masked: never in full."""
    from ragcore.bootstrap.container import get_container

    caplog.set_level(logging.DEBUG)
    secret, refused = "sk-provider-secret-0123456789", "sk-refused-secret-9876543210"
    replies = [api.client.put("/api/v1/providers", headers=api.headers(), json={"provider_name": "OpenAI-API-Compatible"}).text]
    openai_fake.fail_next(1, 401)
    body = {"instance_name": "mine", "api_key": refused, "base_url": openai_fake.url,
            "model_info": [{"model_name": "m", "model_type": ["chat"]}]}
    replies.append(api.client.post("/api/v1/providers/OpenAI-API-Compatible/instances", headers=api.headers(), json=body).text)
    replies.append(api.client.post("/api/v1/providers/OpenAI-API-Compatible/instances", headers=api.headers(),
                                   json={**body, "api_key": secret}).text)
    assert '"code":0' in replies[-1].replace(" ", "")
    for path in ("/api/v1/providers/OpenAI-API-Compatible/instances", "/api/v1/providers/OpenAI-API-Compatible/instances/mine",
                 "/api/v1/models", "/api/v1/models/default"):
        replies.append(api.client.get(path, headers=api.headers()).text)
    seen = caplog.text + "".join(replies)
    assert secret not in seen and refused not in seen
    assert "sk-...3210" not in seen and "sk-...6789" in seen  # the masked form of the stored key only
    settings = get_container().settings
    dump = b"".join(p.read_bytes() for p in settings.data_dir.glob(settings.sqlite_path.name + "*"))  # and its WAL
    assert dump and secret.encode() not in dump and refused.encode() not in dump
