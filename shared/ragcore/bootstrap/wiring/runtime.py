"""The job queue and the OCR engine: SQS / the OCR function on AWS, the in-process worker pool / rapidocr locally."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragcore.bootstrap.container import cached, get_container

if TYPE_CHECKING:
    from ragcore.adapters.guarded_http import GuardedFetcher
    from ragcore.parsing.ocr import OcrEngine
    from ragcore.ports import JobQueue


def queue() -> JobQueue:
    """The parse/background job queue: SQS on AWS (built on first use), the worker pool `make serve` started."""
    container = get_container()
    try:
        return container.queue
    except RuntimeError:
        if container.is_aws:
            from ragcore.adapters.sqs_queue import SqsJobQueue

            container.set_queue(SqsJobQueue(container.settings.task_queue_url, endpoint_url=container.settings.aws_endpoint_url))
            return container.queue
        raise


def background(task: dict[str, Any]) -> None:
    queue().submit(task)


def queue_configured() -> None:
    """Raises when no queue is configured (its URL on AWS, the worker pool locally): sending a probe would queue work."""
    container = get_container()
    if container.is_aws and not container.settings.task_queue_url:
        raise RuntimeError("TASK_QUEUE_URL is not set")
    queue()


@cached
def ocr_engine() -> OcrEngine | None:
    """The OCR function on AWS (OCR_FUNCTION_NAME), else the in-process engine when rapidocr is installed."""
    settings = get_container().settings
    if settings.ocr_function:
        from ragcore.adapters.lambda_ocr import LambdaOcr

        return LambdaOcr(settings.ocr_function, endpoint_url=settings.aws_endpoint_url)
    from ragcore.parsing.ocr import local_engine

    return local_engine()


def is_supported(name: str) -> bool:
    from ragcore.parsing import is_supported as supported

    return bool(supported(name))


def guarded_fetcher(allowed_hosts: str, *, max_bytes: int, max_timeout_s: float, allow_setting: str) -> GuardedFetcher:
    """Outbound HTTP that refuses private and loopback targets unless a host is listed in `allowed_hosts` (the
    comma-separated value of the setting named `allow_setting`)."""
    from ragcore.adapters.guarded_http import GuardedFetcher

    hosts = frozenset(h.strip() for h in allowed_hosts.split(",") if h.strip())
    return GuardedFetcher(allowed_hosts=hosts, max_bytes=max_bytes, max_timeout_s=max_timeout_s,
                          allow_setting=allow_setting)
