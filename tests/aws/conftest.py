"""The AWS-runtime tests use Pinecone (through its fake data plane on loopback) as the vector index."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ragcore.bootstrap import container as container_module

from tests.fakes.faults import contention
from tests.fakes.pinecone_server import FakePinecone

BUCKET = "drop-bucket"
TABLE = "ragflow-test"

# the per-request usage line the DynamoDB adapter logs: what a request read and wrote
USAGE = re.compile(r"items_read=(\d+) items_written=(\d+)")


class UsageLines(logging.Handler):
    """Collects log messages (attach it to the usage logger)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(autouse=True)
def suite_contention(request: pytest.FixtureRequest) -> Iterator[None]:
    """RAGFLOW_TEST_CONTENTION=0.2 runs every AWS test with that share of DynamoDB's requests conflicting or throttled
    (tests/fakes/faults.py, reads too): what each test asserts must hold as it does without. Off by default (the
    retries' waits slow the suite down); a test's own fault plan replaces it while it runs."""
    rate = float(os.environ.get("RAGFLOW_TEST_CONTENTION") or 0)
    if not rate:
        yield
        return
    with contention(rate, seed=sum(map(ord, request.node.name)), reads=True):
        yield


@pytest.fixture
def vector_env(pinecone_fake: FakePinecone) -> dict[str, str]:
    """The fake Pinecone's settings (a test that names `pinecone_fake` too gets the same fake, to trouble it)."""
    return {"PINECONE_HOST": pinecone_fake.url, "PINECONE_API_KEY": "test-key"}


@contextmanager
def emulated_aws(mp: pytest.MonkeyPatch, table: str, bucket: str, env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """The AWS runtime under moto: its table (the stack's own schema) and bucket, a fresh container, a tenant and
    its API key."""
    base = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "RAGFLOW_RUNTIME": "aws", "TABLE_NAME": table, "BUCKET_NAME": bucket}
    for name, value in {**base, **env}.items():
        mp.setenv(name, value)
    with mock_aws():
        from ragcore.adapters.table_schema import create_table_kwargs

        boto3.client("dynamodb").create_table(**create_table_kwargs(table))
        boto3.client("s3").create_bucket(Bucket=bucket)
        container_module.reset()
        from ragcore import bootstrap

        tenant = bootstrap.tenants().create_tenant(table)
        try:
            yield tenant, bootstrap.tenants().create_key(tenant).key
        finally:
            container_module.reset()


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
    key: str = ""

    @staticmethod
    def record(m: dict[str, Any]) -> dict[str, Any]:
        """An SQS message as Lambda's event source hands it over."""
        return {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {},
                "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        records = []
        while True:
            got = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            msgs = got.get("Messages", [])
            if not msgs:
                return records
            for m in msgs:
                records.append(self.record(m))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    def receive(self, queue_url: str, visibility: int) -> list[dict[str, Any]]:
        """One batch as the event source takes it: in flight for `visibility` seconds, back in the queue after that
        unless deleted (see deliver)."""
        got = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=visibility)
        return [self.record(m) for m in got.get("Messages", [])]

    def deliver(self, queue_url: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda on a received batch; what it handled is deleted, what it reported failed stays (ReportBatchItemFailures)."""
        result = self.run_lambda(records)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for record in records:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
        return result

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
        key = bootstrap.tenants().create_key(tenant).key
        aws = Aws(s3=s3, sqs=sqs, inbox_queue=inbox, task_queue=tasks, tenant=tenant, key=key)
        aws.drain(inbox)  # moto's s3:TestEvent
        yield aws
        container_module.reset()
