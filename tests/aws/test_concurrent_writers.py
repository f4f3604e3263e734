"""Concurrent writers on one dataset (tests/workloads/concurrent_writers.py): uploads, deletes and list reads from 24
client threads at once, on the AWS adapters (moto, each request atomic as on AWS) with a fifth of DynamoDB's
writes conflicting or throttled, and the same locally on SQLite. Nothing acknowledged is lost, duplicated or left
behind as a ghost, and the counts are exact. Scaled to stay quick here; bench/concurrent_writers.py runs 24 × 40.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.aws.conftest import emulated_aws
from tests.fakes.faults import contention
from tests.workloads import concurrent_writers as writers

CLIENTS = 24


def make_dataset(tenant: str, name: str) -> str:
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset

    return str(bootstrap.datasets().create(tenant, CreateDataset(name=name))["id"])


@pytest.fixture
def aws_tenant(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, vector_env: dict[str, str]) -> Iterator[str]:
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/writers-tasks"
    env = {"DATA_DIR": str(tmp_path / "var"), "TASK_QUEUE_URL": queue, **vector_env}
    with emulated_aws(monkeypatch, "writers", "writers-bucket", env) as (tenant, _):
        boto3.client("sqs").create_queue(QueueName="writers-tasks")
        yield tenant


def test_concurrent_writers_on_dynamodb_with_conflicts_and_throttling(aws_tenant: str) -> None:
    dataset = make_dataset(aws_tenant, "hot")
    with contention(0.2, seed=30, reads=True) as faults:
        outcome = writers.run(aws_tenant, dataset, clients=CLIENTS, uploads=5)
    assert faults.total > 50  # the run really was contended
    assert outcome.retries >= faults.total  # and every fault was ridden out by a retry, none surfaced
    assert outcome.uploads == CLIENTS * 5 and outcome.deletes == CLIENTS
    assert writers.problems(aws_tenant, dataset, outcome) == []


def test_concurrent_writers_locally(data_dir: Path) -> None:
    from ragcore import bootstrap

    tenant = bootstrap.tenants().create_tenant("local")
    dataset = make_dataset(tenant, "hot")
    with writers.local_workers():
        outcome = writers.run(tenant, dataset, clients=CLIENTS, uploads=12)
    assert outcome.uploads == CLIENTS * 12 and outcome.deletes == CLIENTS * 4
    assert writers.problems(tenant, dataset, outcome) == []
