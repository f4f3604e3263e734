"""Documents over HTTP: upload, list and its filters, update, download, delete, parse, stop, failures."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.api.docs_helpers import eventually, get_doc, ingest, make_dataset, parse, retrieve, upload, wait_done
from tests.conftest import Api

TEXT = b"RAGFlow is an open-source RAG engine.\nIt parses documents into chunks.\nChunks are embedded for search.\n"


def test_upload_list_download_and_names(api: Api) -> None:
    ds = make_dataset(api)
    docs = upload(api, ds, {"a.txt": TEXT, "b.md": b"# Title\n\nBody text.", "a(1).txt": b"x"})
    assert [d["name"] for d in docs] == ["a.txt", "b.md", "a(1).txt"]
    assert docs[0]["run"] == "UNSTART" and docs[0]["size"] == len(TEXT) and docs[0]["dataset_id"] == ds
    again = upload(api, ds, {"a.txt": b"other"})
    assert again[0]["name"] == "a(2).txt"  # same name in one dataset gets a suffix
    res = api.call("GET", f"/api/v1/datasets/{ds}/documents")
    assert res["data"]["total"] == 4
    assert [d["name"] for d in res["data"]["docs"]][0] == "a(2).txt"  # newest first
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"keywords": "b."})["data"]["total"] == 1
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"suffix": "md"})["data"]["total"] == 1
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"run": "UNSTART"})["data"]["total"] == 4
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"run": "3"})["data"]["total"] == 0
    bad = api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"run": "INVALID_STATUS"})
    assert bad == {"code": 102, "message": "Invalid filter run status conditions: INVALID_STATUS", "data": None}
    page = api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"page": 2, "page_size": 3, "desc": "false"})
    assert [d["name"] for d in page["data"]["docs"]] == ["a(2).txt"]
    r = api.client.get(f"/api/v1/datasets/{ds}/documents/{docs[0]['id']}", headers=api.headers())
    assert r.status_code == 200 and r.content == TEXT
    assert r.headers["content-disposition"].startswith("attachment")
    assert api.call("GET", f"/api/v1/datasets/{ds}")["data"]["document_count"] == 4
    nobody = uuid.uuid4().hex
    # RAGFlow's download: what the caller cannot reach is "document not found"; its document in another of its
    # datasets is "The dataset not own …"
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents/{nobody}") == {
        "code": 102, "message": "document not found", "data": None}
    assert api.call("GET", f"/api/v1/datasets/{nobody}/documents/{docs[0]['id']}") == {
        "code": 102, "message": "document not found", "data": None}
    other_ds = api.call("POST", "/api/v1/datasets", json={"name": "other"})["data"]["id"]
    assert api.call("GET", f"/api/v1/datasets/{other_ds}/documents/{docs[0]['id']}") == {
        "code": 102, "message": f"The dataset not own the document {docs[0]['id']}.", "data": None}


def test_upload_errors_change_nothing(api: Api) -> None:
    ds = make_dataset(api)
    r = api.client.post(f"/api/v1/datasets/{ds}/documents", headers=api.headers())
    assert r.json()["message"] == "No file part!"
    r = api.client.post(f"/api/v1/datasets/{ds}/documents", files=[("file", ("", b"x"))], headers=api.headers())
    assert r.json()["code"] == 101
    r = api.client.post(f"/api/v1/datasets/{ds}/documents", files=[("file", ("x.exe", b"MZ"))], headers=api.headers())
    assert r.json() == {"code": 500, "message": "x.exe: This type of file has not been supported yet!", "data": None}
    missing = uuid.uuid4().hex
    r = api.client.post(f"/api/v1/datasets/{missing}/documents", files=[("file", ("a.txt", b"x"))], headers=api.headers())
    assert r.json()["message"] == f"Can't find the dataset with ID {missing}!"
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["total"] == 0


def test_update_document(api: Api) -> None:
    ds = make_dataset(api)
    a, b = upload(api, ds, {"a.txt": TEXT, "b.txt": b"bee"})
    res = api.call("PUT", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"name": "renamed.txt", "meta_fields": {"author": "Toby"}})
    assert res["code"] == 0 and res["data"]["name"] == "renamed.txt" and res["data"]["meta_fields"] == {"author": "Toby"}
    res = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"name": "renamed.pdf"})
    assert res["message"] == "The extension of file can't be changed"
    res = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"name": "b.txt"})
    assert res["message"] == "Duplicated document name in the same dataset."
    res = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"meta_fields": []})
    assert res["code"] == 102 and "Input should be a valid dictionary" in res["message"]  # a data error, as RAGFlow
    res = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"parser_config": {"chunk_token_num": "1024"}})
    assert res == {"code": 102, "data": None,
                   "message": "Field: <parser_config.chunk_token_num> - Message: <Input should be a valid integer> - Value: <1024>"}
    assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"progress": 1.0}) == {
        "code": 102, "message": "can't change `progress`", "data": None}
    assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"chunk_method": ""}) == {
        "code": 102, "message": "`chunk_method` (empty string) is not valid", "data": None}
    assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"name": None}) == {
        "code": 102, "message": "Field: <name> - Message: <Input should be a valid string> - Value: <None>", "data": None}
    missing = uuid.uuid4().hex
    assert api.call("PATCH", f"/api/v1/datasets/{missing}/documents/{a['id']}", json={"name": "x.txt"}) == {
        "code": 102, "message": "you don't own the dataset", "data": None}
    assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{missing}", json={"meta_fields": {"a": 1}}) == {
        "code": 102, "message": "the dataset doesn't own the document", "data": None}
    kg = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{b['id']}", json={"chunk_method": "knowledge_graph"})
    assert kg["code"] == 0 and kg["data"]["chunk_method"] == "knowledge_graph"
    res = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"chunk_method": "other"})
    assert res["code"] == 102 and "`chunk_method` other doesn't exist" in res["message"]
    res = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"chunk_method": "qa", "parser_config": {}})
    assert res["code"] == 0 and res["data"]["chunk_method"] == "qa"
    tuned = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}",
                     json={"parser_config": {"raptor": {"use_raptor": True, "max_cluster": 8}}})["data"]["parser_config"]
    assert tuned["raptor"] == {"use_raptor": True, "max_cluster": 8}  # without a chunk method: merged into what is there
    renamed = api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}",
                       json={"chunk_method": "qa", "parser_config": {"raptor": {"use_raptor": False}}})["data"]["parser_config"]
    assert renamed["raptor"] == {"use_raptor": False}  # naming the method rebuilds from its defaults
    assert get_doc(api, ds, a["id"])["name"] == "renamed.txt"
    assert api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{a['id']}", json={"name": "RENAMED.txt"})["data"]["name"] == "RENAMED.txt"
    assert b["name"] == "b.txt"


def test_parse_to_done_with_progress_and_chunks(api: Api) -> None:
    ds = make_dataset(api)
    [doc] = ingest(api, ds, {"guide.txt": TEXT * 20})
    assert doc["run"] == "DONE", doc["progress_msg"]
    assert doc["progress"] == 1.0 and doc["chunk_count"] > 0 and doc["token_count"] > 0
    assert "Task done" in doc["progress_msg"] and doc["process_duration"] > 0
    chunks = api.call("GET", f"/api/v1/datasets/{ds}/documents/{doc['id']}/chunks")["data"]
    assert chunks["total"] == doc["chunk_count"] and "RAGFlow" in chunks["chunks"][0]["content"]
    dataset = api.call("GET", f"/api/v1/datasets/{ds}")["data"]
    assert dataset["chunk_count"] == doc["chunk_count"] and dataset["token_num"] == doc["token_count"]
    # re-parsing replaces, never duplicates
    parse(api, ds, [doc["id"]])
    again = wait_done(api, ds, doc["id"])
    assert again["chunk_count"] == doc["chunk_count"]
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents/{doc['id']}/chunks")["data"]["total"] == doc["chunk_count"]
    assert api.call("GET", f"/api/v1/datasets/{ds}")["data"]["chunk_count"] == doc["chunk_count"]


def test_failures_are_per_document(api: Api) -> None:
    ds = make_dataset(api)
    good, corrupt, empty = upload(api, ds, {"ok.txt": TEXT, "broken.pdf": b"%PDF-1.4 this is not a pdf", "empty.txt": b""})
    parse(api, ds, [good["id"], corrupt["id"], empty["id"]])
    assert wait_done(api, ds, good["id"])["run"] == "DONE"
    failed = wait_done(api, ds, corrupt["id"])
    assert failed["run"] == "FAIL" and "[ERROR]" in failed["progress_msg"] and failed["chunk_count"] == 0
    assert wait_done(api, ds, empty["id"])["run"] == "FAIL"


def test_parse_errors(api: Api) -> None:
    ds = make_dataset(api)
    assert api.call("POST", f"/api/v1/datasets/{ds}/chunks", json={}) == {"code": 102, "message": "`document_ids` is required", "data": None}
    res = api.call("POST", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": ["invalid_id"]})
    assert res["message"] == "Documents not found: ['invalid_id']"
    res = api.call("POST", f"/api/v1/datasets/{uuid.uuid4().hex}/chunks", json={"document_ids": ["x"]})
    assert res["code"] == 102 and "You don't own the dataset" in res["message"]


def test_delete_documents_removes_everything(api: Api) -> None:
    ds = make_dataset(api)
    docs = ingest(api, ds, {"a.txt": TEXT, "b.txt": b"Bananas are yellow fruit.\n"})
    assert retrieve(api, question="RAGFlow engine", dataset_ids=[ds])["total"] > 0
    res = api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [docs[0]["id"], uuid.uuid4().hex]})
    assert res["code"] == 102 and f"These documents do not belong to dataset {ds}" in res["message"]
    nothing = api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": []})
    assert nothing["code"] == 102 and "should either provide doc ids or set delete_all(true)" in nothing["message"]
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["total"] == 2
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [docs[0]["id"]]}) == {"code": 0, "data": {"deleted": 1}}
    found = retrieve(api, question="RAGFlow engine chunks", dataset_ids=[ds], similarity_threshold=0.0)
    assert all(c["document_id"] != docs[0]["id"] for c in found["chunks"])
    assert api.call("GET", f"/api/v1/datasets/{ds}")["data"]["document_count"] == 1
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"delete_all": True}) == {"code": 0, "data": {"deleted": 1}}
    assert retrieve(api, question="bananas", dataset_ids=[ds], similarity_threshold=0.0)["total"] == 0


def test_stop_and_delete_while_parsing_leave_nothing(api: Api) -> None:
    ds = make_dataset(api, parser_config={"chunk_token_num": 8})
    big = b"".join(f"Line {i} talks about zebras and parsing.\n".encode() for i in range(3000))
    stop_me, delete_me = upload(api, ds, {"stop.txt": big, "delete.txt": big})
    parse(api, ds, [stop_me["id"], delete_me["id"]])
    time.sleep(0.3)
    api.call("DELETE", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [stop_me["id"]]})
    api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [delete_me["id"]]})
    stopped = get_doc(api, ds, stop_me["id"])
    assert stopped["run"] in ("CANCEL", "DONE")

    def found() -> dict[str, Any]:
        return retrieve(api, question="zebras parsing", dataset_ids=[ds], similarity_threshold=0.0, page_size=100)

    # batches in flight notice the stop and the delete at their next step, then take back what they wrote
    if stopped["run"] == "CANCEL":
        eventually(lambda: found()["total"] == 0, timeout=30)
        assert api.call("GET", f"/api/v1/datasets/{ds}/documents/{stop_me['id']}/chunks")["data"]["total"] == 0
    eventually(lambda: all(c["document_id"] != delete_me["id"] for c in found()["chunks"]), timeout=30)


def test_tenant_isolation_for_documents(api: Api) -> None:
    ds = make_dataset(api)
    [doc] = upload(api, ds, {"a.txt": TEXT})
    other = api.new_tenant_key()
    for method, path, kw in [
        ("GET", f"/api/v1/datasets/{ds}/documents", {}),
        ("GET", f"/api/v1/datasets/{ds}/documents/{doc['id']}", {}),
        ("PUT", f"/api/v1/datasets/{ds}/documents/{doc['id']}", {"json": {"name": "x.txt"}}),
        ("DELETE", f"/api/v1/datasets/{ds}/documents", {"json": {"ids": [doc["id"]]}}),
        ("POST", f"/api/v1/datasets/{ds}/chunks", {"json": {"document_ids": [doc["id"]]}}),
    ]:
        res = api.call(method, path, key=other, **kw)
        assert res["code"] == 102, (method, path, res)
    assert get_doc(api, ds, doc["id"])["name"] == "a.txt"


def test_a_dead_worker_is_resumed_then_ends_fail_not_running_forever(api: Api) -> None:
    """A RUNNING document whose lease lapsed (its worker died) is parsed again, twice at most; a third lapse is
    FAIL with the reason."""
    from ragcore.bootstrap.container import get_container
    from ragcore.services.knowledge.documents import KIND

    ds = make_dataset(api)
    [doc] = upload(api, ds, {"a.txt": TEXT})
    store = get_container().store
    store.update(KIND, api.tenant, doc["id"], {"run": "RUNNING", "_lease_until": time.time() - 1, "_run_id": 7})
    seen = get_doc(api, ds, doc["id"])
    assert seen["run"] == "RUNNING" and "stopped responding (lease expired); parsing again (attempt 2 of 3)" in seen["progress_msg"]
    assert wait_done(api, ds, doc["id"])["run"] == "DONE"
    store.update(KIND, api.tenant, doc["id"], {"run": "RUNNING", "_lease_until": time.time() - 1, "_lease_resumes": 2})
    seen = get_doc(api, ds, doc["id"])
    assert seen["run"] == "FAIL" and "stopped responding (lease expired); parse the document again" in seen["progress_msg"]
    parse(api, ds, [doc["id"]])  # and it can be parsed again
    assert wait_done(api, ds, doc["id"])["run"] == "DONE"


def test_delete_repeated_and_duplicate_ids(api: Api) -> None:
    ds = make_dataset(api)
    docs = upload(api, ds, {"a.txt": b"a", "b.txt": b"b", "c.txt": b"c"})
    ids = [d["id"] for d in docs]
    dup = api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": ids + ids[:1]})
    assert dup["code"] == 101 and dup["message"].startswith(f"Field: <ids> - Message: <Duplicate ids: '{ids[0]}'>")
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["total"] == 3  # nothing deleted
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": ids[:2]}) == {"code": 0, "data": {"deleted": 2}}
    again = api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": ids[:2]})
    assert again == {"code": 102, "data": None,
                     "message": f"These documents do not belong to dataset {ds} or Document not found: {ids[0]}, {ids[1]}"}
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [3]})["code"] == 101
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["total"] == 1


def test_list_filters(api: Api) -> None:
    ds = make_dataset(api)
    docs = upload(api, ds, {"a.txt": b"a", "b.txt": b"b", "c.txt": b"c"})
    url = f"/api/v1/datasets/{ds}/documents"
    api.call("PATCH", f"{url}/{docs[0]['id']}", json={"meta_fields": {"author": "ann", "year": 2024}})
    api.call("PATCH", f"{url}/{docs[1]['id']}", json={"meta_fields": {"author": "bo"}})
    assert api.call("GET", url, params={"metadata_condition": "{bad json"}) == {
        "code": 102, "message": "metadata_condition must be valid JSON: {bad json.", "data": None}
    assert api.call("GET", url, params={"metadata_condition": "[1]"}) == {
        "code": 102, "message": "metadata_condition must be an object.", "data": None}
    cond = '{"conditions": [{"name": "author", "comparison_operator": "is", "value": "bo"}]}'
    assert [d["id"] for d in api.call("GET", url, params={"metadata_condition": cond})["data"]["docs"]] == [docs[1]["id"]]
    by_meta = api.call("GET", url, params={"metadata": '{"author": ["ann", "bo"]}'})["data"]
    assert by_meta["total"] == 2
    empty = api.call("GET", url, params={"return_empty_metadata": "true"})["data"]
    assert [d["id"] for d in empty["docs"]] == [docs[2]["id"]]
    # id and name are each checked to exist, then applied together
    assert api.call("GET", url, params={"id": docs[0]["id"], "name": "b.txt"})["data"] == {"docs": [], "total": 0}
    assert api.call("GET", url, params={"id": docs[0]["id"], "name": "zzz"})["message"] == "you don't own the document zzz"
    # the creation-time range narrows the page it is applied to; total counts the other filters (as RAGFlow)
    future = api.call("GET", url, params={"create_time_from": "9999999999000"})["data"]
    assert future == {"docs": [], "total": 3}
    assert len(api.call("GET", url, params={"create_time_from": "0", "create_time_to": "9999999999000"})["data"]["docs"]) == 3
    by_name = api.call("GET", url, params={"orderby": "name", "desc": "false"})["data"]["docs"]
    assert [d["name"] for d in by_name] == ["a.txt", "b.txt", "c.txt"]


def test_parse_with_repeated_ids_parses_each_once_and_reports_the_repeats(api: Api) -> None:
    ds = make_dataset(api, "repeats")
    docs = upload(api, ds, {"a.txt": b"Alpha text.", "b.txt": b"Beta text."})
    ids = [d["id"] for d in docs]
    res = api.call("POST", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": ids + ids[:1]})
    # RAGFlow's get_result drops a success's message ("Partially parsed 2 documents with 1 errors")
    assert res == {"code": 0, "data": {"success_count": 2, "errors": [f"Duplicate document ids: {ids[0]}"]}}
    assert [wait_done(api, ds, i)["run"] for i in ids] == ["DONE", "DONE"]
    missing = api.call("POST", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [ids[0], "nope"]})
    assert missing == {"code": 102, "message": "Documents not found: ['nope']", "data": None}


def test_documents_ingest_starts_and_cancels_across_datasets(api: Api) -> None:
    first, second = make_dataset(api, "one"), make_dataset(api, "two")
    [a] = upload(api, first, {"a.txt": TEXT})
    [b] = upload(api, second, {"b.txt": b"Bravo text."})
    assert api.call("POST", "/api/v1/documents/ingest", json={"doc_ids": [a["id"], b["id"]], "run": "1"}) == {"code": 0, "data": True}
    assert wait_done(api, first, a["id"])["chunk_count"] >= 1 and wait_done(api, second, b["id"])["run"] == "DONE"
    not_running = api.call("POST", "/api/v1/documents/ingest", json={"doc_ids": [a["id"]], "run": "2"})
    assert not_running == {"code": 102, "message": "Cannot cancel a task that is not in RUNNING status", "data": None}
    foreign = api.call("POST", "/api/v1/documents/ingest", json={"doc_ids": [a["id"]], "run": "1"}, key=api.new_tenant_key())
    unknown = api.call("POST", "/api/v1/documents/ingest", json={"doc_ids": [a["id"], uuid.uuid4().hex], "run": "1"})
    assert foreign == unknown == {"code": 109, "message": "no authorization", "data": None}
    assert get_doc(api, first, a["id"])["run"] == "DONE"  # the refused request started nothing
    assert api.call("POST", "/api/v1/documents/ingest", json={"doc_ids": [a["id"]], "run": "7"})["code"] == 101
    assert api.call("POST", "/api/v1/documents/ingest", json={"run": "1"})["code"] == 101
