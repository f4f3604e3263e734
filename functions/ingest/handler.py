"""The ingest Lambda: SQS messages that are either tasks (parse, index builds, purges) or S3 drop-folder event
notifications.

The tasks of one SQS batch are handed to the pipeline together, so small documents are embedded and written
together (CDK sets the batch size and batching window); drop-folder events are handled one by one. Failures are
reported per message (ReportBatchItemFailures): only the messages that failed come back, and end in the DLQ after
their retries. Tasks not started when the invocation's time runs low are queued again as new messages (not
failures: no retry is spent on them), so the batch size is not bounded by the slowest tasks. Re-delivery is
harmless: parse tasks rewrite the same chunk ids and count once; a dropped file with the same bytes is a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ragcore import bootstrap
from ragcore.bootstrap.container import get_container
from ragcore.config import get_settings

INBOX = "inbox/"

logger = Logger(service="ingest")
metrics = Metrics(namespace=get_settings().metrics_namespace, service="ingest")


def _drop_tenant() -> str | None:
    return get_container().settings.drop_folder_tenant or bootstrap.tenants().first_tenant()


def handle_s3_record(record: dict[str, Any]) -> None:
    key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
    event = str(record.get("eventName", ""))
    if not key.startswith(INBOX):
        return
    tenant = _drop_tenant()
    if tenant is None:
        logger.warning("drop folder event with no tenant to own it", extra={"key": key})
        return
    rel = key[len(INBOX):]
    blobs = get_container().blobs
    if event.startswith("ObjectCreated"):
        data = blobs.get(key)
        if data is None:  # removed again before this event arrived: the removal event handles it
            return
        bootstrap.dropfolder().put(tenant, rel, data)
        metrics.add_metric(name="DropFolderIngested", unit=MetricUnit.Count, value=1)
    elif event.startswith("ObjectRemoved"):
        if blobs.exists(key):  # replaced after the removal: the newer ObjectCreated wins
            return
        bootstrap.dropfolder().remove(tenant, rel)
        metrics.add_metric(name="DropFolderRemoved", unit=MetricUnit.Count, value=1)


def _message(record: dict[str, Any]) -> Any:
    return json.loads(str(record.get("body") or ""))


def handle_batch(records: list[dict[str, Any]], time_left: Callable[[], float] | None = None) -> list[str]:
    """The message ids that failed (to be delivered again). `time_left`: the invocation's remaining seconds (tasks
    not started near the end are queued again rather than cut off by the timeout)."""
    failed: list[str] = []
    tasks: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            body = _message(record)
            if isinstance(body, dict) and "Records" in body:
                for s3_record in body["Records"]:
                    handle_s3_record(s3_record)
            elif isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
                continue
            elif isinstance(body, dict) and "type" in body:
                tasks.append((message_id, body))
            else:
                logger.warning("ignored an SQS message of unknown shape")
        except Exception:
            logger.exception("a message failed", extra={"message_id": message_id})
            failed.append(message_id)
    if tasks:
        try:
            outcome = bootstrap.ingestion().run_batch([task for _, task in tasks], time_left=time_left)
            positions, deferred = outcome.failed, outcome.deferred
        except Exception:  # the whole batch: every task comes back
            logger.exception("a batch of tasks failed")
            positions, deferred = list(range(len(tasks))), 0
        failed.extend(tasks[position][0] for position in positions)
        metrics.add_metric(name="TasksProcessed", unit=MetricUnit.Count, value=len(tasks) - len(positions) - deferred)
        if deferred:
            metrics.add_metric(name="TasksDeferred", unit=MetricUnit.Count, value=deferred)
    return failed


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failed = handle_batch(list(event.get("Records") or []), lambda: context.get_remaining_time_in_millis() / 1000)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
