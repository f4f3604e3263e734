"""Dataset-level indexes: the knowledge graph, RAPTOR summaries and the mind map, run and traced as RAGFlow's
/index, run_graphrag and run_raptor routes do."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.docs_helpers import eventually, ingest, make_dataset, retrieve, stored, upload
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI

CORPUS = {
    "volcanoes.txt": (
        b"Volcanoes erupt when magma rises through the crust.\n\nLava from volcanoes cools into basalt rock.\n\n"
        b"Volcanic ash from an eruption can ground aircraft.\n"
    ),
    "oceans.txt": (
        b"Ocean currents carry heat from the equator to the poles.\n\nCoral reefs grow in warm ocean water.\n\n"
        b"Tides in the ocean follow the pull of the moon.\n"
    ),
}
SMALL_CHUNKS = {"chunk_token_num": 12, "delimiter": "\n"}


def wait_task(api: Api, ds: str, index_type: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        task = api.call("GET", f"/api/v1/datasets/{ds}/index", params={"type": index_type})["data"]
        if task and task["progress"] in (1, -1):
            return dict(task)
        time.sleep(0.05)
    raise AssertionError(f"{index_type} task still running: {task}")


def chunk_total(api: Api, ds: str) -> int:
    return int(api.call("GET", "/api/v1/datasets", params={"id": ds})["data"][0]["chunk_count"])


def test_graph_and_mind_map_are_built_and_removed(api: Api) -> None:
    ds = make_dataset(api, "earth", parser_config=SMALL_CHUNKS)
    assert api.call("GET", f"/api/v1/datasets/{ds}/index", params={"type": "graph"}) == {"code": 0, "data": {}}
    ingest(api, ds, CORPUS)
    started = api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "graph"})
    assert started["code"] == 0 and started["data"]["task_id"]
    task = wait_task(api, ds, "graph")
    assert task["id"] == started["data"]["task_id"] and task["progress"] == 1 and task["task_type"] == "graphrag"
    assert "Task done" in task["progress_msg"] and task["begin_at"] and task["from_page"] == 100000000
    graph = api.call("GET", f"/api/v1/datasets/{ds}/knowledge_graph")["data"]["graph"]
    names = {n["id"] for n in graph["nodes"]}
    assert {"volcanoes", "ocean"} <= names
    assert all(e["source"] in names and e["target"] in names for e in graph["edges"])
    ranks = [n["pagerank"] for n in graph["nodes"]]
    assert ranks == sorted(ranks, reverse=True) and graph["edges"]

    legacy = api.call("POST", f"/api/v1/datasets/{ds}/run_graphrag")
    assert set(legacy["data"]) == {"graphrag_task_id"}
    wait_task(api, ds, "graph")
    assert api.call("GET", f"/api/v1/datasets/{ds}/trace_graphrag")["data"]["id"] == legacy["data"]["graphrag_task_id"]

    api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "mindmap"})
    assert wait_task(api, ds, "mindmap")["progress"] == 1
    mind_map = api.call("GET", f"/api/v1/datasets/{ds}/graph")["data"]["mind_map"]
    assert mind_map["id"] == "earth" and {b["id"] for b in mind_map["children"]} == set(CORPUS)
    assert all(branch["children"] for branch in mind_map["children"])

    logs = api.call("GET", f"/api/v1/datasets/{ds}/ingestions", params={"log_type": "dataset"})["data"]
    assert {log["task_type"] for log in logs["logs"]} == {"GraphRAG", "Mindmap"} and logs["total"] == 3
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/knowledge_graph") == {"code": 0, "data": True}
    assert api.call("GET", f"/api/v1/datasets/{ds}/knowledge_graph")["data"]["graph"] == {}
    assert api.call("GET", f"/api/v1/datasets/{ds}/trace_graphrag") == {"code": 0, "data": {}}
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/mindmap") == {"code": 0, "data": {}}
    assert api.call("GET", f"/api/v1/datasets/{ds}/knowledge_graph")["data"] == {"graph": {}, "mind_map": {}}


def test_raptor_adds_searchable_summaries_and_removes_them(api: Api) -> None:
    ds = make_dataset(api, "raptor-kb", parser_config=SMALL_CHUNKS)
    docs = {d["name"]: d for d in ingest(api, ds, CORPUS)}
    before = chunk_total(api, ds)
    started = api.call("POST", f"/api/v1/datasets/{ds}/run_raptor")
    task = wait_task(api, ds, "raptor")
    assert task["id"] == started["data"]["raptor_task_id"] and task["progress"] == 1, task
    added = chunk_total(api, ds) - before
    assert added >= 1 and "summaries" in task["progress_msg"]
    listed = [c for d in docs.values() for c in api.call(
        "GET", f"/api/v1/datasets/{ds}/documents/{d['id']}/chunks", params={"page_size": 100})["data"]["chunks"]]
    originals = {c["content"] for c in listed[: before]}
    assert len(listed) == before + added
    summaries = [c for c in listed if c["content"] not in originals]
    assert summaries and all(len(s["content"]) > 10 for s in summaries)
    hits = retrieve(api, question=summaries[0]["content"], dataset_ids=[ds], similarity_threshold=0.0)
    assert summaries[0]["id"] in {c["id"] for c in hits["chunks"]}

    # a second run replaces the summaries instead of piling them up
    api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "raptor"})
    wait_task(api, ds, "raptor")
    assert chunk_total(api, ds) == before + added
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/index", params={"type": "raptor"}) == {"code": 0, "data": {}}
    assert chunk_total(api, ds) == before
    assert api.call("GET", f"/api/v1/datasets/{ds}/trace_raptor") == {"code": 0, "data": {}}


def test_index_errors(api: Api, tmp_path: Path) -> None:
    ds = make_dataset(api, "empty-kb")
    assert api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "raptor"}) == {
        "code": 102, "message": f"No documents in Dataset {ds}", "data": None}
    bad = api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "wiki2"})
    assert bad == {"code": 102, "message": "Invalid index type 'wiki2'. Must be one of ['graph', 'mindmap', 'raptor']", "data": None}
    assert api.call("GET", f"/api/v1/datasets/{ds}/index", params={"type": "x"})["code"] == 102
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/index", params={"type": "x"}) == {
        "code": 101, "message": "Invalid index type 'x'", "data": None}
    [doc] = upload(api, ds, {"never-parsed.txt": b"Nothing parsed yet."})
    task = api.call("POST", f"/api/v1/datasets/{ds}/index", params={"type": "graph"})["data"]["task_id"]
    done = wait_task(api, ds, "graph")
    assert done["id"] == task and done["progress"] == 1 and "no available chunks" in done["progress_msg"]
    assert api.call("GET", f"/api/v1/datasets/{ds}/knowledge_graph")["data"]["graph"] == {}
    intruder = api.new_tenant_key()
    for method, path in [("POST", "index?type=graph"), ("GET", "index?type=graph"), ("POST", "run_raptor"), ("DELETE", "raptor")]:
        foreign = api.call(method, f"/api/v1/datasets/{ds}/{path}", key=intruder)
        missing = api.call(method, f"/api/v1/datasets/{uuid.uuid4().hex}/{path}", key=intruder)
        assert foreign == missing == {"code": 102, "message": "no authorization", "data": None}
    assert api.call("GET", f"/api/v1/datasets/{ds}/graph", key=intruder) == {"code": 109, "message": "no authorization", "data": None}
    api.call("DELETE", "/api/v1/datasets", json={"ids": [ds]})
    from ragcore.domain.kinds import INDEX_TASK as TASK_KIND

    eventually(lambda: stored(TASK_KIND, api.tenant, ds) == 0)  # the runs went with the dataset
    assert doc["id"]


@pytest.fixture
def llm_api(data_dir: Path, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LLM_BASE_URL": openai_fake.url, "LLM_API_KEY": "sk-test", "LLM_MODEL": "m"}, monkeypatch)


def test_raptor_summaries_come_from_the_language_model_when_one_is_configured(llm_api: Api, openai_fake: FakeOpenAI) -> None:
    openai_fake.reply = "Earth science in one sentence."
    ds = make_dataset(llm_api, "llm-raptor", parser_config=SMALL_CHUNKS)
    ingest(llm_api, ds, CORPUS)
    llm_api.call("POST", f"/api/v1/datasets/{ds}/run_raptor")
    assert wait_task(llm_api, ds, "raptor")["progress"] == 1
    hits = retrieve(llm_api, question="Earth science in one sentence", dataset_ids=[ds], similarity_threshold=0.0)
    assert hits["chunks"][0]["content"] == "Earth science in one sentence."
    prompts = [r["body"]["messages"][-1]["content"] for r in openai_fake.chat_requests()]
    assert prompts and all(p.startswith("Please summarize the following paragraphs.") for p in prompts)
