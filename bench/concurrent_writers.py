"""Concurrent writers on one dataset: uploads/s and the store's retries per write at 1, 8 and 24 clients, locally
(SQLite, the local worker pool purging behind the deletes) and on the AWS adapters (DynamoDB, S3 and SQS under
moto in this process, each request atomic as on AWS), without and with injected faults (a share of DynamoDB's
writes conflicting or throttled, batch writes partly unprocessed, reads throttled at the same rate).

Each client uploads its documents one by one, deletes every third and reads the list every fourth step
(tests/workloads/concurrent_writers.py); every run is counted back: lost, duplicated, ghosts, the list's total,
the dataset's document_count and size. A run with a problem is reported as such.

    .venv/bin/python bench/concurrent_writers.py [--uploads 40] [--clients 1,8,24] [--rate 0.2] [--only local|aws]

moto answers one request at a time, ~10x slower than DynamoDB: the AWS rows measure the adapters' retries and
what contention costs them, not DynamoDB's throughput (docs/storage.md models that). Faults apply to the AWS
adapters only: the local store has no remote service to fail.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]


def new_dataset(tenant: str, name: str) -> str:
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset

    return str(bootstrap.datasets().create(tenant, CreateDataset(name=name))["id"])


@contextmanager
def local_runtime() -> Iterator[str]:
    from ragcore import bootstrap
    from ragcore.bootstrap import container

    from tests.workloads.concurrent_writers import local_workers

    with tempfile.TemporaryDirectory() as data:
        os.environ.update({"DATA_DIR": data, "RAGFLOW_RUNTIME": "local"})
        container.reset()
        with local_workers():
            yield bootstrap.tenants().create_tenant("bench")
        container.reset()


@contextmanager
def aws_runtime() -> Iterator[str]:
    import boto3
    import pytest

    import tests.fakes  # noqa: F401  (moto atomic per request, made proportional to the work, the fault hook)
    from tests.aws.conftest import emulated_aws
    from tests.fakes.pinecone_server import FakePinecone

    fake = FakePinecone()
    mp = pytest.MonkeyPatch()
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/bench-tasks"
    with tempfile.TemporaryDirectory() as data, emulated_aws(mp, "bench", "bench-bucket", {
            "DATA_DIR": data, "TASK_QUEUE_URL": queue, "PINECONE_HOST": fake.url, "PINECONE_API_KEY": "k"}) as (tenant, _):
        boto3.client("sqs").create_queue(QueueName="bench-tasks")
        yield tenant
    mp.undo()
    fake.close()


def measure(runtime: str, tenant: str, clients: int, uploads: int, rate: float, seed: int) -> dict[str, Any]:
    from tests.fakes.faults import contention
    from tests.workloads import concurrent_writers as writers

    dataset = new_dataset(tenant, f"hot-{clients}-{rate}")
    faults: Any = contention(rate, seed=seed, reads=True) if rate else None
    guard: AbstractContextManager[Any] = faults if faults is not None else nullcontext()
    with guard:
        outcome = writers.run(tenant, dataset, clients=clients, uploads=uploads)
    found = writers.problems(tenant, dataset, outcome)
    return {"runtime": runtime, "faults": f"{rate:.0%}" if rate else "none", "clients": clients,
            "uploads": outcome.uploads, "deletes": outcome.deletes, "lists": outcome.lists, "seconds": outcome.seconds,
            "uploads_s": outcome.uploads / outcome.seconds, "retries": outcome.retries / max(outcome.writes, 1),
            "injected": (faults.total if faults is not None else 0) / max(outcome.writes, 1),
            "problems": "; ".join(found)[:200] or "none"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uploads", type=int, default=40, help="uploads per client")
    ap.add_argument("--clients", default="1,8,24")
    ap.add_argument("--rate", type=float, default=0.2, help="share of DynamoDB requests that fail in the faulty runs")
    ap.add_argument("--only", choices=["local", "aws"])
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # the adapters log every refused try; the table says how many
    counts = [int(c) for c in args.clients.split(",")]
    runtimes: list[tuple[str, Callable[[], AbstractContextManager[str]], list[float]]] = [
        ("local", local_runtime, [0.0]), ("aws", aws_runtime, [0.0, args.rate])]
    print(f"{'runtime':8}{'faults':>8}{'clients':>9}{'uploads':>9}{'deletes':>9}{'lists':>7}{'s':>8}"
          f"{'uploads/s':>11}{'retries/write':>15}{'faults/write':>14}  problems", flush=True)
    for name, runtime, rates in runtimes:
        if args.only and args.only != name:
            continue
        with runtime() as tenant:
            for rate in rates:
                for clients in counts:
                    row = measure(name, tenant, clients, args.uploads, rate, seed=clients)
                    print(f"{row['runtime']:8}{row['faults']:>8}{row['clients']:>9}{row['uploads']:>9}{row['deletes']:>9}"
                          f"{row['lists']:>7}{row['seconds']:>8.1f}{row['uploads_s']:>11.1f}{row['retries']:>15.3f}"
                          f"{row['injected']:>14.3f}  {row['problems']}", flush=True)


if __name__ == "__main__":
    main()
