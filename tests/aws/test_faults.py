"""Faults AWS produces every day at scale, each injected (tests/fakes/faults.py on the boto3 clients, `trouble` on
the Pinecone fake) and the outcome a user sees asserted: through the documents API for uploads, through the
ingest Lambda (SQS batches, ReportBatchItemFailures) for parsing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.aws.conftest import BUCKET, Aws
from tests.fakes.faults import DYNAMODB_WRITES, Faults, Rule, contention
from tests.fakes.faults import HttpTrouble as Trouble
from tests.fakes.pinecone_server import FakePinecone


class Killed(BaseException):
    """The function's process ends here (a Lambda timeout): nothing after it runs, no handler catches it."""


@pytest.fixture
def api(aws: Aws) -> Iterator[TestClient]:
    from functions.documents.handler import app

    with TestClient(app, headers={"Authorization": f"Bearer {aws.key}"}) as client:
        yield client


def new_dataset(aws: Aws, name: str = "kb") -> str:
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset

    return str(bootstrap.datasets().create(aws.tenant, CreateDataset(name=name))["id"])


def dataset_counts(aws: Aws, dataset_id: str) -> tuple[int, int, int]:
    """document_count, chunk_count, token_num of the dataset as GET /datasets shows them."""
    from ragcore import bootstrap

    found = bootstrap.datasets().find(aws.tenant, dataset_id)
    assert found is not None
    return int(found["document_count"]), int(found["chunk_count"]), int(found["token_num"])


def upload(api: TestClient, dataset_id: str, name: str, data: bytes) -> Any:
    return api.post(f"/api/v1/datasets/{dataset_id}/documents", files={"file": (name, data, "text/plain")})


def listed(api: TestClient, dataset_id: str) -> dict[str, Any]:
    body = api.get(f"/api/v1/datasets/{dataset_id}/documents", params={"page_size": 100}).json()
    assert body["code"] == 0, body
    return body["data"]  # type: ignore[no-any-return]


def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter's backoff without its sleeps (what is asserted is the outcome, not the waiting)."""
    from ragcore.adapters import dynamodb_retry

    monkeypatch.setattr(dynamodb_retry, "pause", lambda attempt: None)


# ---- writes on a busy table ------------------------------------------------------------------------
def test_conflicting_and_throttled_writes_back_off_and_succeed(aws: Aws, api: TestClient) -> None:
    dataset = new_dataset(aws)
    with contention(0.3, seed=11, reads=True) as faults:
        replies = [upload(api, dataset, f"note {n}.txt", f"note {n}\n".encode()) for n in range(8)]
    assert [(r.status_code, r.json()["code"]) for r in replies] == [(200, 0)] * 8
    assert faults.total >= 5
    data = listed(api, dataset)
    assert data["total"] == 8 and sorted(d["name"] for d in data["docs"]) == sorted(f"note {n}.txt" for n in range(8))
    assert dataset_counts(aws, dataset)[0] == 8


def test_a_write_that_cannot_complete_is_a_retryable_error_and_leaves_nothing(
        aws: Aws, api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    no_waits(monkeypatch)
    dataset = new_dataset(aws)
    hot = Rule("dynamodb", frozenset({"TransactWriteItems"}), ("TransactionConflict", "Throttling"), 1.0)
    with Faults(hot):
        refused = upload(api, dataset, "a.txt", b"alpha\n")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.json() == {"code": 105, "data": None, "message": "The metadata table is busy (throttled, or many writers "
                              "on the same dataset) and the change was not made; try again in a moment."}
    assert listed(api, dataset)["total"] == 0 and dataset_counts(aws, dataset)[0] == 0
    assert not aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"docs/{aws.tenant}/").get("Contents")  # its bytes went too
    # the client's retry: the same name is free again, and one document is counted
    again = upload(api, dataset, "a.txt", b"alpha\n").json()
    assert again["code"] == 0 and again["data"][0]["name"] == "a.txt"
    doc_id = again["data"][0]["id"]
    # a delete that cannot complete: refused the same way, the document still listed and counted
    with Faults(hot):
        gone = api.request("DELETE", f"/api/v1/datasets/{dataset}/documents", json={"ids": [doc_id]})
    assert gone.status_code == 503 and gone.json()["code"] == 105
    assert [d["id"] for d in listed(api, dataset)["docs"]] == [doc_id] and dataset_counts(aws, dataset)[0] == 1
    assert api.request("DELETE", f"/api/v1/datasets/{dataset}/documents", json={"ids": [doc_id]}).json()["code"] == 0
    assert listed(api, dataset)["total"] == 0 and dataset_counts(aws, dataset)[0] == 0


