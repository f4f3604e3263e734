"""Dataset-level tools RAGFlow serves beside the reference: search (retrieval test), chunk tags, ingestion logs
and summary."""

from __future__ import annotations

import uuid

from tests.api.docs_helpers import eventually, ingest, make_dataset, parse, stored, upload, wait_done
from tests.conftest import Api


def add_chunk(api: Api, ds: str, doc: str, content: str, tags: list[str]) -> str:
    res = api.call("POST", f"/api/v1/datasets/{ds}/documents/{doc}/chunks", json={"content": content, "tag_kwd": tags})
    assert res["code"] == 0, res
    return str(res["data"]["chunk"]["id"])


def test_tags_list_aggregate_rename_delete(api: Api) -> None:
    ds, other = make_dataset(api, "tags-a"), make_dataset(api, "tags-b")
    [doc] = upload(api, ds, {"a.txt": b"x"})
    [doc_b] = upload(api, other, {"b.txt": b"y"})
    add_chunk(api, ds, doc["id"], "Lisbon trams climb steep hills.", ["travel", "portugal"])
    add_chunk(api, ds, doc["id"], "Porto is famous for its wine.", ["travel"])
    add_chunk(api, other, doc_b["id"], "Kyoto temples in autumn.", ["travel", "japan"])
    assert api.call("GET", f"/api/v1/datasets/{ds}/tags") == {"code": 0, "data": [["travel", 2], ["portugal", 1]]}
    agg = api.call("GET", "/api/v1/datasets/tags/aggregation", params={"dataset_ids": f"{ds},{other}"})["data"]
    assert {a["value"]: a["count"] for a in agg} == {"travel": 3, "portugal": 1, "japan": 1}
    assert api.call("GET", "/api/v1/datasets/tags/aggregation")["message"] == "Lack of dataset_ids in query parameters"
    missing = uuid.uuid4().hex
    assert api.call("GET", "/api/v1/datasets/tags/aggregation", params={"dataset_ids": missing})["message"] == \
        f"No authorization for dataset '{missing}'"

    assert api.call("PUT", f"/api/v1/datasets/{ds}/tags", json={"from_tag": "portugal", "to_tag": "lusitania"}) == {
        "code": 0, "data": {"from": "portugal", "to": "lusitania"}}
    assert api.call("PUT", f"/api/v1/datasets/{ds}/tags", json={"from_tag": "", "to_tag": ""})["code"] == 101
    assert api.call("PUT", f"/api/v1/datasets/{ds}/tags", json={"from_tag": "a"})["message"] == "Lack of from_tag or to_tag in request body"
    # a tag is searchable text: the new name is found, the old one is not
    found = api.call("POST", "/api/v1/retrieval", json={"question": "lusitania", "dataset_ids": [ds], "similarity_threshold": 0.0,
                                                          "vector_similarity_weight": 0.0})["data"]["chunks"]
    assert found and "Lisbon" in found[0]["content"] and found[0]["tag_kwd"] == ["travel", "lusitania"]
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/tags", json={"tags": ["travel"]}) == {"code": 0, "data": {}}
    assert api.call("GET", f"/api/v1/datasets/{ds}/tags")["data"] == [["lusitania", 1]]
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/tags", json={"tags": [1]})["message"] == "tags must be a list of strings"
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/tags", json={"tags": []}) == {"code": 0, "data": {}}
    assert sorted(api.call("GET", f"/api/v1/datasets/{other}/tags")["data"]) == [["japan", 1], ["travel", 1]]  # untouched
    intruder = api.new_tenant_key()
    for method, path, body in [("GET", f"/api/v1/datasets/{ds}/tags", None),
                               ("PUT", f"/api/v1/datasets/{ds}/tags", {"from_tag": "lusitania", "to_tag": "x"}),
                               ("DELETE", f"/api/v1/datasets/{ds}/tags", {"tags": ["lusitania"]})]:
        assert api.call(method, path, key=intruder, json=body) == {"code": 102, "message": "no authorization", "data": None}
    assert api.call("GET", f"/api/v1/datasets/{ds}/tags")["data"] == [["lusitania", 1]]


