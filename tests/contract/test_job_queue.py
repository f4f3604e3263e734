"""The JobQueue adapters: the local pool runs tasks; SQS carries exactly the JSON task."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3


def test_local_queue_runs_tasks_and_survives_failures() -> None:
    from ragcore.adapters.local_queue import LocalJobQueue

    done: list[int] = []
    lock = threading.Lock()

    def handler(task: dict[str, Any]) -> None:
        if task["n"] == 3:
            raise ValueError("boom")
        with lock:
            done.append(task["n"])

    queue = LocalJobQueue(handler, workers=2)
    for n in range(10):
        queue.submit({"n": n})
    queue.stop(wait=True)
    assert sorted(done) == [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_sqs_queue_sends_json(aws_env: None) -> None:
    from ragcore.adapters.sqs_queue import SqsJobQueue

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="tasks")["QueueUrl"]
    queue = SqsJobQueue(url)
    queue.submit({"type": "plan", "document_id": "d1"})
    queue.submit_many([{"type": "parse", "index": i} for i in range(12)])
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        for m in got:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert {"type": "plan", "document_id": "d1"} in bodies
    assert sorted(b["index"] for b in bodies if b["type"] == "parse") == list(range(12))
