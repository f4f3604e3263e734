"""The AWS ingestion path under moto: S3 drop folder → SQS → ingest Lambda → DynamoDB + Pinecone (fake).

S3 → SQS notifications work in moto (S3 → Lambda would need Docker), so the test captures the SQS
messages S3 sends and hands them to functions.ingest.handler.handler exactly as Lambda would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ragcore.bootstrap import container as container_module

BUCKET = "drop-bucket"
TABLE = "ragflow-test"


@dataclass
class Context:
    function_name: str = "ingest"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ingest"
    aws_request_id: str = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class Aws:
    s3: Any
    sqs: Any
    inbox_queue: str
    task_queue: str
    tenant: str

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        records = []
        while True:
            got = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            msgs = got.get("Messages", [])
            if not msgs:
                return records
            for m in msgs:
                records.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                                "awsRegion": "us-east-1"})
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    def run_lambda(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        from functions.ingest.handler import handler

        return handler({"Records": records}, Context())  # type: ignore[arg-type]

    def settle(self, rounds: int = 20) -> None:
        """Feed every queued message (drop-folder events, then parse tasks they create) to the Lambda."""
        for _ in range(rounds):
            records = self.drain(self.inbox_queue) + self.drain(self.task_queue)
            if not records:
                return
            result = self.run_lambda(records)
            assert result == {"batchItemFailures": []}, result


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, vector_env: dict[str, str]) -> Iterator[Aws]:
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        from ragcore.adapters.table_schema import create_table_kwargs

        boto3.client("dynamodb").create_table(**create_table_kwargs(TABLE))
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        sqs = boto3.client("sqs")
        inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        tasks = sqs.create_queue(QueueName="tasks")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "inbox/"}]}},
        }]})
        for name, value in {"RAGFLOW_RUNTIME": "aws", "TABLE_NAME": TABLE, "BUCKET_NAME": BUCKET, "TASK_QUEUE_URL": tasks,
                            "DATA_DIR": str(tmp_path / "var"), **vector_env}.items():
            monkeypatch.setenv(name, value)
        container_module.reset()
        from ragcore import bootstrap

        tenant = bootstrap.tenants().create_tenant("aws")
        bootstrap.tenants().create_key(tenant)
        aws = Aws(s3=s3, sqs=sqs, inbox_queue=inbox, task_queue=tasks, tenant=tenant)
        aws.drain(inbox)  # moto's s3:TestEvent
        yield aws
        container_module.reset()


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
