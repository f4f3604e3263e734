"""Dify's External Knowledge API as RAGFlow serves it (/dify/retrieval): records with content, score, title and the
document's metadata; bad arguments HTTP 400, an unknown (or another tenant's) knowledge base HTTP 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api

URL = "/api/v1/dify/retrieval"
CORPUS = {
    "paris.txt": b"The Eiffel Tower is in Paris, the capital of France.\n",
    "rome.txt": b"The Colosseum is in Rome, the capital of Italy.\n",
}


@pytest.fixture
def kb(api: Api) -> str:
    ds = make_dataset(api, "cities")
    docs = ingest(api, ds, CORPUS)
    for doc in docs:
        country = "france" if doc["name"] == "paris.txt" else "italy"
        res = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{doc['id']}", json={"meta_fields": {"country": country}})
        assert res["code"] == 0, res
    return ds


def post(api: Api, body: Any, key: str | None = None) -> tuple[int, Any]:
    res = api.client.post(URL, headers=api.headers(key), json=body)
    return res.status_code, res.json()


def test_records_in_difys_shape(api: Api, kb: str) -> None:
    status, body = post(api, {"knowledge_id": kb, "query": "Where is the Eiffel Tower?",
                              "retrieval_setting": {"top_k": 1, "score_threshold": 0.1}})
    assert status == 200 and set(body) == {"records"}  # no envelope: Dify reads records directly
    [record] = body["records"]
    assert set(record) == {"content", "score", "title", "metadata"}
    assert "Eiffel" in record["content"] and record["title"] == "paris.txt" and 0.1 <= record["score"] <= 1
    meta = record["metadata"]
    assert meta["country"] == "france" and meta["document_id"] == meta["doc_id"]


def test_get_takes_the_same_request_as_query_parameters(api: Api, kb: str) -> None:
    res = api.client.get(URL, headers=api.headers(), params={"knowledge_id": kb, "query": "Colosseum", "top_k": "5"})
    assert res.status_code == 200
    assert res.json()["records"][0]["title"] == "rome.txt"
    bad = api.client.get(URL, headers=api.headers(), params={"knowledge_id": kb, "query": "Colosseum", "top_k": "many"})
    assert bad.status_code == 400 and bad.json() == {
        "code": 101, "message": "invalid or malformed arguments: top_k must be integer and score_threshold must be numeric; "}


def test_metadata_condition_narrows_the_documents(api: Api, kb: str) -> None:
    condition = {"logic": "and", "conditions": [{"name": "country", "comparison_operator": "is", "value": "italy"}]}
    status, body = post(api, {"knowledge_id": kb, "query": "capital", "metadata_condition": condition,
                              "retrieval_setting": {"score_threshold": 0.0}})
    assert status == 200 and {r["title"] for r in body["records"]} == {"rome.txt"}


@pytest.mark.parametrize(("body", "message"), [
    ({}, "required arguments are missing: knowledge_id,query; "),
    ({"query": "x"}, "required arguments are missing: knowledge_id; "),
    ({"knowledge_id": "k", "query": ""}, "required arguments are missing: query; "),
    ({"knowledge_id": "k", "query": "x", "retrieval_setting": []}, "invalid or malformed arguments: retrieval_setting must be an object; "),
    ({"knowledge_id": "k", "query": "x", "retrieval_setting": {"top_k": "ten"}},
     "invalid or malformed arguments: top_k must be integer and score_threshold must be numeric; "),
    ([1, 2], "invalid or malformed arguments: JSON payload must be an object.; "),
])
def test_bad_arguments_are_http_400(api: Api, body: Any, message: str) -> None:
    assert post(api, body) == (400, {"code": 101, "message": message})


def test_malformed_json_is_http_400(api: Api) -> None:
    res = api.client.post(URL, headers={**api.headers(), "content-type": "application/json"}, content=b"{nope")
    assert res.status_code == 400 and res.json()["code"] == 101
    assert res.json()["message"].startswith("invalid or malformed arguments: ")


def test_unknown_and_foreign_knowledge_bases_are_http_404(api: Api, kb: str) -> None:
    other = api.new_tenant_key()
    missing = post(api, {"knowledge_id": uuid.uuid4().hex, "query": "Paris"})
    assert missing == (404, {"code": 404, "message": "Knowledgebase not found!"})
    assert post(api, {"knowledge_id": kb, "query": "Paris"}, key=other) == missing


def test_auth_and_health(api: Api) -> None:
    res = api.client.post(URL, json={"knowledge_id": "k", "query": "x"})
    assert res.status_code == 401 and res.json()["code"] == 401
    health = api.client.get(f"{URL}/health")
    assert health.status_code == 200 and health.json() == {"code": 0, "message": "success", "data": True}
