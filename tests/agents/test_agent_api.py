"""Agents and agent sessions over HTTP: CRUD with RAGFlow's messages, DSL validation naming the component at fault,
sessions with the Begin prologue, run logs, and tenancy."""

from __future__ import annotations

import uuid

import pytest

from tests.agents.helpers import ECHO, ask, create_agent, dsl, node
from tests.conftest import Api


def test_agent_crud(api: Api) -> None:
    agent_id = create_agent(api, "Echo", dsl(ECHO))
    listed = api.call("GET", "/api/v1/agents", params={"title": "echo"})["data"]
    assert listed["total"] == 1 and listed["canvas"][0]["id"] == agent_id and listed["canvas"][0]["dsl"]["components"]["begin"]
    assert api.call("GET", "/api/v1/agents", params={"title": "missing"})["data"] == {"canvas": [], "total": 0}
    assert api.call("GET", f"/api/v1/agents/{agent_id}")["data"]["title"] == "Echo"
    res = api.call("POST", "/api/v1/agents", json={"title": " echo ", "dsl": dsl(ECHO)})
    assert res == {"code": 102, "message": "echo already exists.", "data": None}
    res = api.call("PUT", f"/api/v1/agents/{agent_id}", json={"title": "Echo 2", "description": "says it back"})
    assert res["code"] == 0 and "update_time" in res["data"]
    assert api.call("GET", f"/api/v1/agents/{agent_id}")["data"]["description"] == "says it back"
    create_agent(api, "Echo", dsl(ECHO))  # the old title is free again
    page = api.call("GET", "/api/v1/agents", params={"page": 1, "page_size": 1, "orderby": "create_time", "desc": "false"})["data"]
    assert page["total"] == 2 and [a["title"] for a in page["canvas"]] == ["Echo 2"]
    assert api.call("DELETE", f"/api/v1/agents/{agent_id}") == {"code": 0, "message": "success", "data": True}
    assert api.call("GET", f"/api/v1/agents/{agent_id}") == {"code": 102, "message": "canvas not found.", "data": None}


@pytest.mark.parametrize(("body", "message"), [
    ({"title": "x"}, "No DSL data in request."),
    ({"dsl": dsl(ECHO)}, "No title in request."),
    ({"title": "x", "dsl": {"components": {}}}, "The DSL has no components."),
    ({"title": "x", "dsl": dsl({"m": node("Message", {"content": ["hi"]})})}, "The DSL has no Begin component."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["ghost"])})}, "Component 'begin' links to 'ghost', which does not exist."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["w"]), "w": node("Wizard")})}, "Component 'w' has an unknown type 'Wizard'."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["c"]), "c": node("Code", {"script": "print(1)"})})},
     "Component 'c' runs code (Code); code execution needs a sandbox, and none is configured."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["a"]), "a": node("Message", {"content": ["x"]}, to=["b"]),
                                "b": node("Message", {"content": ["y"]}, to=["a"])})},
     "Components 'a' → 'b' → 'a' form a cycle; repeat steps with a Loop component instead."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["m"]), "m": node("Message", {"content": ["{llm:0@content}"]})})},
     "Component 'm' refers to '{llm:0@content}', but there is no component 'llm:0'."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["it"]), "it": node("Iteration", {"items_ref": "sys.query"})})},
     "Iteration 'it' needs exactly one IterationItem component inside it."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["s"]), "s": node("Switch", {"conditions": [{"to": ["nowhere"]}]})})},
     "Component 's' links to 'nowhere', which does not exist."),
    ({"title": "x", "dsl": dsl({"begin": node("Begin", to=["t"]), "t": node("TavilySearch")})},
     "Component 't' is a TavilySearch, which ragflow-serverless does not run."),
    ({"title": 7, "dsl": dsl(ECHO)}, "`title` should be a string."),
])
def test_invalid_agents_are_refused_and_nothing_is_saved(api: Api, body: dict, message: str) -> None:  # type: ignore[type-arg]
    assert api.call("POST", "/api/v1/agents", json=body) == {"code": 101, "message": message, "data": None}
    assert api.call("GET", "/api/v1/agents")["data"]["total"] == 0


def test_an_update_with_a_bad_dsl_changes_nothing(api: Api) -> None:
    agent_id = create_agent(api, "Echo", dsl(ECHO))
    bad = dsl({"begin": node("Begin", to=["x"])})
    assert api.call("PUT", f"/api/v1/agents/{agent_id}", json={"dsl": bad, "title": "renamed"})["code"] == 101
    agent = api.call("GET", f"/api/v1/agents/{agent_id}")["data"]
    assert agent["title"] == "Echo" and "message" in agent["dsl"]["components"]


