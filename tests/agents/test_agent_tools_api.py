"""The agent routes around running: tags, the DSL's versions, reset, one component's input form and debug run,
attachments, and the database connection check — what a user sees of each, and another tenant's ids answering
like missing ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agents.helpers import ECHO, create_agent, dsl, node
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI

NO_ACCESS = {"code": 103, "message": "Make sure you have permission to access the agent.", "data": None}


@pytest.fixture
def llm_api(data_dir: Path, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LLM_BASE_URL": openai_fake.url, "LLM_MODEL": "fake-model", "LLM_API_KEY": "sk-agent"}, monkeypatch)


def _flow(text: str) -> dict[str, Any]:
    return dsl({"begin": node("Begin", to=["message"]), "message": node("Message", {"content": [text]})})


# ---- tags ------------------------------------------------------------------------------------------------
def test_tags_are_normalised_and_kept_on_the_agent(api: Api) -> None:
    agent = create_agent(api, "tagged", dsl(ECHO))
    res = api.call("PUT", f"/api/v1/agents/{agent}/tags", json={"tags": ["sales", " Sales ", "a,b", "", "x" * 80]})
    assert res == {"code": 0, "data": True}
    assert api.call("GET", f"/api/v1/agents/{agent}")["data"]["tags"] == "sales,a b," + "x" * 64
    assert api.call("PUT", f"/api/v1/agents/{agent}/tags", json={"tags": "one, two ,one"})["code"] == 0
    assert api.call("GET", f"/api/v1/agents/{agent}")["data"]["tags"] == "one,two"
    long = [f"tag{n:02d}-" + "y" * 40 for n in range(20)]
    api.call("PUT", f"/api/v1/agents/{agent}/tags", json={"tags": long})
    kept = api.call("GET", f"/api/v1/agents/{agent}")["data"]["tags"]
    assert len(kept) <= 512 and kept.split(",") == long[: len(kept.split(","))] and len(kept.split(",")) < 20


def test_tags_of_a_missing_or_foreign_agent(api: Api) -> None:
    agent = create_agent(api, "mine", dsl(ECHO))
    other = api.new_tenant_key()
    expected = {"code": 103, "message": "Agent not found or no permission.", "data": False}
    assert api.call("PUT", f"/api/v1/agents/{agent}/tags", json={"tags": "x"}, key=other) == expected
    assert api.call("PUT", "/api/v1/agents/" + "0" * 32 + "/tags", json={"tags": "x"}) == expected
    assert api.call("GET", f"/api/v1/agents/{agent}")["data"]["tags"] == ""


# ---- versions --------------------------------------------------------------------------------------------
def test_each_save_with_a_new_dsl_is_a_version_and_same_dsl_saves_refresh_the_latest(api: Api) -> None:
    agent = create_agent(api, "versioned", _flow("v1"))
    assert api.call("PUT", f"/api/v1/agents/{agent}", json={"dsl": _flow("v2")})["code"] == 0
    assert api.call("PUT", f"/api/v1/agents/{agent}", json={"dsl": _flow("v2")})["code"] == 0  # same DSL
    assert api.call("PUT", f"/api/v1/agents/{agent}", json={"title": "renamed"})["code"] == 0  # no DSL: no version
    versions = api.call("GET", f"/api/v1/agents/{agent}/versions")
    assert versions["code"] == 0 and len(versions["data"]) == 2
    newest, oldest = versions["data"]
    assert newest["update_time"] >= oldest["update_time"] and "dsl" not in newest
    assert newest["title"].startswith("test_versioned_") and newest["user_canvas_id"] == agent
    full = api.call("GET", f"/api/v1/agents/{agent}/versions/{newest['id']}")["data"]
    assert full["dsl"]["components"]["message"]["obj"]["params"]["content"] == ["v2"]
    assert api.call("GET", f"/api/v1/agents/{agent}/versions/{oldest['id']}")["data"]["dsl"]["components"]["message"]["obj"]["params"]["content"] == ["v1"]


def test_only_the_twenty_newest_unreleased_versions_stay_and_releases_are_kept(api: Api) -> None:
    agent = create_agent(api, "history", _flow("v0"))
    api.call("PUT", f"/api/v1/agents/{agent}", json={"dsl": _flow("released"), "release": True})
    for n in range(1, 23):
        assert api.call("PUT", f"/api/v1/agents/{agent}", json={"dsl": _flow(f"v{n}")})["code"] == 0
    versions = api.call("GET", f"/api/v1/agents/{agent}/versions")["data"]
    assert sum(1 for v in versions if not v["release"]) == 20 and sum(1 for v in versions if v["release"]) == 1
    texts = [api.call("GET", f"/api/v1/agents/{agent}/versions/{v['id']}")["data"]["dsl"]["components"]["message"]["obj"]["params"]["content"][0]
             for v in versions]
    assert "released" in texts and "v22" in texts and "v2" not in texts and "v0" not in texts
    assert api.call("GET", f"/api/v1/agents/{agent}")["data"]["last_publish_time"] is not None


def test_versions_of_another_agent_or_tenant_are_not_found(api: Api) -> None:
    a = create_agent(api, "a", _flow("a"))
    b = create_agent(api, "b", _flow("b"))
    [version] = api.call("GET", f"/api/v1/agents/{a}/versions")["data"]
    assert api.call("GET", f"/api/v1/agents/{b}/versions/{version['id']}") == {"code": 102, "message": "Version not found.", "data": None}
    other = api.new_tenant_key()
    assert api.call("GET", f"/api/v1/agents/{a}/versions", key=other) == NO_ACCESS
    assert api.call("GET", f"/api/v1/agents/{a}/versions/{version['id']}", key=other) == NO_ACCESS


# ---- reset -----------------------------------------------------------------------------------------------
def test_reset_clears_run_state_and_keeps_the_graph(api: Api) -> None:
    flow = _flow("{sys.query}")
    flow["history"] = [["user", "hi"]]
    flow["path"] = ["begin", "message"]
    flow["globals"].update({"sys.query": "old question", "sys.conversation_turns": 3, "env.city": "Paris"})
    flow["variables"] = {"city": {"type": "string", "value": "Lyon"}}
    flow["components"]["message"]["obj"]["params"]["outputs"] = {"content": {"type": "string", "value": "stale"}}
    agent = create_agent(api, "resettable", flow)
    res = api.call("POST", f"/api/v1/agents/{agent}/reset")
    assert res["code"] == 0
    data = res["data"]
    assert data["history"] == [] and data["path"] == []
    assert data["globals"]["sys.query"] == "" and data["globals"]["sys.conversation_turns"] == 0 and data["globals"]["env.city"] == "Lyon"
    assert data["components"]["message"]["obj"]["params"]["outputs"]["content"]["value"] is None
    assert api.call("GET", f"/api/v1/agents/{agent}")["data"]["dsl"]["globals"]["sys.query"] == ""
    assert api.call("POST", f"/api/v1/agents/{agent}/reset", key=api.new_tenant_key()) == NO_ACCESS


# ---- one component ---------------------------------------------------------------------------------------
def test_input_forms_list_what_each_component_reads(api: Api) -> None:
    flow = dsl({
        "begin": node("Begin", {"inputs": {"city": {"type": "line", "name": "City", "optional": False}}}, to=["llm:0"]),
        "llm:0": node("LLM", {"sys_prompt": "Weather for {begin@city}", "prompts": [{"role": "user", "content": "{sys.query}"}]},
                      to=["categorize:0"]),
        "categorize:0": node("Categorize", {"category_description": {"a": {"to": ["message"]}}}, to=["message"]),
        "message": node("Message", {"content": ["{llm:0@content}"]}),
    })
    agent = create_agent(api, "forms", flow)
    form = lambda cid: api.call("GET", f"/api/v1/agents/{agent}/components/{cid}/input-form")  # noqa: E731
    assert form("begin") == {"code": 0, "data": {"city": {"type": "line", "name": "City", "optional": False}}}
    assert form("llm:0")["data"] == {"begin@city": {"type": "line", "name": "begin@city"}, "sys.query": {"type": "line", "name": "sys.query"}}
    assert form("categorize:0")["data"] == {"query": {"type": "line", "name": "Query"}}
    assert form("message")["data"] == {}
    missing = form("nope")
    assert missing["code"] == 100 and "nope" in missing["message"]
    assert api.call("GET", f"/api/v1/agents/{agent}/components/begin/input-form", key=api.new_tenant_key()) == NO_ACCESS


def test_debug_runs_one_llm_with_the_given_inputs(llm_api: Api, openai_fake: FakeOpenAI) -> None:
    openai_fake.reply = lambda messages: "Sunny in " + messages[0]["content"].rsplit(" ", 1)[-1]
    flow = dsl({
        "begin": node("Begin", to=["llm:0"]),
        "llm:0": node("LLM", {"sys_prompt": "Weather for {begin@city}", "prompts": [{"role": "user", "content": "{sys.query}"}]},
                      to=["message"]),
        "message": node("Message", {"content": ["{llm:0@content}"]}),
    })
    agent = create_agent(llm_api, "debugged", flow)
    res = llm_api.call("POST", f"/api/v1/agents/{agent}/components/llm:0/debug",
                       json={"params": {"begin@city": {"value": "Oslo"}, "sys.query": {"value": "today?"}}})
    assert res["code"] == 0 and res["data"]["content"] == "Sunny in Oslo"
    sent = openai_fake.chat_requests()[-1]["body"]["messages"]
    assert sent[0]["content"] == "Weather for Oslo" and sent[-1] == {"role": "user", "content": "today?"}
    assert llm_api.call("GET", f"/api/v1/agents/{agent}/sessions")["data"] == []  # a debug run is no conversation


def test_debug_refusals(api: Api) -> None:
    agent = create_agent(api, "debug-refusals", dsl(ECHO))
    url = f"/api/v1/agents/{agent}/components/message/debug"
    assert api.call("POST", url, json={}) == {"code": 101, "message": "required argument are missing: params; ", "data": None}
    assert api.call("POST", url, json={"params": {"x": 1}})["code"] == 100
    assert api.call("POST", f"/api/v1/agents/{agent}/components/nope/debug", json={"params": {}})["code"] == 100
    assert api.call("POST", url, json={"params": {}}, key=api.new_tenant_key()) == NO_ACCESS
    ok = api.call("POST", url, json={"params": {"sys.query": {"value": "echo me"}}})
    assert ok == {"code": 0, "data": {"content": "echo me"}}


# ---- attachments -----------------------------------------------------------------------------------------
def test_upload_then_preview_and_download(api: Api) -> None:
    agent = create_agent(api, "attach", dsl(ECHO))
    res = api.client.post(f"/api/v1/agents/{agent}/upload", headers=api.headers(),
                          files={"file": ("notes.txt", b"hello attachment", "text/plain")}).json()
    assert res["code"] == 0
    desc = res["data"]
    assert desc["name"] == "notes.txt" and desc["size"] == 16 and desc["extension"] == "txt" and desc["mime_type"] == "text/plain"
    preview = api.client.get(f"/api/v1/agents/attachments/{desc['id']}/preview?ext=txt&filename=../my notes.txt", headers=api.headers())
    assert preview.status_code == 200 and preview.content == b"hello attachment"
    assert preview.headers["content-type"].startswith("text/plain")
    assert preview.headers["content-disposition"] == 'inline; filename="my_notes.txt"'
    download = api.client.get(f"/api/v1/agents/attachments/{desc['id']}/download?mime_type=text/html", headers=api.headers())
    assert download.headers["content-disposition"] == "attachment" and download.headers["x-content-type-options"] == "nosniff"
    inline = api.client.get(f"/api/v1/agents/attachments/{desc['id']}/download?disposition=inline", headers=api.headers())
    assert inline.headers["content-disposition"] == "inline" and inline.headers["content-type"] == "application/octet-stream"
    many = api.client.post(f"/api/v1/agents/{agent}/upload", headers=api.headers(),
                           files=[("file", ("a.txt", b"a", "text/plain")), ("file", ("b.txt", b"b", "text/plain"))]).json()
    assert many["code"] == 0 and [d["name"] for d in many["data"]] == ["a.txt", "b.txt"]


def test_attachment_refusals_and_tenancy(api: Api) -> None:
    agent = create_agent(api, "attach2", dsl(ECHO))
    long_name = "n" * 256 + ".txt"
    res = api.client.post(f"/api/v1/agents/{agent}/upload", headers=api.headers(), files={"file": (long_name, b"x", "text/plain")}).json()
    assert res == {"code": 100, "message": "Exceed the maximum length of file name!", "data": None}
    other = api.new_tenant_key()
    foreign = api.client.post(f"/api/v1/agents/{agent}/upload", headers=api.headers(other), files={"file": ("a.txt", b"x", "text/plain")})
    assert foreign.json() == NO_ACCESS
    desc = api.client.post(f"/api/v1/agents/{agent}/upload", headers=api.headers(), files={"file": ("a.txt", b"x", "text/plain")}).json()["data"]
    not_found = {"code": 102, "message": "document not found", "data": None}
    assert api.call("GET", f"/api/v1/agents/attachments/{desc['id']}/preview", key=other) == not_found
    assert api.call("GET", "/api/v1/agents/attachments/" + "0" * 32 + "/download") == not_found
    assert api.call("GET", "/api/v1/agents/attachments/..%5C..%5Cfiles/download") == not_found  # never a path


def test_upload_size_limit(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for small in app_with({"MAX_UPLOAD_BYTES": "1024"}, monkeypatch):
        agent = create_agent(small, "small", dsl(ECHO))
        res = small.client.post(f"/api/v1/agents/{agent}/upload", headers=small.headers(),
                                files={"file": ("big.bin", b"x" * 2048, "application/octet-stream")}).json()
        assert res["code"] == 100 and "limit" in res["message"]


# ---- database check --------------------------------------------------------------------------------------
def test_db_connection_check(api: Api) -> None:
    base = {"db_type": "mysql", "database": "d", "username": "u", "host": "127.0.0.1", "port": 3306, "password": "p"}
    missing = api.call("POST", "/api/v1/agents/test_db_connection", json={"db_type": "mysql"})
    assert missing == {"code": 101, "message": "required argument are missing: database,username,host,port,password; ", "data": None}
    private = api.call("POST", "/api/v1/agents/test_db_connection", json=base)
    assert private["code"] == 102 and "non-public address (127.0.0.1)" in private["message"]
    public = api.call("POST", "/api/v1/agents/test_db_connection", json={**base, "host": "8.8.8.8"})
    assert public["code"] == 100 and "no driver" in public["message"]
    other = api.call("POST", "/api/v1/agents/test_db_connection", json={**base, "host": "8.8.8.8", "db_type": "sqlite"})
    assert other == {"code": 100, "message": "'Unsupported database type.'", "data": None}
