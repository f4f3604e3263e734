"""Flat cost on the AWS adapters: at 10,000 documents and 10,000 chunks, a list page reads at most its page plus a
few rank nodes, and a question reads its candidates and their documents — counted by the adapters themselves
(ragcore.usage, the numbers the API reports per request), through the real app under moto and the Pinecone fake."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.aws.conftest import USAGE, UsageLines, emulated_aws
from tests.fakes.pinecone_server import FakePinecone

N = 10_000
SLACK = 10  # the bar: a page reads ≤ page_size + 10 items; a question ≤ its candidates + their documents + 10


@dataclass
class Deployment:
    client: TestClient
    headers: dict[str, str]
    tenant: str
    dataset: str
    usage: UsageLines
    searched: list[set[str]]

    def call(self, method: str, path: str, **kw: Any) -> tuple[dict[str, Any], int]:
        """The reply and the items the request read, as the API's usage meter logged them."""
        self.usage.lines.clear()
        reply = self.client.request(method, path, headers=self.headers, **kw).json()
        reads = [int(m.group(1)) for line in self.usage.lines if (m := USAGE.search(line))]
        assert len(reads) == 1, reads
        return reply, reads[0]


def _unit(rng: random.Random, dim: int = 384) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(dim)]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    mp = pytest.MonkeyPatch()
    fake = FakePinecone()
    env = {"PINECONE_HOST": fake.url, "PINECONE_API_KEY": "k", "DATA_DIR": str(tmp_path_factory.mktemp("flat"))}
    with emulated_aws(mp, "flat", "flat-bucket", env) as (tenant, key):
        from ragcore.bootstrap.container import get_container

        from functions.local import create_local_app

        with TestClient(create_local_app()) as client:
            headers = {"Authorization": f"Bearer {key}"}
            ds = client.post("/api/v1/datasets", headers=headers, json={"name": "big"}).json()["data"]["id"]
            _seed(get_container(), tenant, ds)
            searched: list[set[str]] = []
            index = get_container().index
            for name in ("search_dense", "search_text"):  # what the index handed retrieval: its candidates
                original = getattr(index, name)

                def spy(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                    hits = _original(*args, **kwargs)
                    searched.append({h["id"] for h in hits})
                    return hits

                mp.setattr(index, name, spy)
            lines = UsageLines()
            logger = logging.getLogger("ragcore.usage")
            logger.addHandler(lines)
            level = logger.level
            logger.setLevel(logging.DEBUG)
            yield Deployment(client, headers, tenant, ds, lines, searched)
            logger.removeHandler(lines)
            logger.setLevel(level)
    fake.close()
    mp.undo()


def _seed(container: Any, tenant: str, ds: str) -> None:
    """N documents (a third DONE) and N chunks (100 in each of the first N/100 documents) in DynamoDB and Pinecone,
    imported in bulk (the store's import writes what put_many would, without its per-item transactions)."""
    from ragcore.domain.kinds import DATASET as DATASET_KIND
    from ragcore.domain.kinds import DOCUMENT as DOC_KIND
    from ragcore.ports import IndexRecord
    from ragcore.services.knowledge.chunks.store import KIND as CHUNK_KIND

    rng = random.Random(7)
    words = ["river", "glacier", "valley", "granite", "meadow", "harbor", "lantern", "orchard", "quarry", "summit"]
    store = container.store
    docs, records = [], []
    for i in range(N):
        doc_id = f"{i:032x}"
        docs.append({"id": doc_id, "name": f"doc_{i:05d}.txt", "run": "DONE" if i % 3 == 0 else "UNSTART", "suffix": "txt",
                     "status": "1", "dataset_id": ds, "chunk_count": 100 if i < N // 100 else 0, "create_time": 1_700_000_000_000 + i,
                     "update_time": 1_700_000_000_000 + i, "_run_id": 0, "_blob": "", "meta_fields": {}})
        text = " ".join(rng.choice(words) for _ in range(12))
        owner = f"{i // 100:032x}"
        row = {"id": f"c{i:031x}", "content": text, "document_id": owner, "dataset_id": ds, "order": i % 100, "_run": 0,
               "available": True}
        records.append((row, IndexRecord(id=row["id"], dataset_id=ds, document_id=owner, content=text, vector=_unit(rng),
                                         available=True, document_available=True, meta={})))
    store.import_items(DOC_KIND, tenant, docs, parent=ds)
    for start in range(0, N, 100):  # each document's chunks, one collection at a time
        store.import_items(CHUNK_KIND, tenant, [row for row, _ in records[start : start + 100]], parent=records[start][0]["document_id"])
    for start in range(0, N, 1000):
        container.index.upsert(tenant, [r for _, r in records[start : start + 1000]])
    store.increment(DATASET_KIND, tenant, ds, {"document_count": N, "chunk_count": N})


@pytest.mark.parametrize("params", [
    {"page": 1, "page_size": 30},
    {"page": 334, "page_size": 30},  # the last page
    {"page": 170, "page_size": 30},
    {"page": 57, "page_size": 30, "orderby": "update_time", "desc": "false"},
    {"page": 1, "page_size": 50, "run": "DONE"},
    {"page": 60, "page_size": 50, "run": "DONE"},  # the filtered list's last page
    {"page": 20, "page_size": 100, "desc": "false", "suffix": "txt"},
])
def test_a_document_list_page_reads_its_page(deployment: Deployment, params: dict[str, Any]) -> None:
    reply, read = deployment.call("GET", f"/api/v1/datasets/{deployment.dataset}/documents", params=params)
    assert reply["code"] == 0, reply
    total = N if "run" not in params else math.ceil(N / 3)
    size = int(params["page_size"])
    assert reply["data"]["total"] == total
    expected = min(size, max(total - (int(params["page"]) - 1) * size, 0))
    assert len(reply["data"]["docs"]) == expected
    assert read <= size + SLACK, (params, read)


def test_pages_are_the_collection_in_order(deployment: Deployment) -> None:
    first, _ = deployment.call("GET", f"/api/v1/datasets/{deployment.dataset}/documents", params={"page": 1, "page_size": 7})
    deep, _ = deployment.call("GET", f"/api/v1/datasets/{deployment.dataset}/documents",
                              params={"page": 1001, "page_size": 7, "desc": "false"})
    assert [d["name"] for d in first["data"]["docs"]] == [f"doc_{i:05d}.txt" for i in range(N - 1, N - 8, -1)]
    assert [d["name"] for d in deep["data"]["docs"]] == [f"doc_{i:05d}.txt" for i in range(7000, 7007)]


def test_a_get_and_a_status_poll_read_a_few_items(deployment: Deployment) -> None:
    doc_id = f"{1234:032x}"
    reply, read = deployment.call("GET", f"/api/v1/datasets/{deployment.dataset}/documents", params={"id": doc_id})
    assert reply["data"]["docs"][0]["id"] == doc_id and read <= SLACK
    reply, read = deployment.call("GET", f"/api/v1/datasets/{deployment.dataset}")
    assert reply["data"]["document_count"] == N and read <= SLACK


@pytest.mark.parametrize("body", [
    {"question": "glacier valley meadow", "page_size": 10},
    {"question": "river quarry", "page": 3, "page_size": 30, "vector_similarity_weight": 0.7},
    {"question": "harbor lantern", "document_ids": [f"{i:032x}" for i in range(0, 300, 3)]},  # 100 named, 34 with chunks
    {"question": "orchard summit", "metadata_condition": {"conditions": [{"name": "missing", "comparison_operator": "empty"}]}},
])
def test_a_question_reads_its_candidates_and_their_documents(deployment: Deployment, body: dict[str, Any]) -> None:
    deployment.searched.clear()
    reply, read = deployment.call("POST", "/api/v1/retrieval", json={"dataset_ids": [deployment.dataset],
                                                                     "similarity_threshold": 0.0, **body})
    assert reply["code"] == 0, reply
    assert reply["data"]["chunks"], reply
    candidates = set().union(*deployment.searched)
    documents = {f"{int(c[1:], 16) // 100:032x}" for c in candidates}
    from ragcore.text.tokenize import term_weights

    statistics = 1 + len(term_weights(str(body["question"])))  # BM25's: the dataset's summary and a bucket per term
    assert read <= len(candidates) + len(documents) + len(body.get("document_ids", [])) + statistics + SLACK, (
        read, len(candidates))
    assert len(candidates) < 600  # bounded by the candidate pool, not by the dataset's 10,000 chunks


def test_a_chunk_list_page_reads_its_page(deployment: Deployment) -> None:
    doc_id = f"{42:032x}"
    for params, expected in (({}, list(range(30))), ({"page": 3, "page_size": 40}, list(range(80, 100)))):
        reply, read = deployment.call("GET", f"/api/v1/datasets/{deployment.dataset}/documents/{doc_id}/chunks", params=params)
        assert reply["code"] == 0 and reply["data"]["total"] == 100
        assert [c["id"] for c in reply["data"]["chunks"]] == [f"c{4200 + n:031x}" for n in expected]
        assert read <= len(expected) + SLACK, read


@pytest.fixture(scope="module")
def many_sessions(deployment: Deployment) -> str:
    from ragcore.bootstrap.container import get_container
    from ragcore.services.conversation.chats import SESSION

    chat = deployment.client.post("/api/v1/chats", headers=deployment.headers,
                                  json={"name": "busy", "dataset_ids": [deployment.dataset]}).json()["data"]["id"]
    sessions = [{"id": f"{n:032x}", "chat_id": chat, "name": f"s{n}", "user_id": f"u{n % 4}", "messages": [],
                 "reference": [], "create_time": n, "update_time": n} for n in range(2_000)]
    get_container().store.import_items(SESSION, deployment.tenant, sessions, parent=chat)
    return chat


@pytest.mark.parametrize("params", [{"page": 1}, {"page": 40, "page_size": 50}, {"page": 10, "page_size": 30, "user_id": "u2"}])
def test_a_session_list_page_reads_its_page(deployment: Deployment, many_sessions: str, params: dict[str, Any]) -> None:
    reply, read = deployment.call("GET", f"/api/v1/chats/{many_sessions}/sessions", params=params)
    assert reply["code"] == 0 and len(reply["data"]) == int(params.get("page_size", 30))
    assert read <= int(params.get("page_size", 30)) + SLACK, read


def test_reads_are_counted_per_request(tmp_path: Path) -> None:
    """The meter itself: a fresh meter per request, and work outside requests counted apart."""
    from ragcore import usage

    outside = usage.current()
    meter = usage.start()
    usage.read(3)
    assert meter.items_read == 3 and usage.current() is meter and outside is not meter
