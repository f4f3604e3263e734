"""The beta-token bot routes and /agents/rerun on the AWS adapters (DynamoDB and S3 under moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.aws.conftest import emulated_aws


class RecordingQueue:
    def __init__(self) -> None:
        self.tasks: list[dict[str, Any]] = []

    def submit(self, task: dict[str, Any]) -> None:
        self.tasks.append(task)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, vector_env: dict[str, str]) -> Iterator[tuple[TestClient, str, str, RecordingQueue]]:
    with emulated_aws(monkeypatch, "bots", "bots-bucket", {"DATA_DIR": str(tmp_path / "var"), **vector_env}) as (tenant, key):
        from ragcore.api.app import create_app
        from ragcore.bootstrap.container import get_container

        from functions.agents.routes import router as agents
        from functions.completions.routes import public_router, router
        from functions.system.routes import router as system

        queue = RecordingQueue()
        get_container().set_queue(queue)
        with TestClient(create_app([router, public_router, agents, system])) as client:
            yield client, tenant, key, queue


def test_bots_and_rerun_on_dynamodb(aws: tuple[TestClient, str, str, RecordingQueue]) -> None:
    from ragcore import bootstrap
    from ragcore.bootstrap.container import get_container
    from ragcore.domain.datasets import CreateDataset
    from ragcore.services.knowledge.ingestion_logs import record_run

    client, tenant, key, queue = aws
    api = {"Authorization": f"Bearer {key}"}
    beta = client.post("/api/v1/system/tokens", headers=api).json()["data"]["beta"]
    bot = {"Authorization": beta}
    chat = bootstrap.chats().create(tenant, {"name": "cloud", "prompt_config": {"prologue": "Hello from the cloud."}})

    assert client.get(f"/api/v1/chatbots/{chat['id']}/info", headers=api).json()["code"] == 102  # a key is no beta
    info = client.get(f"/api/v1/chatbots/{chat['id']}/info", headers=bot).json()
    assert info["code"] == 0 and info["data"]["prologue"] == "Hello from the cloud."
    opened = client.post(f"/api/v1/chatbots/{chat['id']}/completions", headers=bot, json={"stream": False}).json()["data"]
    assert opened["answer"] == "Hello from the cloud."
    session = bootstrap.chats().get_session(tenant, chat["id"], opened["session_id"])
    assert session["messages"] == [{"role": "assistant", "content": "Hello from the cloud."}]
    search = bootstrap.search_apps().create(tenant, {"name": "cloud search"})
    detail = client.get("/api/v1/searchbots/detail", headers=bot, params={"search_id": search}).json()
    assert detail["code"] == 0 and detail["data"]["name"] == "cloud search"

    # a logged parse of a document, rerun: the log keeps the DSL, the document is queued for a new run
    store = get_container().store
    dataset = bootstrap.datasets().create(tenant, CreateDataset(name="cloud kb"))
    [doc] = bootstrap.documents().upload(tenant, dataset["id"], [("a.txt", b"Some text.\n")])
    stored = store.get("document", tenant, doc["id"])
    assert stored is not None
    record_run(store, tenant, stored, "DONE", "done", 0.1)
    [log] = bootstrap.ingestion_logs().list_logs(tenant, dataset["id"], {"log_type": "file"}, [])["logs"]
    res = client.post("/api/v1/agents/rerun", headers=api, json={"id": log["id"], "dsl": {"components": {}}, "component_id": "p"})
    assert res.json() == {"code": 0, "message": "success", "data": True}
    assert store.get("ingestion_log", tenant, log["id"])["dsl"] == {"components": {}, "path": ["p"]}  # type: ignore[index]
    assert store.get("document", tenant, doc["id"])["run"] == "RUNNING"  # type: ignore[index]
    assert [t["type"] for t in queue.tasks if t.get("document_id") == doc["id"]][-1] == "plan"
