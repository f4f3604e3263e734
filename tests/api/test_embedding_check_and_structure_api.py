"""POST /datasets/{id}/embedding/check and the structure graph routes of a document."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.docs_helpers import ingest, make_dataset, upload
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI

BUILTIN = "all-MiniLM-L6-v2@Builtin"
FAKE = "fake-embed@OpenAI-API-Compatible"
TEXTS = {f"d{n}.txt": f"Document {n} talks about topic {n}: rivers, mountains and weather number {n}.".encode()
         for n in range(4)}


@pytest.fixture
def provider_api(data_dir: Path, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"EMBEDDING_BASE_URL": openai_fake.url, "EMBEDDING_MODEL": FAKE}, monkeypatch)


def test_same_model_is_compatible(api: Api) -> None:
    ds = make_dataset(api)
    docs = ingest(api, ds, TEXTS)
    res = api.call("POST", f"/api/v1/datasets/{ds}/embedding/check", json={"embd_id": BUILTIN, "check_num": 3})
    assert res["code"] == 0, res
    summary, results = res["data"]["summary"], res["data"]["results"]
    assert summary["kb_id"] == ds and summary["model"] == BUILTIN and summary["sampled"] == len(results) == summary["valid"]
    assert 1 <= summary["sampled"] <= 3
    assert summary["avg_cos_sim"] >= 0.99 and summary["min_cos_sim"] <= summary["avg_cos_sim"] <= summary["max_cos_sim"]
    assert {r["doc_id"] for r in results} <= {d["id"] for d in docs}
    assert all(r["vector_dim"] == 384 and r["vector_field"] == "q_384_vec" and r["cos_sim"] >= 0.99 for r in results)


def test_other_dimension_is_refused(provider_api: Api) -> None:
    builtin_ds = make_dataset(provider_api, "b", embedding_model=BUILTIN)
    ingest(provider_api, builtin_ds, TEXTS)
    res = provider_api.call("POST", f"/api/v1/datasets/{builtin_ds}/embedding/check", json={"embd_id": FAKE})
    assert res == {"code": 102, "data": None, "message": "Embedding failure. The dimension (16) of given embedding model is "
                                                          "different from the original (384)"}


def test_other_vector_space_is_not_effective(provider_api: Api) -> None:
    api = provider_api
    fake_ds = make_dataset(api, "f", embedding_model=FAKE)
    ingest(api, fake_ds, TEXTS)
    assert api.call("POST", f"/api/v1/datasets/{fake_ds}/embedding/check", json={"embd_id": FAKE})["code"] == 0

    from ragcore import bootstrap
    from ragcore.bootstrap.container import get_container
    from ragcore.services.ingestion.embedding_check import EmbeddingCheck

    class Shuffled:  # same dimension, another vector space
        model_name, dimension = FAKE, 16

        def embed(self, texts: list[str]) -> list[list[float]]:
            return [list(reversed(v)) for v in get_container().embedder_for(FAKE).embed(texts)]

    check = EmbeddingCheck(get_container().store, bootstrap.chunk_store(), get_container().index, lambda _m, _t: Shuffled(),
                           bootstrap.datasets().check_model)
    from ragcore.errors import ApiError

    with pytest.raises(ApiError) as caught:
        check.check(api.tenant, fake_ds, {"embd_id": FAKE, "check_num": 4})
    assert caught.value.code == 10 and caught.value.message.startswith("Embedding model switch failed")
    assert caught.value.data["summary"]["avg_cos_sim"] < 0.9 and caught.value.data["summary"]["valid"] >= 1


def test_embedding_check_bad_input(api: Api) -> None:
    ds = make_dataset(api)
    url = f"/api/v1/datasets/{ds}/embedding/check"
    assert api.call("POST", url, json={}) == {"code": 102, "message": "`embd_id` is required.", "data": None}
    assert api.call("POST", url, json={"embd_id": "nope@Nowhere"}) == {
        "code": 102, "message": "Provider Nowhere not found for model nope@Nowhere.", "data": None}
    assert api.call("POST", url, json={"embd_id": BUILTIN}) == {
        "code": 102, "message": "No embedded chunks are available to compare.", "data": None}
    assert api.call("POST", url, json={"embd_id": BUILTIN, "check_num": "many"})["code"] == 101
    other = api.new_tenant_key()
    for target in (ds, uuid.uuid4().hex):
        assert api.call("POST", f"/api/v1/datasets/{target}/embedding/check", key=other, json={"embd_id": BUILTIN}) == {
            "code": 102, "message": "no authorization", "data": None}


def test_structure_graph_is_empty_and_scoped(api: Api) -> None:
    ds, other_ds = make_dataset(api), make_dataset(api, "other")
    (doc,) = upload(api, ds, {"a.md": b"# Title\n\n## Section\n\nBody."})
    url = f"/api/v1/datasets/{ds}/documents/{doc['id']}/structure/graph"
    assert api.call("GET", url) == {"code": 0, "data": {"templates": []}}
    assert api.call("DELETE", url, json={"template_id": "raptor"}) == {
        "code": 0, "message": "deleted 0 structure graph rows", "data": {"deleted": 0}}
    assert api.call("DELETE", url, json={}) == {"code": 102, "message": "`template_id` is required", "data": None}
    assert api.call("DELETE", url, json={"template_id": "legacy: "}) == {
        "code": 102, "message": "`template_id` is invalid", "data": None}
    wrong_ds = f"/api/v1/datasets/{other_ds}/documents/{doc['id']}/structure/graph"
    assert api.call("GET", wrong_ds) == {"code": 102, "message": f"you don't own the document {doc['id']}", "data": None}
    other = api.new_tenant_key()
    for method in ("GET", "DELETE"):
        assert api.call(method, url, key=other, json={"template_id": "x"}) == {
            "code": 102, "message": f"You don't own the dataset {ds}.", "data": None}
