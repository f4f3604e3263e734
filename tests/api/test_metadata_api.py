"""Document metadata endpoints: summary, batch update/delete, config."""

from __future__ import annotations

import uuid

from tests.api.docs_helpers import make_dataset, upload
from tests.conftest import Api


def test_summary_and_batch_update(api: Api) -> None:
    ds = make_dataset(api)
    docs = upload(api, ds, {"a.txt": b"a", "b.txt": b"b", "c.txt": b"c"})
    metas = [{"tags": ["foo", "bar"], "author": "alice"}, {"tags": ["foo"], "author": "bob"}, {"tags": ["bar", "baz"], "author": ""}]
    for doc, meta in zip(docs, metas, strict=True):
        assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{doc['id']}", json={"meta_fields": meta})["code"] == 0
    summary = api.call("GET", f"/api/v1/datasets/{ds}/metadata/summary")["data"]["summary"]
    assert dict(map(tuple, summary["tags"]["values"])) == {"foo": 2, "bar": 2, "baz": 1}
    assert dict(map(tuple, summary["author"]["values"])) == {"alice": 1, "bob": 1}
    res = api.call("POST", f"/api/v1/datasets/{ds}/metadata/update", json={
        "selector": {"metadata_condition": {"conditions": [{"name": "author", "comparison_operator": "is", "value": "alice"}]}},
        "updates": [{"key": "tags", "match": "foo", "value": "foo_new"}],
        "deletes": [{"key": "author", "value": "alice"}],
    })
    assert res == {"code": 0, "data": {"updated": 1, "matched_docs": 1}}
    first = api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"id": docs[0]["id"]})["data"]["docs"][0]
    assert first["meta_fields"] == {"tags": ["foo_new", "bar"]}
    res = api.call("POST", f"/api/v1/datasets/{ds}/metadata/update", json={"selector": {"document_ids": [uuid.uuid4().hex]}})
    assert res["code"] == 102 and "do not belong to dataset" in res["message"]
    for body, message in [
        ({"selector": "x"}, "selector must be an object"),
        ({"updates": {"a": 1}}, "updates and deletes must be lists."),
        ({"updates": [{"key": "a"}]}, "Each update requires key and value"),
        ({"deletes": [{}]}, "Each delete requires key"),
    ]:
        res = api.call("POST", f"/api/v1/datasets/{ds}/metadata/update", json=body)
        assert res["code"] == 102 and res["message"] == (message if message.endswith(".") else message + "."), res


def test_metadata_config(api: Api) -> None:
    ds = make_dataset(api)
    assert api.call("GET", f"/api/v1/datasets/{ds}/metadata/config") == {"code": 0, "data": {"fields": []}}
    config = {"fields": [{"name": "author", "type": "string"}]}
    assert api.call("PUT", f"/api/v1/datasets/{ds}/metadata/config", json=config)["code"] == 0
    assert api.call("GET", f"/api/v1/datasets/{ds}/metadata/config")["data"] == config
    assert api.call("PUT", f"/api/v1/datasets/{ds}/metadata/config")["code"] != 0
    assert api.call("GET", f"/api/v1/datasets/{uuid.uuid4().hex}/metadata/config")["code"] == 102
    other = api.new_tenant_key()
    assert api.call("GET", f"/api/v1/datasets/{ds}/metadata/config", key=other)["code"] == 102


def test_patch_documents_metadatas_is_not_a_document_update(api: Api) -> None:
    ds = make_dataset(api)
    docs = upload(api, ds, {"a.txt": b"a", "b.txt": b"b"})
    ids = [d["id"] for d in docs]
    url = f"/api/v1/datasets/{ds}/documents/metadatas"
    res = api.call("PATCH", url, json={"selector": {"document_ids": ids}, "updates": [{"key": "author", "value": "ann"},
                                                                                  {"key": "status", "value": "new"}]})
    assert res == {"code": 0, "data": {"updated": 2, "matched_docs": 2}}
    cond = {"conditions": [{"name": "author", "comparison_operator": "is", "value": "ann"}]}
    res = api.call("PATCH", url, json={"selector": {"document_ids": ids, "metadata_condition": cond},
                                       "updates": [{"key": "author", "value": "bo"}], "deletes": [{"key": "status"}]})
    assert res == {"code": 0, "data": {"updated": 2, "matched_docs": 2}}
    listed = api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"ids": ids})["data"]["docs"]
    assert [d["meta_fields"] for d in listed] == [{"author": "bo"}, {"author": "bo"}]
    none = api.call("PATCH", url, json={"selector": {"document_ids": ids, "metadata_condition": cond}, "updates": [{"key": "x", "value": 1}]})
    assert none == {"code": 0, "data": {"updated": 0, "matched_docs": 0}}
    assert api.call("PATCH", url, json={"selector": {"document_ids": []}, "updates": [{"key": "x", "value": 1}]})["data"]["matched_docs"] == 0
    for body, message in [
        ({"selector": [1]}, "selector must be an object"),
        ({"selector": {"document_ids": "doc-1"}}, "document_ids must be a list"),
        ({"selector": {"metadata_condition": [1]}}, "metadata_condition must be an object"),
        ({"selector": {"document_ids": ["nope-1"]}, "updates": [{"key": "a", "value": "b"}]}, "do not belong to dataset"),
    ]:
        res = api.call("PATCH", url, json=body)
        assert res["code"] == 102 and message in res["message"], res
    missing = uuid.uuid4().hex
    assert api.call("PATCH", f"/api/v1/datasets/{missing}/documents/metadatas", json={})["message"].startswith("You don't own the dataset")
    assert [d["meta_fields"] for d in api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["docs"]] == [{"author": "bo"}] * 2


def test_flattened_metadata_over_named_datasets(api: Api) -> None:
    ds = make_dataset(api, "flat")
    [doc] = upload(api, ds, {"a.txt": b"text"})
    api.call("PUT", f"/api/v1/datasets/{ds}/documents/{doc['id']}", json={"meta_fields": {"author": ["ann", "bo"], "year": 2024}})
    res = api.call("GET", "/api/v1/datasets/metadata/flattened", params={"dataset_ids": ds})
    assert res == {"code": 0, "data": {"author": ["ann", "bo"], "year": ["2024"]}}
    assert api.call("GET", "/api/v1/datasets/metadata/flattened", params={"dataset_ids": ""}) == {
        "code": 102, "message": "Lack of dataset_ids in query parameters", "data": None}
    assert api.call("GET", "/api/v1/datasets/metadata/flattened", params={"dataset_ids": uuid.uuid4().hex})["code"] != 0
