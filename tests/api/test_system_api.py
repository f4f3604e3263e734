"""RAGFlow's system routes as its handlers answer them: version, language, configuration, the components' status,
the document engines we do not use, runtime log levels, usage stats and the agent tool listing."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.agents.helpers import ECHO, ask, create_agent, dsl
from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api

UNAUTHORIZED = {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}


def test_open_routes_answer_without_a_key(api: Api) -> None:
    assert api.client.get("/api/v1/language").json() == {"code": 0, "message": "success", "data": {"language": "python"}}
    config = api.client.get("/api/v1/system/config").json()
    assert config["code"] == 0 and set(config["data"]) == {"registerEnabled", "disablePasswordLogin"}
    assert api.client.get("/api/v1/system/version").json()["data"]
    assert api.client.get("/api/v1/system/status").json() == UNAUTHORIZED


def test_status_reports_each_component_green_with_its_time(api: Api) -> None:
    res = api.call("GET", "/api/v1/system/status")
    assert res["code"] == 0
    data = res["data"]
    assert data["database"]["database"] == "sqlite" and data["storage"]["storage"] == "local"
    assert data["doc_engine"]["type"] == "local" and data["queue"]["queue"] == "local"
    for section in ("database", "storage", "doc_engine", "queue"):
        assert data[section]["status"] == "green", data[section]
        assert float(data[section]["elapsed"]) >= 0
    assert data["task_executor_heartbeats"] == {}


def test_status_reports_a_broken_component_red_with_its_error(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.bootstrap.container import get_container

    def broken(*_: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(get_container().blobs, "exists", broken)
    res = api.call("GET", "/api/v1/system/status")
    assert res["code"] == 0
    assert res["data"]["storage"]["status"] == "red" and res["data"]["storage"]["error"] == "disk unplugged"
    assert res["data"]["database"]["status"] == "green"


def test_document_engines_we_do_not_use_answer_as_ragflow_does_without_them(api: Api) -> None:
    assert api.call("GET", "/api/v1/system/oceanbase/status") == {
        "code": 500, "message": "success",
        "data": {"status": "error", "message": "Failed to get OceanBase status: OceanBase is not in use."},
    }
    assert api.call("GET", "/api/v1/system/gaussdb/status") == {
        "code": 0, "message": "success",
        "data": {"status": "not_configured", "message": "GaussDB is not configured as the document engine"},
    }


@pytest.fixture
def restore_log_level() -> Iterator[None]:
    logger = logging.getLogger("ragcore.test_pkg")
    level = logger.level
    yield
    logger.setLevel(level)


def test_log_levels_change_at_runtime(api: Api, restore_log_level: None) -> None:
    assert api.call("GET", "/api/v1/system/config/log")["data"] == {"root": "INFO"}
    res = api.call("PUT", "/api/v1/system/config/log", json={"pkg_name": "ragcore.test_pkg", "level": "debug"})
    assert res == {"code": 0, "message": "success", "data": {"pkg_name": "ragcore.test_pkg", "level": "debug"}}
    assert logging.getLogger("ragcore.test_pkg").level == logging.DEBUG
    assert api.call("GET", "/api/v1/system/config/log")["data"] == {"root": "INFO", "ragcore.test_pkg": "DEBUG"}


@pytest.mark.parametrize(("body", "message"), [
    ({"pkg_name": "ragcore.test_pkg", "level": "LOUD"}, "Invalid log level: LOUD"),
    ({"pkg_name": "ragcore.test_pkg", "level": 10}, "Invalid log level: 10"),
    ({"pkg_name": "ragcore.test_pkg"}, "pkg_name and level are required"),
    ({"level": "INFO"}, "pkg_name and level are required"),
    (["pkg_name", "level"], "pkg_name and level are required"),
])
def test_bad_log_level_changes_are_refused_and_change_nothing(api: Api, restore_log_level: None, body: object, message: str) -> None:
    res = api.call("PUT", "/api/v1/system/config/log", json=body)
    assert res["code"] == 102 and res["message"] == message
    assert api.call("GET", "/api/v1/system/config/log")["data"] == {"root": "INFO"}


def test_malformed_log_level_body_is_refused(api: Api) -> None:
    res = api.client.put("/api/v1/system/config/log", headers={**api.headers(), "content-type": "application/json"}, content=b"{oops")
    assert res.status_code == 200 and res.json()["message"] == "pkg_name and level are required"


def test_stats_count_chat_and_agent_conversations_per_day(api: Api) -> None:
    ds = make_dataset(api, "facts")
    ingest(api, ds, {"facts.txt": b"The Eiffel Tower is in Paris.\n"})
    chat = api.call("POST", "/api/v1/chats", json={"name": "guide", "dataset_ids": [ds]})["data"]
    base = f"/api/v1/chats/{chat['id']}/sessions"
    first = api.call("POST", base, json={"name": "a", "user_id": "ann"})["data"]
    api.call("POST", base, json={"name": "b", "user_id": "ann"})
    api.call("POST", base, json={"name": "c", "user_id": "bob"})
    for _ in range(2):
        res = api.call("POST", f"/api/v1/chats/{chat['id']}/completions",
                       json={"question": "Where is the Eiffel Tower?", "session_id": first["id"], "stream": False})
        assert res["code"] == 0, res
    msg_id = api.call("GET", f"{base}/{first['id']}")["data"]["messages"][-1]["id"]
    api.call("PUT", f"{base}/{first['id']}/messages/{msg_id}/feedback", json={"thumbup": True})

    stats = api.call("GET", "/api/v1/system/stats")
    assert stats["code"] == 0 and stats["message"] == "success"
    data = stats["data"]
    assert set(data) == {"pv", "uv", "speed", "tokens", "round", "thumb_up"}
    [(day, pv)] = data["pv"]
    assert day.endswith("00:00:00 GMT") and pv == 3
    assert data["uv"] == [[day, 2]] and data["thumb_up"] == [[day, 1]]
    assert data["round"] == [[day, pytest.approx(2 / 3)]]
    assert data["tokens"][0][1] > 0 and data["speed"][0][1] > 0

    agent = create_agent(api, "echo", dsl(ECHO))
    ask(api, agent, "hello")
    agents = api.call("GET", "/api/v1/system/stats", params={"canvas_id": agent})["data"]
    assert agents["pv"] == [[day, 1]] and agents["round"] == [[day, 1.0]]
    assert api.call("GET", "/api/v1/system/stats")["data"]["pv"] == [[day, 3]]  # the agent's is its own series

    other = api.new_tenant_key()
    assert api.call("GET", "/api/v1/system/stats", key=other)["data"]["pv"] == []
    future = api.call("GET", "/api/v1/system/stats", params={"from_date": "2999-01-01", "to_date": "2999-01-02"})
    assert future["data"]["pv"] == []


def test_stats_refuse_a_date_that_is_not_one(api: Api) -> None:
    res = api.call("GET", "/api/v1/system/stats", params={"from_date": "last week"})
    assert res["code"] == 101 and "Invalid date: last week" in res["message"]


def test_plugin_tools_lists_the_tools_an_agent_can_use(api: Api) -> None:
    res = api.call("GET", "/api/v1/plugin/tools")
    assert res["code"] == 0
    [tool] = res["data"]
    assert tool["name"] == "Retrieval"
    assert set(tool) == {"name", "displayName", "description", "displayDescription", "parameters"}
    assert tool["parameters"]["kb_ids"]["required"] is True
    assert all(set(p) == {"type", "description", "displayDescription", "required"} for p in tool["parameters"].values())
