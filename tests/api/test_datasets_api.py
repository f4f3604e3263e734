"""Datasets over HTTP: every endpoint, the validation rules, tenancy."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import Api


def create(api: Api, payload: object, **kw: object) -> dict:  # type: ignore[type-arg]
    return api.call("POST", "/api/v1/datasets", json=payload, **kw)


def test_create_returns_ragflow_shape(api: Api) -> None:
    res = create(api, {"name": "RAGFlow example"})
    assert res["code"] == 0, res
    data = res["data"]
    assert len(data["id"]) == 32 and int(data["id"], 16) >= 0
    assert data["name"] == "RAGFlow example"
    assert data["chunk_method"] == "naive"
    assert data["permission"] == "me"
    assert data["avatar"] is None and data["description"] is None
    assert data["chunk_count"] == 0 and data["document_count"] == 0 and data["token_num"] == 0
    assert data["similarity_threshold"] == 0.2 and data["vector_similarity_weight"] == 0.3
    assert data["parser_config"]["chunk_token_num"] == 512
    # RAGFlow's get_parser_config defaults for "naive", and the tenant's default chat model (none configured here)
    config = data["parser_config"]
    assert config["raptor"]["use_raptor"] is True and config["raptor"]["max_token"] == 512
    assert config["raptor"]["prompt"].startswith("Summarize the paragraphs below")
    assert config["graphrag"]["use_graphrag"] is True and config["graphrag"]["method"] == "light"
    assert config["parent_child"] == {"use_parent_child": False, "children_delimiter": "\n"}
    assert config["children_delimiter"] == "" and config["llm_id"] == ""
    assert config["table_context_size"] == 0 and config["image_context_size"] == 0
    assert data["tenant_id"] == api.tenant
    assert data["create_date"].endswith("GMT")


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"name": ""}, "String should have at least 1 character"),
        ({"name": " "}, "String should have at least 1 character"),
        ({"name": "a" * 129}, "String should have at most 128 characters"),
        ({"name": 0}, "Input should be a valid string"),
        ({"name": None}, "Input should be a valid string"),
        ({"name": "x", "permission": "ME"}, "Input should be 'me' or 'team'"),
        ({"name": "x", "chunk_method": "unknown"}, "Input should be 'naive', 'book'"),
        ({"name": "x", "parser_config": {"chunk_token_num": 0}}, "Input should be greater than or equal to 1"),
        ({"name": "x", "parser_config": {"auto_keywords": 3.14}}, "Input should be a valid integer"),
        ({"name": "x", "embedding_model": "no-at-sign"}, "must follow <model_name>@<provider> format"),
        ({"name": "x", "avatar": "a" * 65536}, "String should have at most 65535 characters"),
        ({"name": "x", "id": "abc"}, "Extra inputs are not permitted"),
    ],
)
def test_create_validation(api: Api, payload: dict, message: str) -> None:  # type: ignore[type-arg]
    res = create(api, payload)
    assert res["code"] == 101, res
    assert message in res["message"], res
    assert api.call("GET", "/api/v1/datasets")["data"] == []


def test_bad_bodies(api: Api) -> None:
    r = api.client.post("/api/v1/datasets", content=b"a", headers={**api.headers(), "Content-Type": "application/json"})
    assert r.json() == {"code": 101, "message": "Malformed JSON syntax: Missing commas/brackets or invalid encoding", "data": None}
    r = api.client.post("/api/v1/datasets", content=b'"a"', headers={**api.headers(), "Content-Type": "application/json"})
    assert r.json()["message"] == "Invalid request payload: expected object, got str"
    r = api.client.post("/api/v1/datasets", content=b"<x/>", headers={**api.headers(), "Content-Type": "text/xml"})
    assert r.json()["message"] == "Unsupported content type: Expected application/json, got text/xml"
    # a dataset write without a body is malformed, never "delete nothing" or "change nothing" silently
    kept = create(api, {"name": "kept"})["data"]["id"]
    malformed = {"code": 101, "message": "Malformed JSON syntax: Missing commas/brackets or invalid encoding", "data": None}
    json_headers = {**api.headers(), "Content-Type": "application/json"}
    assert api.client.request("DELETE", "/api/v1/datasets", headers=json_headers).json() == malformed
    assert api.client.put(f"/api/v1/datasets/{kept}", headers=json_headers).json() == malformed
    xml = api.client.request("DELETE", "/api/v1/datasets", headers={**api.headers(), "Content-Type": "text/xml"}).json()
    assert xml["message"] == "Unsupported content type: Expected application/json, got text/xml"
    assert [d["id"] for d in api.call("GET", "/api/v1/datasets")["data"]] == [kept]


def test_duplicate_names_get_a_suffix_case_insensitively(api: Api) -> None:
    assert create(api, {"name": "Docs"})["data"]["name"] == "Docs"
    assert create(api, {"name": "docs"})["data"]["name"] == "docs(1)"
    assert create(api, {"name": "DOCS"})["data"]["name"] == "DOCS(2)"


def test_list_paging_ordering_and_filters(api: Api) -> None:
    ids = [create(api, {"name": f"dataset_{i}"})["data"]["id"] for i in range(5)]
    res = api.call("GET", "/api/v1/datasets")
    assert res["total_datasets"] == 5
    assert [d["id"] for d in res["data"]] == ids[::-1]  # newest first
    res = api.call("GET", "/api/v1/datasets", params={"desc": "false", "page": 2, "page_size": 2})
    assert [d["id"] for d in res["data"]] == ids[2:4]
    assert api.call("GET", "/api/v1/datasets", params={"name": "dataset_1"})["data"][0]["id"] == ids[1]
    assert api.call("GET", "/api/v1/datasets", params={"id": ids[3]})["data"][0]["name"] == "dataset_3"
    bad = api.call("GET", "/api/v1/datasets", params={"page": 0})
    assert bad["code"] == 101 and "greater than or equal to 1" in bad["message"]
    bad = api.call("GET", "/api/v1/datasets", params={"page_size": "a"})
    assert bad["code"] == 101 and "valid integer" in bad["message"]
    bad = api.call("GET", "/api/v1/datasets", params={"orderby": "name"})
    assert "Input should be 'create_time' or 'update_time'" in bad["message"]
    assert api.call("GET", "/api/v1/datasets", params={"id": "not_uuid"})["message"] == (
        "Field: <id> - Message: <Invalid UUID format> - Value: <not_uuid>")
    missing = api.call("GET", "/api/v1/datasets", params={"id": uuid.uuid4().hex})
    assert missing["code"] == 102 and "lacks permission for dataset" in missing["message"]
    assert api.call("GET", "/api/v1/datasets", params={"unknown_field": "x"})["code"] == 101


def test_update_and_get(api: Api) -> None:
    ds = create(api, {"name": "before"})["data"]
    res = api.call("PUT", f"/api/v1/datasets/{ds['id']}", json={"name": "after", "description": "d", "chunk_method": "qa"})
    assert res["code"] == 0, res
    got = api.call("GET", f"/api/v1/datasets/{ds['id']}")["data"]
    assert (got["name"], got["description"], got["chunk_method"]) == ("after", "d", "qa")
    assert got["update_time"] >= ds["update_time"]
    other = create(api, {"name": "taken"})["data"]
    clash = api.call("PUT", f"/api/v1/datasets/{other['id']}", json={"name": "AFTER"})
    assert clash == {"code": 102, "message": "Dataset name 'AFTER' already exists", "data": None}
    assert api.call("PUT", f"/api/v1/datasets/{ds['id']}", json={})["message"] == "no properties were modified"
    bad = api.call("PUT", f"/api/v1/datasets/{ds['id']}", json={"permission": "everyone"})
    assert bad["code"] == 101
    nulls = [api.call("PUT", f"/api/v1/datasets/{ds['id']}", json={field: None}) for field in ("permission", "pagerank")]
    assert [r["code"] for r in nulls] == [101, 101]
    assert "Input should be 'me' or 'team'" in nulls[0]["message"] and "Input should be a valid integer" in nulls[1]["message"]
    assert api.call("PUT", f"/api/v1/datasets/{ds['id']}", json={"pagerank": 7})["data"]["pagerank"] == 7
    # the old name is free again
    assert create(api, {"name": "before"})["data"]["name"] == "before"


def test_delete(api: Api) -> None:
    ids = [create(api, {"name": f"d{i}"})["data"]["id"] for i in range(3)]
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": []}) == {"code": 0, "data": {"success_count": 0}}
    partial = api.call("DELETE", "/api/v1/datasets", json={"ids": [ids[0], uuid.uuid4().hex]})
    assert partial["code"] == 102 and "lacks permission for datasets" in partial["message"]
    assert len(api.call("GET", "/api/v1/datasets")["data"]) == 3  # nothing changed
    dup = api.call("DELETE", "/api/v1/datasets", json={"ids": [ids[0], ids[0]]})
    assert dup["code"] == 101 and "Duplicate ids:" in dup["message"]
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": [ids[0]]}) == {"code": 0, "data": {"success_count": 1}}
    assert len(api.call("GET", "/api/v1/datasets")["data"]) == 2
    assert api.call("DELETE", "/api/v1/datasets", json={"delete_all": True}) == {"code": 0, "data": {"success_count": 2}}
    assert api.call("GET", "/api/v1/datasets")["data"] == []


@pytest.mark.parametrize("key", [None, "", "Bearer", "invalid_key_123"])
def test_bad_keys_get_ragflow_401(api: Api, key: str | None) -> None:
    headers = {} if key is None else {"Authorization": key if key.startswith("Bearer") else f"Bearer {key}"}
    r = api.client.get("/api/v1/datasets", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}


def test_tenants_are_isolated(api: Api) -> None:
    mine = create(api, {"name": "private"})["data"]
    other = api.new_tenant_key()
    assert api.call("GET", "/api/v1/datasets", key=other)["data"] == []
    foreign = api.call("GET", f"/api/v1/datasets/{mine['id']}", key=other)
    unknown = api.call("GET", f"/api/v1/datasets/{uuid.uuid4().hex}", key=other)
    assert foreign["code"] == unknown["code"] == 102
    assert api.call("PUT", f"/api/v1/datasets/{mine['id']}", key=other, json={"name": "stolen"})["code"] == 102
    assert api.call("DELETE", "/api/v1/datasets", key=other, json={"ids": [mine["id"]]})["code"] == 102
    assert api.call("DELETE", "/api/v1/datasets", key=other, json={"delete_all": True}) == {"code": 0, "data": {"success_count": 0}}
    # the same name is free in the other tenant
    assert create(api, {"name": "private"}, key=other)["data"]["name"] == "private"
    assert api.call("GET", f"/api/v1/datasets/{mine['id']}")["data"]["name"] == "private"


def test_healthz_needs_no_key(api: Api) -> None:
    assert api.client.get("/api/v1/system/healthz").json()["code"] == 0
    assert api.client.get("/v1/system/healthz").json()["code"] == 0


def test_ping_answers_the_bare_text_pong_without_a_key(api: Api) -> None:
    reply = api.client.get("/api/v1/system/ping")
    assert (reply.status_code, reply.text) == (200, "pong")  # RAGFlow's handler returns "pong", no envelope
    assert reply.headers["content-type"].startswith("text/plain")


def test_parser_config_updates_follow_ragflow(api: Api) -> None:
    ds = create(api, {"name": "configs"})["data"]
    url = f"/api/v1/datasets/{ds['id']}"

    def config() -> dict:  # type: ignore[type-arg]
        return api.call("GET", "/api/v1/datasets", params={"id": ds["id"]})["data"][0]["parser_config"]

    assert api.call("PUT", url, json={"parser_config": {"chunk_token_num": 128, "raptor": {"max_cluster": 8}}})["code"] == 0
    merged = config()  # merged into the stored config: the rest of it stays
    assert merged["chunk_token_num"] == 128 and merged["raptor"]["max_cluster"] == 8 and merged["raptor"]["use_raptor"] is True
    assert merged["layout_recognize"] == "DeepDOC"
    assert api.call("PUT", url, json={"parser_config": {}})["code"] == 0
    assert config() == merged  # an empty config on the same method changes nothing
    assert api.call("PUT", url, json={"chunk_method": "qa", "parser_config": {}})["code"] == 0
    assert config() == {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False},
                        "table_context_size": 0, "image_context_size": 0}  # a new method: its own defaults


def test_a_sent_parser_config_gets_raptor_and_graphrag_off_unless_turned_on(api: Api) -> None:
    # RAGFlow's create validation fills the sent config's raptor/graphrag with their (off) defaults
    config = create(api, {"name": "partial", "parser_config": {"chunk_token_num": 1024}})["data"]["parser_config"]
    assert config["chunk_token_num"] == 1024 and config["layout_recognize"] == "DeepDOC"
    assert config["raptor"]["use_raptor"] is False and config["raptor"]["max_token"] == 512
    assert config["graphrag"]["use_graphrag"] is False and config["graphrag"]["method"] == "light"
    only = create(api, {"name": "raptor", "parser_config": {"raptor": {"use_raptor": True}}})["data"]["parser_config"]
    assert only["raptor"]["use_raptor"] is True and only["graphrag"]["use_graphrag"] is False
    unset = create(api, {"name": "unset"})["data"]["parser_config"]
    assert unset["raptor"]["use_raptor"] is True and unset["graphrag"]["use_graphrag"] is True  # get_parser_config's
