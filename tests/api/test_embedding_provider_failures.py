"""An OpenAI-compatible embedding provider: documents embedded through it, its failures, and model mixing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.docs_helpers import make_dataset, parse, upload, wait_done
from tests.conftest import Api
from tests.fakes.openai_server import FakeOpenAI

MODEL = "fake-embed@OpenAI-API-Compatible"


@pytest.fixture
def provider_api(data_dir: Path, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    from ragcore.bootstrap import container, tenants

    from functions.local import create_local_app

    monkeypatch.setenv("EMBEDDING_BASE_URL", openai_fake.url)
    monkeypatch.setenv("EMBEDDING_API_KEY", "emb-secret")
    monkeypatch.setenv("EMBEDDING_MODEL", MODEL)
    container.reset()
    service = tenants()
    tenant = service.create_tenant("provider")
    with TestClient(create_local_app()) as client:
        yield Api(client=client, key=service.create_key(tenant).key, tenant=tenant)


def test_provider_embeds_and_its_failures_fail_only_that_document(provider_api: Api, openai_fake: FakeOpenAI) -> None:
    api = provider_api
    ds = make_dataset(api, "hosted")
    assert api.call("GET", f"/api/v1/datasets/{ds}")["data"]["embedding_model"] == MODEL
    [ok] = upload(api, ds, {"ok.txt": b"Hosted embeddings work.\n"})
    parse(api, ds, [ok["id"]])
    assert wait_done(api, ds, ok["id"])["run"] == "DONE"
    assert any(r["path"].endswith("/embeddings") for r in openai_fake.requests)
    openai_fake.fail_next(50, status=503)
    [bad] = upload(api, ds, {"bad.txt": b"The provider is down for this one.\n"})
    parse(api, ds, [bad["id"]])
    failed = wait_done(api, ds, bad["id"], timeout=60)
    assert failed["run"] == "FAIL" and "embedding provider failed after 3 attempts" in failed["progress_msg"]
    assert "emb-secret" not in failed["progress_msg"]
    assert wait_done(api, ds, ok["id"])["run"] == "DONE"  # the other document is untouched


def test_datasets_with_different_models_are_not_searched_together(provider_api: Api) -> None:
    api = provider_api
    hosted = make_dataset(api, "hosted")
    builtin = make_dataset(api, "builtin", embedding_model="all-MiniLM-L6-v2@Builtin")
    res: dict[str, Any] = api.call("POST", "/api/v1/retrieval", json={"question": "x", "dataset_ids": [hosted, builtin]})
    assert res == {"code": 102, "message": "Datasets use different embedding models.", "data": None}
