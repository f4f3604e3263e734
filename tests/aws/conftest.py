"""The AWS-runtime tests use Pinecone (through its fake data plane on loopback) as the vector index."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws
from ragcore.bootstrap import container as container_module

from tests.fakes.pinecone_server import FakePinecone

# the per-request usage line the DynamoDB adapter logs: what a request read and wrote
USAGE = re.compile(r"items_read=(\d+) items_written=(\d+)")


class UsageLines(logging.Handler):
    """Collects log messages (attach it to the usage logger)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def vector_env() -> Iterator[dict[str, str]]:
    fake = FakePinecone()
    yield {"PINECONE_HOST": fake.url, "PINECONE_API_KEY": "test-key"}
    fake.close()


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