def test_dataset_search(api: Api) -> None:
    ds = make_dataset(api, "search-kb")
    docs = ingest(api, ds, {"lakes.txt": b"Lake Baikal is the deepest lake on Earth.\n", "rivers.txt": b"The Danube flows through ten countries.\n"})
    res = api.call("POST", f"/api/v1/datasets/{ds}/search", json={"question": "deepest lake"})
    assert res["code"] == 0 and "Baikal" in res["data"]["chunks"][0]["content"] and res["data"]["total"] >= 1
    rivers = next(d["id"] for d in docs if d["name"] == "rivers.txt")
    scoped = api.call("POST", f"/api/v1/datasets/{ds}/search", json={"question": "deepest lake", "doc_ids": [rivers]})["data"]
    assert {c["document_id"] for c in scoped["chunks"]} <= {rivers}
    paged = api.call("POST", "/api/v1/datasets/search", json={"question": "lake river", "dataset_ids": [ds], "page": 1, "size": 1})["data"]
    assert len(paged["chunks"]) == 1
    assert api.call("POST", f"/api/v1/datasets/{ds}/search", json={})["code"] == 101
    assert api.call("POST", f"/api/v1/datasets/{ds}/search", json={"question": "x", "similarity_threshold": 2})["code"] == 101
    missing = uuid.uuid4().hex
    assert api.call("POST", f"/api/v1/datasets/{missing}/search", json={"question": "x"}) == {
        "code": 102, "message": f"Only owner of dataset {missing} authorized for this operation.", "data": None}


def test_ingestion_logs_and_summary(api: Api) -> None:
    ds = make_dataset(api, "logs-kb")
    [good, bad] = upload(api, ds, {"good.txt": b"Some text worth parsing.\n", "bad.pdf": b"%PDF-1.4 broken"})
    parse(api, ds, [good["id"], bad["id"]])
    wait_done(api, ds, good["id"])
    wait_done(api, ds, bad["id"])
    summary = api.call("GET", f"/api/v1/datasets/{ds}/ingestions/summary")["data"]
    assert summary["doc_num"] == 2 and summary["chunk_num"] >= 1 and summary["token_num"] >= 1
    assert summary["status"]["done_count"] == 1 and summary["status"]["fail_count"] == 1
    assert api.call("GET", f"/api/v1/datasets/{ds}/ingestions")["data"] == {"total": 0, "logs": []}  # no dataset-level run yet
    files = api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "file"})["data"]
    assert files["total"] == 2
    by_doc = {log["document_id"]: log for log in files["logs"]}
    assert by_doc[good["id"]]["operation_status"] == "3" and by_doc[bad["id"]]["operation_status"] == "4"
    assert by_doc[good["id"]]["document_name"] == "good.txt" and by_doc[good["id"]]["task_type"] == "Parse"
    failed = api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "file", "operation_status": "FAIL"})["data"]
    assert [log["document_id"] for log in failed["logs"]] == [bad["id"]]
    one = api.call("GET", f"/api/v1/datasets/{ds}/ingestions/{by_doc[bad['id']]['id']}")["data"]
    assert one["id"] == by_doc[bad["id"]]["id"] and "ERROR" in one["progress_msg"]
    assert api.call("GET", f"/api/v1/datasets/{ds}/ingestions/nope") == {"code": 102, "message": "Log not found", "data": None}
    assert api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "x"})["code"] == 102
    backwards = {"create_date_from": "2025-02-01", "create_date_to": "2025-01-01"}
    assert api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params=backwards)["code"] == 101
    intruder = api.new_tenant_key()
    assert api.call("GET", f"/api/v1/datasets/{ds}/ingestions", key=intruder)["code"] == 102
    assert api.call("GET", f"/api/v1/datasets/{ds}/ingestions/summary", key=intruder)["code"] == 102
    api.call("DELETE", "/api/v1/datasets", json={"ids": [ds]})
    from ragcore.services.knowledge.ingestion_logs import KIND

    eventually(lambda: stored(KIND, api.tenant, ds) == 0)  # the logs went with the dataset
