"""Memories over HTTP and through ragflow-sdk's client calls: create, list, config, update, messages, search,
recent, forget, status, content, size limit, tenancy."""

from __future__ import annotations

import uuid

from tests.conftest import Api

NEW = {"memory_type": ["raw", "semantic", "procedural"], "embd_id": "all-MiniLM-L6-v2@Builtin", "llm_id": "extractive@Builtin"}


def make(api: Api, name: str = "assistant memory", key: str | None = None) -> dict:  # type: ignore[type-arg]
    res = api.call("POST", "/api/v1/memories", json={"name": name, **NEW}, key=key)
    assert res["code"] == 0, res
    return dict(res["data"])


def test_memory_crud_and_validation(api: Api) -> None:
    memory = make(api)
    assert memory["memory_type"] == ["raw", "semantic", "procedural"] and memory["memory_size"] == 5 * 1024 * 1024
    assert make(api)["name"] == "assistant memory(1)"
    for body, message in [
        ({"name": " ", **NEW}, "Memory name cannot be empty or whitespace."),
        ({"name": "x", **NEW, "memory_type": ["something"]}, "Memory type '{'something'}' is not supported."),
        ({"name": "x", **NEW, "embd_id": "no-provider"}, "`embd_id` must follow <model_name>@<provider> format."),
        ({"name": "a" * 129, **NEW}, f"Memory name '{'a' * 129}' exceeds limit of 128."),
    ]:
        assert api.call("POST", "/api/v1/memories", json=body)["message"] == message
    listed = api.call("GET", "/api/v1/memories", params={"keywords": "(1)"})["data"]
    assert listed["total_count"] == 1
    updated = api.call("PUT", f"/api/v1/memories/{memory['id']}", json={"name": "renamed", "temperature": 0.2, "memory_size": 4096})
    assert updated["code"] == 0 and updated["data"]["name"] == "renamed"
    second = api.call("GET", "/api/v1/memories", params={"keywords": "(1)"})["data"]["memory_list"][0]
    clash = api.call("PUT", f"/api/v1/memories/{second['id']}", json={"name": "renamed"})["data"]
    assert clash["name"] == "renamed(1)"  # a taken name gets a suffix, as on create
    too_long = api.call("PUT", f"/api/v1/memories/{second['id']}", json={"name": "b" * 129})
    assert too_long["message"] == f"Memory name '{'b' * 129}' exceeds limit of 128."
    assert api.call("GET", f"/api/v1/memories/{memory['id']}/config")["data"]["temperature"] == 0.2
    assert api.call("PUT", f"/api/v1/memories/{memory['id']}", json={"temperature": 3})["code"] == 101
    too_big = api.call("PUT", f"/api/v1/memories/{memory['id']}", json={"memory_size": 10 * 1024 * 1024 + 1})
    assert too_big["message"] == "`memory_size` should be an integer between 1 and 10485760."  # MAX_MEMORY_BYTES
    assert api.call("GET", f"/api/v1/memories/{memory['id']}/config")["data"]["memory_size"] == 4096
    other = api.new_tenant_key()
    assert api.call("GET", f"/api/v1/memories/{memory['id']}/config", key=other) == api.call(
        "GET", f"/api/v1/memories/{uuid.uuid4().hex}/config", key=other) | {"message": api.call(
            "GET", f"/api/v1/memories/{memory['id']}/config", key=other)["message"]}
    assert api.call("GET", f"/api/v1/memories/{memory['id']}/config", key=other)["code"] == 404
    assert api.call("DELETE", f"/api/v1/memories/{memory['id']}")["code"] == 0
    assert api.call("GET", f"/api/v1/memories/{memory['id']}/config")["code"] == 404


def test_messages_search_forget_and_status(api: Api) -> None:
    memory = make(api)
    mid = memory["id"]
    turns = [
        ("My favourite colour is green.", "Noted: you like green."),
        ("How do I reset my router?", "First unplug it. Then wait ten seconds and plug it back in."),
        ("I live in Lisbon.", "Lisbon is a sunny city."),
    ]
    for n, (user, agent) in enumerate(turns):
        res = api.call("POST", "/api/v1/messages", json={"memory_id": [mid], "agent_id": "agent-1", "session_id": f"s{n}",
                                                          "user_input": user, "agent_response": agent})
        assert res == {"code": 0, "message": "All add to task.", "data": None}
    listing = api.call("GET", f"/api/v1/memories/{mid}")["data"]["messages"]
    assert listing["total_count"] == 3
    router = next(m for m in listing["message_list"] if m["session_id"] == "s1")
    assert {e["message_type"] for e in router["extract"]} >= {"procedural"}
    found = api.call("GET", "/api/v1/messages/search", params={"query": "where does the user live", "memory_id": mid})["data"]
    assert "Lisbon" in found[0]["content"]
    lisbon = found[0]
    recent = api.call("GET", "/api/v1/messages", params={"memory_id": mid, "limit": 2})["data"]
    assert len(recent) == 2
    key = f"{mid}:{lisbon['message_id']}"
    live = api.call("GET", f"/api/v1/messages/{key}/content")["data"]
    assert "Lisbon" in live["content"] and len(live["content_embed"]) == 384  # the builtin model's vector
    assert api.call("PUT", f"/api/v1/messages/{key}", json={"status": False})["code"] == 0
    again = api.call("GET", "/api/v1/messages/search", params={"query": "Lisbon", "memory_id": mid})["data"]
    assert all(m["message_id"] != lisbon["message_id"] for m in again)
    assert api.call("DELETE", f"/api/v1/messages/{key}")["code"] == 0
    content = api.call("GET", f"/api/v1/messages/{key}/content")["data"]
    assert content["forget_at"] not in ("None", "", "-") and "Lisbon" in content["content"]
    assert api.call("PUT", f"/api/v1/messages/{key}", json={"status": True})["code"] == 102  # forgotten for good
    for _ in range(2):
        again = api.call("GET", "/api/v1/messages/search", params={"query": "Lisbon city", "memory_id": mid, "similarity_threshold": 0})["data"]
        assert all(m["message_id"] != lisbon["message_id"] for m in again)
    assert api.call("GET", f"/api/v1/messages/{mid}:9999/content")["code"] == 404


def test_size_limit_forgets_oldest_first(api: Api) -> None:
    memory = make(api, "small")
    api.call("PUT", f"/api/v1/memories/{memory['id']}", json={"memory_size": 8000, "name": "small"})
    for n in range(4):
        api.call("POST", "/api/v1/messages", json={"memory_id": [memory["id"]], "agent_id": "a", "session_id": str(n),
                                                   "user_input": f"Message number {n} about topic {n}.", "agent_response": "ok"})
    kept = api.call("GET", f"/api/v1/memories/{memory['id']}")["data"]["messages"]["message_list"]
    assert kept and kept[0]["session_id"] == "3" and all(m["session_id"] != "0" for m in kept)