def test_s3_slowdown_on_upload_is_retried(aws: Aws, api: TestClient) -> None:
    dataset = new_dataset(aws)
    with Faults(Rule("s3", frozenset({"PutObject"}), ("SlowDown",), 1.0, limit=3)) as faults:
        reply = upload(api, dataset, "slow.txt", b"uploaded while S3 said SlowDown\n").json()
    assert faults.injected == {"s3.PutObject.SlowDown": 3}  # more than botocore's default 3 tries would survive
    assert reply["code"] == 0
    doc_id = reply["data"][0]["id"]
    got = api.get(f"/api/v1/datasets/{dataset}/documents/{doc_id}")
    assert got.status_code == 200 and got.content == b"uploaded while S3 said SlowDown\n"


# ---- the ingest Lambda ----------------------------------------------------------------------------
def ingested(aws: Aws, dataset_name: str) -> tuple[str, list[dict[str, Any]]]:
    from ragcore import bootstrap

    dataset = bootstrap.datasets().find_by_name(aws.tenant, dataset_name)
    assert dataset is not None
    docs = bootstrap.documents().list(aws.tenant, dataset["id"], {"page_size": 100}, {})[0]
    return str(dataset["id"]), docs


def chunk_rows(aws: Aws, dataset_id: str, doc_id: str) -> int:
    from ragcore import bootstrap

    stored = bootstrap.documents().find(aws.tenant, dataset_id, doc_id)
    assert stored is not None
    return bootstrap.chunk_store().count(aws.tenant, stored)


def best_hit(aws: Aws, question: str, dataset_id: str) -> str:
    """The content of retrieval's best chunk ("" for none); no chunk is found twice."""
    from ragcore import bootstrap

    chunks = bootstrap.retrieval().retrieve(aws.tenant, question=question, dataset_ids=[dataset_id],
                                            similarity_threshold=0.0)["chunks"]
    assert len({c["id"] for c in chunks}) == len(chunks)
    return str(chunks[0]["content"]) if chunks else ""


def assert_counted_once(aws: Aws, dataset_id: str, docs: list[dict[str, Any]]) -> None:
    """Every document DONE, its chunks stored once, and the dataset's counts the sum of its documents'."""
    from ragcore import bootstrap
    from ragcore.bootstrap.container import get_container
    from ragcore.domain.kinds import INGESTION_LOG
    from ragcore.ports import ListQuery

    assert [d["run"] for d in docs] == ["DONE"] * len(docs), [d["progress_msg"] for d in docs]
    rows = [chunk_rows(aws, dataset_id, d["id"]) for d in docs]
    assert [d["chunk_count"] for d in docs] == rows and all(rows)
    assert dataset_counts(aws, dataset_id) == (len(docs), sum(rows), sum(d["token_count"] for d in docs))
    stats = bootstrap.chunk_store().stats.read(aws.tenant, [dataset_id], [])
    assert stats.chunks == sum(rows)  # the keyword statistics counted each chunk once
    logs = get_container().store.count(ListQuery(INGESTION_LOG, aws.tenant, dataset_id))
    assert logs == len(docs)  # one log per run


FILES = {"rivers.txt": b"The Nile flows north through Africa.\n", "peaks.txt": b"Everest is the highest mountain.\n",
         "seas.txt": b"The Dead Sea lies below sea level.\n"}


def drop(aws: Aws, folder: str) -> None:
    for name, data in FILES.items():
        aws.s3.put_object(Bucket=BUCKET, Key=f"inbox/{folder}/{name}", Body=data)


