"""The AWS ingestion path under moto: S3 drop folder → SQS → ingest Lambda → DynamoDB + Pinecone (fake).

S3 → SQS notifications work in moto (S3 → Lambda would need Docker), so the test captures the SQS
messages S3 sends and hands them to functions.ingest.handler.handler exactly as Lambda would.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.aws.conftest import BUCKET, Aws


def documents_of(aws: Aws, dataset_id: str) -> list[dict[str, Any]]:
    from ragcore import bootstrap

    return bootstrap.documents().list(aws.tenant, dataset_id, {"page_size": 100}, {})[0]


def search(aws: Aws, question: str, dataset_id: str) -> dict[str, Any]:
    from ragcore import bootstrap

    return bootstrap.retrieval().retrieve(aws.tenant, question=question, dataset_ids=[dataset_id], similarity_threshold=0.0)


def test_drop_folder_on_s3(aws: Aws) -> None:
    from ragcore import bootstrap

    aws.s3.put_object(Bucket=BUCKET, Key="inbox/handbook/rules of play.txt", Body=b"Goalkeepers may handle the ball.\n")
    aws.settle()
    dataset = bootstrap.datasets().find_by_name(aws.tenant, "handbook")
    assert dataset is not None
    docs = documents_of(aws, dataset["id"])
    assert [(d["name"], d["run"]) for d in docs] == [("rules of play.txt", "DONE")], [d["progress_msg"] for d in docs]
    assert search(aws, "goalkeepers", dataset["id"])["total"] == 1

    # the same event twice: no duplicate document, no duplicate chunks
    aws.s3.put_object(Bucket=BUCKET, Key="inbox/handbook/rules of play.txt", Body=b"Goalkeepers may handle the ball.\n")
    aws.settle()
    assert len(documents_of(aws, dataset["id"])) == 1
    assert search(aws, "goalkeepers", dataset["id"])["total"] == 1

    # replaced bytes re-ingest
    aws.s3.put_object(Bucket=BUCKET, Key="inbox/handbook/rules of play.txt", Body=b"Offside rules changed in 1990.\n")
    aws.settle()
    assert search(aws, "offside", dataset["id"])["total"] == 1
    assert all("Goalkeepers" not in c["content"] for c in search(aws, "goalkeepers", dataset["id"])["chunks"])

    # ObjectRemoved removes the document and every chunk
    aws.s3.delete_object(Bucket=BUCKET, Key="inbox/handbook/rules of play.txt")
    aws.settle()
    assert documents_of(aws, dataset["id"]) == []
    assert search(aws, "offside", dataset["id"])["total"] == 0


def test_repeated_task_message_counts_once(aws: Aws) -> None:
    from ragcore import bootstrap

    aws.s3.put_object(Bucket=BUCKET, Key="inbox/kb/a.txt", Body=b"Alpha beta gamma.\n\nDelta epsilon.\n")
    records = aws.drain(aws.inbox_queue)
    assert aws.run_lambda(records) == {"batchItemFailures": []}
    queued = aws.drain(aws.task_queue)
    [plan] = [r for r in queued if json.loads(r["body"])["type"] == "plan"]  # a one-range document: the plan
    others = [r for r in queued if r is not plan]  # task parses it, no second task; the rest (a purge) run too
    assert aws.run_lambda(others) == {"batchItemFailures": []}
    assert aws.run_lambda([plan, dict(plan, messageId="dup")]) == {"batchItemFailures": []}  # delivered twice
    assert aws.drain(aws.task_queue) == []
    assert aws.run_lambda([dict(plan, messageId="late")]) == {"batchItemFailures": []}  # and again, later
    dataset = bootstrap.datasets().find_by_name(aws.tenant, "kb")
    assert dataset is not None
    [doc] = documents_of(aws, dataset["id"])
    assert doc["run"] == "DONE"
    stored = bootstrap.documents().find(aws.tenant, dataset["id"], doc["id"])
    assert stored is not None
    rows = bootstrap.chunk_store().count(aws.tenant, stored)
    assert doc["chunk_count"] == rows >= 1
    assert bootstrap.datasets().find(aws.tenant, dataset["id"])["chunk_count"] == rows  # type: ignore[index]
    stats = bootstrap.chunk_store().stats.read(aws.tenant, [dataset["id"]], ["alpha"])
    assert (stats.chunks, stats.frequency["alpha"]) == (rows, 1)  # the keyword statistics counted it once


def test_bad_message_is_a_partial_failure(aws: Aws) -> None:
    good = {"messageId": "1", "receiptHandle": "r", "body": json.dumps({"Event": "s3:TestEvent"}), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn", "awsRegion": "us-east-1"}
    bad = dict(good, messageId="2", body="{not json")
    started = time.time()
    assert aws.run_lambda([good, bad]) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert time.time() - started < 10


def test_raptor_and_graph_run_on_the_ingest_lambda(aws: Aws) -> None:
    from ragcore import bootstrap

    lines = [f"Glacier {n} carves valley {n} and melts into river {n} in summer." for n in range(150)]
    aws.s3.put_object(Bucket=BUCKET, Key="inbox/ice/glaciers.txt", Body="\n".join(lines).encode())
    aws.settle()
    dataset = bootstrap.datasets().find_by_name(aws.tenant, "ice")
    assert dataset is not None
    before = bootstrap.datasets().find(aws.tenant, dataset["id"])["chunk_count"]  # type: ignore[index]
    assert before >= 2
    tasks = bootstrap.index_tasks()
    raptor = tasks.run(aws.tenant, dataset["id"], "raptor")
    graph = tasks.run(aws.tenant, dataset["id"], "graph")
    aws.settle()  # the jobs went through SQS to the ingest Lambda
    assert tasks.trace(aws.tenant, dataset["id"], "raptor")["id"] == raptor
    assert tasks.trace(aws.tenant, dataset["id"], "raptor")["progress"] == 1
    assert tasks.trace(aws.tenant, dataset["id"], "graph")["id"] == graph
    after = bootstrap.datasets().find(aws.tenant, dataset["id"])["chunk_count"]  # type: ignore[index]
    assert after > before  # summaries in DynamoDB and Pinecone, searchable
    assert "glacier" in {n["id"] for n in tasks.knowledge_graph(aws.tenant, dataset["id"])["graph"]["nodes"]}


def test_deepdoc_pdf_tables_and_positions_on_the_ingest_lambda(aws: Aws) -> None:
    """A PDF dropped into a new dataset (RAGFlow's default layout_recognize, DeepDOC): HTML table chunks whose
    positions come back from DynamoDB as the integers that were written."""
    from ragcore import bootstrap

    from tests.unit.layout_pdfs import RULED, UNRULED, table_page

    aws.s3.put_object(Bucket=BUCKET, Key="inbox/reports/tables.pdf", Body=table_page()[0])
    aws.settle()
    dataset = bootstrap.datasets().find_by_name(aws.tenant, "reports")
    assert dataset is not None and dataset["parser_config"]["layout_recognize"] == "DeepDOC"
    [doc] = documents_of(aws, dataset["id"])
    assert doc["run"] == "DONE", doc["progress_msg"]
    chunks = bootstrap.chunks().list(aws.tenant, dataset["id"], doc["id"], {"page_size": 100})["chunks"]
    tables = [c for c in chunks if c["content"].startswith("<table>")]
    assert len(tables) == 2
    for table, rows in zip(tables, (RULED, UNRULED), strict=True):
        assert all(f"<td>{cell}</td>" in table["content"] for row in rows for cell in row)
    positions = [p for c in chunks for p in c["positions"]]
    assert positions and all(type(v) is int for p in positions for v in p)
    assert all(p[0] == 1 and p[1] < p[2] and p[3] < p[4] for p in positions)


class RunningOut:
    """A Lambda context whose remaining time drops to `low_ms` after `full_reads` readings."""

    def __init__(self, full_reads: int, low_ms: int) -> None:
        self.reads, self.full_reads, self.low_ms = 0, full_reads, low_ms
        self.function_name, self.memory_limit_in_mb, self.aws_request_id = "ingest", 3008, "req"
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ingest"

    def get_remaining_time_in_millis(self) -> int:
        self.reads += 1
        return 900_000 if self.reads <= self.full_reads else self.low_ms


def emitted_metrics(out: str) -> dict[str, float]:
    """The metrics of the CloudWatch embedded-metric-format records a function printed."""
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    names = [m["Name"] for r in records for d in r["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    values = {name: [v for r in records if name in r for v in (r[name] if isinstance(r[name], list) else [r[name]])]
              for name in names}
    return {name: sum(float(v) for v in vs) for name, vs in values.items()}


def test_tasks_not_started_near_the_timeout_are_queued_again(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset

    from functions.ingest.handler import handler

    dataset = bootstrap.datasets().create(aws.tenant, CreateDataset(name="deadline"))["id"]
    files = [(f"{word}.txt", f"{word} is the word of document {n}.".encode()) for n, word in enumerate(["amber", "basil", "cedar"])]
    ids = [d["id"] for d in bootstrap.documents().upload(aws.tenant, dataset, files)]
    bootstrap.document_parsing().start_parse(aws.tenant, dataset, {"document_ids": ids})
    records = aws.drain(aws.task_queue)
    assert sorted(json.loads(r["body"])["document_id"] for r in records) == sorted(ids)

    # the reserve is a third of 900 s; after the first task only 200 s are left: the other two are not started
    result = handler({"Records": records}, RunningOut(full_reads=2, low_ms=200_000))  # type: ignore[arg-type]
    assert result == {"batchItemFailures": []}  # not failures: no retry spent, nothing towards the DLQ
    counted = emitted_metrics(capsys.readouterr().out)
    assert (counted.get("TasksProcessed"), counted.get("TasksDeferred")) == (1, 2)
    runs = {d["id"]: d["run"] for d in documents_of(aws, dataset)}
    first = json.loads(records[0]["body"])["document_id"]
    assert runs[first] == "DONE" and sorted(r for i, r in runs.items() if i != first) == ["RUNNING", "RUNNING"]

    requeued = aws.drain(aws.task_queue)  # new messages with the same tasks
    assert sorted(r["body"] for r in requeued) == sorted(r["body"] for r in records[1:])
    assert aws.run_lambda(requeued) == {"batchItemFailures": []}
    docs = documents_of(aws, dataset)
    assert {d["run"] for d in docs} == {"DONE"} and all(d["chunk_count"] == 1 for d in docs)
    assert bootstrap.datasets().find(aws.tenant, dataset)["chunk_count"] == 3  # type: ignore[index]
    assert [c["content"] for c in search(aws, "basil", dataset)["chunks"]][0] == "basil is the word of document 1."