def test_sessions(api: Api) -> None:
    flow = dsl({"begin": node("Begin", {"prologue": "Welcome!", "inputs": {"lang": {"name": "lang", "type": "line", "optional": True}}},
                              to=["m"]),
                "m": node("Message", {"content": ["[{begin@lang}] {sys.query}"]})})
    agent_id = create_agent(api, "Greeter", flow)
    session = api.call("POST", f"/api/v1/agents/{agent_id}/sessions", params={"user_id": "u1"}, json={"lang": "pt"})["data"]
    assert session["message"] == [{"role": "assistant", "content": "Welcome!"}]
    assert session["agent_id"] == agent_id and session["source"] == "agent" and session["user_id"] == "u1"
    answer = ask(api, agent_id, "olá", session_id=session["id"])
    assert answer["data"]["content"] == "[pt] olá" and answer["session_id"] == session["id"]
    assert ask(api, agent_id, "hi", session_id=session["id"], inputs={"lang": {"type": "line", "value": "en"}})["data"]["content"] == "[en] hi"
    stored = api.call("GET", f"/api/v1/agents/{agent_id}/sessions/{session['id']}")["data"]
    assert [m["content"] for m in stored["message"]] == ["Welcome!", "olá", "[pt] olá", "hi", "[en] hi"]
    listed = api.call("GET", f"/api/v1/agents/{agent_id}/sessions", params={"dsl": "false", "user_id": "u1"})["data"]
    assert [s["id"] for s in listed] == [session["id"]] and "dsl" not in listed[0]
    log = api.call("GET", f"/api/v1/agents/{agent_id}/logs/{answer['message_id']}")["data"]
    assert [t["component_id"] for t in log["trace"]] == ["begin", "m"] and log["trace"][1]["outputs"]["content"] == "[pt] olá"
    assert api.call("GET", f"/api/v1/agents/{agent_id}/logs/missing")["data"] == {}
    # a completion without a session opens one
    fresh = ask(api, agent_id, "new")
    assert fresh["session_id"] != session["id"]
    assert len(api.call("GET", f"/api/v1/agents/{agent_id}/sessions")["data"]) == 2
    missing = uuid.uuid4().hex
    res = api.call("DELETE", f"/api/v1/agents/{agent_id}/sessions", json={"ids": [session["id"], missing]})
    assert res["code"] == 0 and res["data"] == {"success_count": 1, "errors": [f"The agent doesn't own the session {missing}"]}
    assert api.call("DELETE", f"/api/v1/agents/{agent_id}/sessions", json={"ids": [missing]}) == {
        "code": 102, "message": f"The agent doesn't own the session {missing}", "data": None}
    assert api.call("DELETE", f"/api/v1/agents/{agent_id}/sessions", json={"delete_all": True})["code"] == 0
    assert api.call("GET", f"/api/v1/agents/{agent_id}/sessions")["data"] == []


def test_completion_errors(api: Api) -> None:
    agent_id = create_agent(api, "Echo", dsl(ECHO))
    other_agent = create_agent(api, "Other", dsl(ECHO))
    session = api.call("POST", f"/api/v1/agents/{other_agent}/sessions", json={})["data"]
    url = "/api/v1/agents/chat/completions"
    assert api.call("POST", url, json={"query": "x"}) == {"code": 101, "message": "`agent_id` is required.", "data": None}
    assert api.call("POST", url, json={"agent_id": agent_id, "query": "x", "session_id": "nope"})["message"] == "Session not found!"
    assert api.call("POST", url, json={"agent_id": agent_id, "query": "x", "session_id": session["id"]}) == {
        "code": 103, "message": "Session does not belong to the requested agent.", "data": None}
    assert api.call("POST", url, json={"agent_id": agent_id, "openai-compatible": True, "messages": []}) == {
        "code": 102, "message": "You must provide at least one message.", "data": None}
    res = api.client.post(url, headers=api.headers(), content=b"{not json")
    assert res.status_code == 200 and res.json()["code"] == 101


def test_another_tenants_agent_answers_like_a_missing_one(api: Api) -> None:
    agent_id = create_agent(api, "Private", dsl(ECHO))
    other = api.new_tenant_key()
    for method, path, body in [("GET", "/api/v1/agents/{}", None), ("PUT", "/api/v1/agents/{}", {"title": "mine"}),
                               ("DELETE", "/api/v1/agents/{}", None), ("GET", "/api/v1/agents/{}/sessions", None),
                               ("POST", "/api/v1/agents/{}/sessions", {}),
                               ("POST", "/api/v1/agents/{}/completions", {"query": "leak?", "stream": False})]:
        foreign = api.call(method, path.format(agent_id), key=other, json=body)
        absent = api.call(method, path.format(uuid.uuid4().hex), key=other, json=body)
        assert foreign == absent and foreign["code"] != 0, (method, path, foreign)
    assert api.call("GET", "/api/v1/agents", key=other)["data"]["total"] == 0
    assert api.call("GET", f"/api/v1/agents/{agent_id}")["data"]["title"] == "Private"