def test_redelivered_and_duplicated_messages_make_no_duplicates(aws: Aws) -> None:
    drop(aws, "geo")
    with Faults(Rule("sqs", frozenset({"ReceiveMessage"}), ("Redeliver",), 1.0), seed=3) as faults:
        aws.settle()  # every message (drop-folder events, parse tasks, purges) delivered twice
    assert faults.injected["sqs.ReceiveMessage.Redeliver"] >= 2
    dataset_id, docs = ingested(aws, "geo")
    assert sorted(d["name"] for d in docs) == sorted(FILES)
    assert_counted_once(aws, dataset_id, docs)
    assert "Everest" in best_hit(aws, "Everest mountain", dataset_id)


@pytest.mark.parametrize("dies_after", ["its chunks were written", "its run log was written", "its counts were written"])
def test_a_function_killed_mid_task_is_resumed_by_the_redelivery(aws: Aws, dies_after: str) -> None:
    from ragcore.adapters.dynamodb_store import DynamoMetadataStore
    from ragcore.domain.kinds import INGESTION_LOG
    from ragcore.services.knowledge.chunks.store import ChunkStore

    aws.s3.put_object(Bucket=BUCKET, Key="inbox/kill/a.txt", Body=b"Alpha beta gamma.\n\nDelta epsilon.\n")
    assert aws.run_lambda(aws.drain(aws.inbox_queue)) == {"batchItemFailures": []}
    [plan] = aws.receive(aws.task_queue, visibility=1)  # the function takes the task: in flight for 1 s
    with pytest.MonkeyPatch.context() as mp:
        if dies_after == "its chunks were written":
            write = ChunkStore.write

            def write_then_die(self: ChunkStore, *args: Any, **kwargs: Any) -> None:
                write(self, *args, **kwargs)
                raise Killed

            mp.setattr(ChunkStore, "write", write_then_die)
        elif dies_after == "its run log was written":
            put_many = DynamoMetadataStore.put_many

            def put_then_die(self: DynamoMetadataStore, kind: str, *args: Any, **kwargs: Any) -> None:
                put_many(self, kind, *args, **kwargs)
                if kind == INGESTION_LOG:
                    raise Killed

            mp.setattr(DynamoMetadataStore, "put_many", put_then_die)
        else:  # the document's end and its dataset's counts, written together
            update_many = DynamoMetadataStore.update_many

            def update_then_die(self: DynamoMetadataStore, *args: Any, **kwargs: Any) -> dict[str, Any]:
                done = update_many(self, *args, **kwargs)
                if kwargs.get("tally") is not None:
                    raise Killed
                return done

            mp.setattr(DynamoMetadataStore, "update_many", update_then_die)
        with pytest.raises(Killed):
            aws.run_lambda([plan])  # the message is never deleted: SQS hands it out again after its timeout
    dataset_id, [doc] = ingested(aws, "kill")
    assert doc["run"] == ("DONE" if dies_after == "its counts were written" else "RUNNING")
    time.sleep(1.1)
    again = aws.receive(aws.task_queue, visibility=30)
    assert [r["messageId"] for r in again] == [plan["messageId"]]
    assert aws.deliver(aws.task_queue, again) == {"batchItemFailures": []}
    aws.settle()
    dataset_id, docs = ingested(aws, "kill")
    assert_counted_once(aws, dataset_id, docs)
    assert "Alpha" in best_hit(aws, "alpha", dataset_id)


