"""Search apps: CRUD under /api/v1/searches and the streamed answer of /searches/{id}/completions."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api


def frames(api: Api, path: str, body: dict[str, Any], key: str | None = None) -> list[Any]:
    with api.client.stream("POST", path, json=body, headers=api.headers(key)) as res:
        assert res.status_code == 200
        if not res.headers["content-type"].startswith("text/event-stream"):
            return [json.loads(res.read())]
        return [json.loads(line[5:]) for line in res.iter_lines() if line.startswith("data:")]


def test_search_app_crud(api: Api) -> None:
    created = api.call("POST", "/api/v1/searches", json={"name": " my_search_app ", "description": "first"})
    assert created["code"] == 0
    search_id = created["data"]["search_id"]
    again = api.call("POST", "/api/v1/searches", json={"name": "my_search_app"})["data"]["search_id"]
    assert api.call("GET", f"/api/v1/searches/{again}")["data"]["name"] == "my_search_app(1)"
    detail = api.call("GET", f"/api/v1/searches/{search_id}")["data"]
    assert detail["name"] == "my_search_app" and detail["description"] == "first" and detail["tenant_id"] == api.tenant
    assert detail["search_config"]["similarity_threshold"] == 0.2 and detail["search_config"]["top_k"] == 1024

    for body, code, message in [
        ({}, 101, "required argument are missing: name; "),
        ({"name": 3}, 102, "Search name must be string."),
        ({"name": "  "}, 102, "Search name can't be empty."),
        ({"name": "a" * 256}, 102, "Search name length is 256 which is large than 255."),
    ]:
        assert api.call("POST", "/api/v1/searches", json=body) == {"code": code, "message": message, "data": None}

    listed = api.call("GET", "/api/v1/searches", params={"keywords": "(1)"})["data"]
    assert listed["total"] == 1 and listed["search_apps"][0]["id"] == again
    assert api.call("GET", "/api/v1/searches")["data"]["total"] == 2
    assert len(api.call("GET", "/api/v1/searches", params={"page": 2, "page_size": 1})["data"]["search_apps"]) == 1
    assert api.call("GET", "/api/v1/searches", params={"owner_ids": uuid.uuid4().hex})["data"]["total"] == 0

    updated = api.call("PUT", f"/api/v1/searches/{search_id}", json={"name": "renamed", "search_config": {"top_k": 5}})["data"]
    assert updated["name"] == "renamed" and updated["search_config"]["top_k"] == 5
    assert updated["search_config"]["vector_similarity_weight"] == 0.3  # merged into what was there
    clash = api.call("PUT", f"/api/v1/searches/{search_id}", json={"name": "my_search_app(1)", "search_config": {}})
    assert clash == {"code": 102, "message": "Duplicated search name.", "data": None}
    assert api.call("PUT", f"/api/v1/searches/{search_id}", json={"name": "x"})["code"] == 101
    bad_config = api.call("PUT", f"/api/v1/searches/{search_id}", json={"name": "x", "search_config": []})
    assert bad_config["message"] == "search_config must be a JSON object"
    assert api.call("GET", f"/api/v1/searches/{search_id}")["data"]["name"] == "renamed"

    intruder = api.new_tenant_key()
    missing = uuid.uuid4().hex
    for method, body in [("GET", None), ("PUT", {"name": "y", "search_config": {}}), ("DELETE", None)]:
        foreign = api.call(method, f"/api/v1/searches/{search_id}", key=intruder, json=body)
        unknown = api.call(method, f"/api/v1/searches/{missing}", key=intruder, json=body)
        assert foreign == unknown and foreign["code"] in (103, 109)
    assert api.call("GET", "/api/v1/searches", key=intruder)["data"] == {"search_apps": [], "total": 0}

    assert api.call("DELETE", f"/api/v1/searches/{search_id}") == {"code": 0, "message": "success", "data": True}
    assert api.call("GET", f"/api/v1/searches/{search_id}")["code"] == 103
    assert api.call("POST", "/api/v1/searches", json={"name": "renamed"})["code"] == 0  # the name is free again


def test_search_completion_streams_answer_then_references(api: Api) -> None:
    ds = make_dataset(api, "facts")
    ingest(api, ds, {"moon.txt": b"The Moon orbits the Earth every 27 days.\n"})
    search_id = api.call("POST", "/api/v1/searches", json={"name": "ask"})["data"]["search_id"]
    assert frames(api, f"/api/v1/searches/{search_id}/completions", {"question": "moon?"}) == [
        {"code": 102, "message": "`kb_ids` is required.", "data": None}]
    assert frames(api, f"/api/v1/searches/{search_id}/completions", {"kb_ids": [ds]})[0]["code"] == 101
    foreign_kb = frames(api, f"/api/v1/searches/{search_id}/completions", {"question": "q", "kb_ids": ["nope"]})
    assert foreign_kb == [{"code": 102, "message": "You don't own the dataset nope", "data": None}]

    got = frames(api, f"/api/v1/searches/{search_id}/completions", {"question": "How often does the Moon orbit?", "kb_ids": [ds]})
    assert got[-1] == {"code": 0, "message": "", "data": True}
    deltas, final = got[:-2], got[-2]["data"]
    assert deltas and all(f["data"]["final"] is False and f["data"]["reference"] == {} for f in deltas)
    assert "27 days" in "".join(f["data"]["answer"] for f in deltas)
    assert final["final"] is True and final["answer"] == ""
    assert final["reference"]["chunks"][0]["document_name"] == "moon.txt" and final["reference"]["doc_aggs"]

    # kb_ids saved in the app win over the request's
    api.call("PUT", f"/api/v1/searches/{search_id}", json={"name": "ask", "search_config": {"kb_ids": [ds]}})
    saved = frames(api, f"/api/v1/searches/{search_id}/completion", {"question": "Moon orbit", "kb_ids": ["ignored"]})
    assert saved[-1]["data"] is True and saved[-2]["data"]["reference"]["total"] >= 1
    intruder = api.new_tenant_key()
    assert frames(api, f"/api/v1/searches/{search_id}/completions", {"question": "q"}, key=intruder) == [
        {"code": 109, "message": "no authorization", "data": None}]


def test_question_mind_map(api: Api) -> None:
    ds = make_dataset(api, "sky", parser_config={"chunk_token_num": 12, "delimiter": "\n"})
    ingest(api, ds, {"moon.txt": b"The Moon orbits the Earth every 27 days.\nThe Moon has craters.\n",
                     "sun.txt": b"The Sun is a star at the centre of the solar system.\n"})
    tree = api.call("POST", "/api/v1/chat/mindmap", json={"question": "What orbits the Earth?", "kb_ids": [ds]})["data"]
    assert tree["id"] == "What orbits the Earth?"
    moon = next(branch for branch in tree["children"] if branch["id"] == "moon.txt")
    assert "moon" in {leaf["id"] for leaf in moon["children"]}
    assert api.call("POST", "/api/v1/chat/mindmap", json={"question": "q"}) == {
        "code": 101, "message": "required argument are missing: kb_ids; ", "data": None}
    foreign = api.call("POST", "/api/v1/chat/mindmap", json={"question": "q", "kb_ids": [ds]}, key=api.new_tenant_key())
    assert foreign["code"] == 102 and ds in foreign["message"]
    search_id = api.call("POST", "/api/v1/searches", json={"name": "saved"})["data"]["search_id"]
    api.call("PUT", f"/api/v1/searches/{search_id}", json={"name": "saved", "search_config": {"kb_ids": [ds]}})
    saved = api.call("POST", "/api/v1/chat/mindmap", json={"question": "Moon craters", "kb_ids": [], "search_id": search_id})
    assert any(branch["id"] == "moon.txt" for branch in saved["data"]["children"])
