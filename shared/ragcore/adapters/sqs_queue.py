"""JobQueue on SQS: each task is one JSON message the ingest Lambda consumes."""

from __future__ import annotations

import json
from typing import Any

import boto3


class SqsJobQueue:
    def __init__(self, queue_url: str, endpoint_url: str | None = None) -> None:
        self._url = queue_url
        self._sqs = boto3.client("sqs", endpoint_url=endpoint_url)

    def submit(self, task: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(task))

    def submit_many(self, tasks: list[dict[str, Any]]) -> None:
        for start in range(0, len(tasks), 10):
            entries: list[Any] = [{"Id": str(n), "MessageBody": json.dumps(t)} for n, t in enumerate(tasks[start : start + 10])]
            result = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            if result.get("Failed"):
                raise RuntimeError(f"SQS refused {len(result['Failed'])} task(s): {result['Failed'][0].get('Message')}")