def test_a_task_abandoned_by_a_killed_function_is_resumed_by_the_lease(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """On AWS the message of a function killed at its timeout comes back only after the queue's visibility timeout
    (6 × the function's): the document's lease lapses first, and the next read of the document parses it again."""
    from ragcore.bootstrap import container as container_module
    from ragcore.services.knowledge.chunks.store import ChunkStore

    monkeypatch.setenv("PARSE_LEASE_S", "1")
    container_module.reset()
    aws.s3.put_object(Bucket=BUCKET, Key="inbox/lapse/a.txt", Body=b"Alpha beta gamma.\n\nDelta epsilon.\n")
    assert aws.run_lambda(aws.drain(aws.inbox_queue)) == {"batchItemFailures": []}
    [plan] = aws.receive(aws.task_queue, visibility=600)  # the function takes the task and dies after its chunks
    with pytest.MonkeyPatch.context() as mp:
        write = ChunkStore.write

        def write_then_die(self: ChunkStore, *args: Any, **kwargs: Any) -> None:
            write(self, *args, **kwargs)
            raise Killed

        mp.setattr(ChunkStore, "write", write_then_die)
        with pytest.raises(Killed):
            aws.run_lambda([plan])
    time.sleep(1.1)
    _, [doc] = ingested(aws, "lapse")  # a status poll: the lease has lapsed, the document is parsed again
    assert doc["run"] == "RUNNING" and "lease expired); parsing again (attempt 2 of 3)" in doc["progress_msg"]
    aws.settle()
    assert aws.run_lambda([plan]) == {"batchItemFailures": []}  # the old message, back at last: its run is gone
    dataset_id, docs = ingested(aws, "lapse")
    assert_counted_once(aws, dataset_id, docs)
    assert "Alpha" in best_hit(aws, "alpha", dataset_id)


def test_a_partial_batch_reports_only_the_bad_message(aws: Aws) -> None:
    drop(aws, "batch")
    assert aws.run_lambda(aws.drain(aws.inbox_queue)) == {"batchItemFailures": []}
    records = aws.receive(aws.task_queue, visibility=30)
    assert len(records) == 3
    bad = dict(records[0], messageId="bad", body=json.dumps({"type": "plan", "tenant": aws.tenant}))  # no document
    assert aws.deliver(aws.task_queue, [*records, bad]) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    aws.settle()
    dataset_id, docs = ingested(aws, "batch")
    assert_counted_once(aws, dataset_id, docs)


def test_pinecone_429_and_503_are_retried_and_the_documents_are_done(aws: Aws, pinecone_fake: FakePinecone) -> None:
    # every upsert fails until six have: the client's own retries give up, the adapter's go on
    pinecone_fake.trouble = Trouble(rate=1.0, paths=("/vectors/upsert",), limit=6, seed=5)
    drop(aws, "busy-index")
    aws.settle()
    assert sum(pinecone_fake.trouble.failed.values()) == 6
    dataset_id, docs = ingested(aws, "busy-index")
    assert_counted_once(aws, dataset_id, docs)
    assert "Dead Sea" in best_hit(aws, "Dead Sea", dataset_id)


def test_pinecone_failing_for_good_fails_the_document_with_the_reason(
        aws: Aws, pinecone_fake: FakePinecone, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.adapters.pinecone_index import PineconeVectorIndex

    monkeypatch.setattr(PineconeVectorIndex, "BACKOFF_S", 0.01)  # the five tries without their seconds of waiting
    pinecone_fake.trouble = Trouble(rate=1.0, statuses=(503,), paths=("/vectors/upsert",))
    aws.s3.put_object(Bucket=BUCKET, Key="inbox/down/a.txt", Body=b"Vectors that never reach the index.\n")
    aws.settle()
    dataset_id, [doc] = ingested(aws, "down")
    assert doc["run"] == "FAIL" and doc["chunk_count"] == 0
    assert "Pinecone kept failing after 5 attempts (HTTP 503)" in doc["progress_msg"]
    pinecone_fake.trouble = None
    assert chunk_rows(aws, dataset_id, doc["id"]) == 0 and dataset_counts(aws, dataset_id) == (1, 0, 0)
    assert best_hit(aws, "vectors index", dataset_id) == ""


def test_contended_parsing_counts_once(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest Lambda's writes (chunks, counts, marks) under conflicts and throttling: the same result."""
    drop(aws, "contended")
    with Faults(Rule("dynamodb", DYNAMODB_WRITES, ("TransactionConflict", "Throttling", "ProvisionedThroughputExceeded"),
                     0.3), seed=13) as faults:
        aws.settle()
    assert faults.total >= 5
    dataset_id, docs = ingested(aws, "contended")
    assert_counted_once(aws, dataset_id, docs)
