"""POST /agents/rerun: parse again the document an ingestion log describes (RAGFlow reruns its dataflow pipeline)."""

from __future__ import annotations

import uuid

from tests.api.docs_helpers import eventually, get_doc, ingest, make_dataset
from tests.conftest import Api

DSL = {"components": {"parser:0": {"obj": {"component_name": "Parser", "params": {}}}}, "path": []}


def file_log(api: Api, ds: str) -> dict[str, object]:
    logs = api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "file"})["data"]["logs"]
    return dict(logs[0])


def chunk_ids(api: Api, ds: str, doc: str) -> set[str]:
    return {c["id"] for c in api.call("GET", f"/api/v1/datasets/{ds}/documents/{doc}/chunks")["data"]["chunks"]}


def test_rerun_parses_the_logged_document_again(api: Api) -> None:
    ds = make_dataset(api, "kb")
    [doc] = ingest(api, ds, {"notes.txt": b"First paragraph about tea.\n\nSecond paragraph about coffee.\n"})
    before = chunk_ids(api, ds, doc["id"])
    log = file_log(api, ds)
    assert log["document_id"] == doc["id"] and before

    res = api.call("POST", "/api/v1/agents/rerun", json={"id": log["id"], "dsl": DSL, "component_id": "parser:0"})
    assert res == {"code": 0, "message": "success", "data": True}
    # the run is a new one: it logs a second parse, and the document ends DONE with the same content's chunks
    eventually(lambda: len(api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "file"})["data"]["logs"]) == 2)
    eventually(lambda: get_doc(api, ds, doc["id"])["run"] == "DONE")
    assert chunk_ids(api, ds, doc["id"]) == before  # same document, same content: the same chunk ids (DESIGN)
    assert get_doc(api, ds, doc["id"])["chunk_count"] == len(before)
    kept = api.call("GET", f"/api/v1/datasets/{ds}/ingestions/{log['id']}")["data"]
    assert kept["dsl"]["path"] == ["parser:0"] and kept["dsl"]["components"] == DSL["components"]


def test_rerun_refuses_what_it_cannot_rerun_and_changes_nothing(api: Api) -> None:
    from ragcore.bootstrap.container import get_container

    ds = make_dataset(api, "kb")
    [doc] = ingest(api, ds, {"a.txt": b"Some text to parse.\n"})
    log = file_log(api, ds)
    before = chunk_ids(api, ds, doc["id"])

    def rerun(body: dict[str, object], key: str | None = None) -> dict[str, object]:
        return api.call("POST", "/api/v1/agents/rerun", key, json=body)

    assert rerun({"id": log["id"]}) == {"code": 101, "message": "required argument are missing: dsl,component_id; ", "data": None}
    assert rerun({"id": log["id"], "dsl": "x", "component_id": "c"})["code"] == 101
    not_found = {"code": 102, "message": "Document not found.", "data": None}
    assert rerun({"id": uuid.uuid4().hex, "dsl": DSL, "component_id": "c"}) == not_found
    assert rerun({"id": log["id"], "dsl": DSL, "component_id": "c"}, key=api.new_tenant_key()) == not_found
    get_container().store.update("document", api.tenant, doc["id"], {"run": "RUNNING", "progress": 0.5})
    assert rerun({"id": log["id"], "dsl": DSL, "component_id": "c"}) == {"code": 102, "message": "`a.txt` is processing...", "data": None}
    get_container().store.update("document", api.tenant, doc["id"], {"run": "DONE", "progress": 1.0})
    assert chunk_ids(api, ds, doc["id"]) == before
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [doc["id"]]})["code"] == 0
    assert rerun({"id": log["id"], "dsl": DSL, "component_id": "c"}) == not_found
    assert api.client.post("/api/v1/agents/rerun", json={"id": log["id"], "dsl": DSL, "component_id": "c"}).status_code == 401
