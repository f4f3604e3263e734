"""The ingest Lambda: SQS messages that are either parse tasks or S3 drop-folder event notifications.

Each SQS record is processed on its own (Powertools batch processing with partial failures), so one bad
record is retried (and ends in the DLQ) without holding back the others. Re-delivery is harmless: parse
tasks rewrite the same chunk ids and count once; a dropped file with the same bytes is a no-op.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ragcore import bootstrap
from ragcore.bootstrap.container import get_container
from ragcore.config import get_settings

INBOX = "inbox/"

logger = Logger(service="ingest")
metrics = Metrics(namespace=get_settings().metrics_namespace, service="ingest")
processor = BatchProcessor(event_type=EventType.SQS)


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


def record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body)
    if isinstance(body, dict) and "Records" in body:
        for s3_record in body["Records"]:
            handle_s3_record(s3_record)
    elif isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
        return
    elif isinstance(body, dict) and "type" in body:
        bootstrap.ingestion().handle(body)
        metrics.add_metric(name="TasksProcessed", unit=MetricUnit.Count, value=1)
    else:
        logger.warning("ignored an SQS message of unknown shape")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response: dict[str, Any] = dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
    return response
