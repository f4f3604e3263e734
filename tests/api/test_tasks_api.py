"""POST /tasks/<id>/cancel and PATCH /tasks/<id> {"action": "stop"} on a dataset's GraphRAG / RAPTOR / mind-map
runs, as RAGFlow's task handlers answer: a running task ends at progress -1 with "Task stopped by user.", every
id (unknown, finished, another tenant's) answers success, and a bad action is an argument error."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api

OK = {"code": 0, "message": "success", "data": True}


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Index builds wait at their first step until the event is set (a run that is running when it is stopped)."""
    from ragcore.services.ingestion.index_tasks import IndexTaskService

    release, reached = threading.Event(), threading.Event()
    original = IndexTaskService._source_chunks

    def waiting(self: IndexTaskService, tenant: str, dataset_id: str) -> list[dict[str, Any]]:
        reached.set()
        release.wait(20)
        return original(self, tenant, dataset_id)

    monkeypatch.setattr(IndexTaskService, "_source_chunks", waiting)
    release.reached = reached  # type: ignore[attr-defined]
    yield release
    release.set()


def trace(api: Api, ds: str) -> dict[str, Any]:
    return dict(api.call("GET", f"/api/v1/datasets/{ds}/index", params={"type": "graph"})["data"])


def wait_for(check: Any, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def started_graph(api: Api, held: threading.Event) -> tuple[str, str]:
    ds = make_dataset(api, "earth")
    ingest(api, ds, {"a.txt": b"Volcanoes erupt when magma rises.\n"})
    task_id = api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "graph"})["data"]["task_id"]
    assert held.reached.wait(20)  # type: ignore[attr-defined]
    return ds, task_id


@pytest.mark.parametrize("stop", ["cancel", "patch"])
def test_stopping_a_running_task(api: Api, held: threading.Event, stop: str) -> None:
    ds, task_id = started_graph(api, held)
    if stop == "cancel":
        res = api.call("POST", f"/api/v1/tasks/{task_id}/cancel")
    else:
        res = api.call("PATCH", f"/api/v1/tasks/{task_id}", json={"action": "stop"})
    assert res == OK
    task = trace(api, ds)
    assert task["progress"] == -1 and task["progress_msg"].endswith("Task stopped by user.")
    held.set()
    # the worker stops at its next step: nothing is built, and the dataset's log records the stop
    wait_for(lambda: api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "dataset"})["data"]["total"] == 1)
    [entry] = api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "dataset"})["data"]["logs"]
    assert entry["operation_status"] == "2" and entry["task_type"] == "GraphRAG"
    assert api.call("GET", f"/api/v1/datasets/{ds}/knowledge_graph")["data"]["graph"] == {}
    assert trace(api, ds)["progress"] == -1
    # a stopped run does not block the next one
    assert api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "graph"})["code"] == 0


def test_stopping_a_finished_task_changes_nothing(api: Api) -> None:
    ds = make_dataset(api, "earth")
    ingest(api, ds, {"a.txt": b"Volcanoes erupt when magma rises.\n"})
    task_id = api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "graph"})["data"]["task_id"]
    wait_for(lambda: trace(api, ds)["progress"] == 1)
    before = trace(api, ds)
    assert api.call("POST", f"/api/v1/tasks/{task_id}/cancel") == OK
    assert trace(api, ds) == before


def test_unknown_and_foreign_task_ids_answer_success_and_change_nothing(api: Api, held: threading.Event) -> None:
    ds, task_id = started_graph(api, held)
    other = api.new_tenant_key()
    assert api.call("POST", f"/api/v1/tasks/{task_id}/cancel", key=other) == OK
    assert api.call("PATCH", f"/api/v1/tasks/{task_id}", key=other, json={"action": "stop"}) == OK
    assert api.call("POST", f"/api/v1/tasks/{uuid.uuid4().hex}/cancel") == OK
    assert trace(api, ds)["progress"] == 0.1  # still running: only its owner can stop it


@pytest.mark.parametrize(("body", "message"), [
    ({}, "required argument are missing: action; "),
    ({"name": "x"}, "required argument are missing: action; "),
    ({"action": "start"}, "Invalid action 'start'. Only 'stop' is supported."),
    ({"action": None}, "Invalid action 'None'. Only 'stop' is supported."),
])
def test_patch_refuses_other_actions(api: Api, body: dict[str, Any], message: str) -> None:
    res = api.call("PATCH", f"/api/v1/tasks/{uuid.uuid4().hex}", json=body)
    assert res == {"code": 101, "message": message, "data": None}


def test_patch_with_a_malformed_body_asks_for_the_action(api: Api) -> None:
    res = api.client.patch(f"/api/v1/tasks/{uuid.uuid4().hex}", headers={**api.headers(), "content-type": "application/json"},
                           content=b"{nope")
    assert res.status_code == 200 and res.json()["message"] == "required argument are missing: action; "
