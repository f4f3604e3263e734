"""Wiring of the system area: health of our components, log levels, conversation statistics, Langfuse traces."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import runtime

if TYPE_CHECKING:
    from collections.abc import Callable

    from ragcore.services.system.conversation_stats import ConversationStats
    from ragcore.services.system.langfuse import LangfuseService
    from ragcore.services.system.status import LogLevels, Probe


@cached
def conversation_stats() -> ConversationStats:
    from ragcore.services.system.conversation_stats import ConversationStats

    return ConversationStats(get_container().store)


@cached
def _trace_sender() -> ThreadPoolExecutor:
    # traces leave after the answer, off the request's thread; two threads keep a slow Langfuse from piling up work
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="langfuse")


def _send_later(job: Callable[[], None]) -> None:
    _trace_sender().submit(job)


@cached
def langfuse() -> LangfuseService:
    from ragcore.services.system.langfuse import LangfuseService

    settings = get_container().settings
    fetcher = runtime.guarded_fetcher(settings.langfuse_allowed_hosts, max_bytes=1024 * 1024, max_timeout_s=10.0,
                                      allow_setting="LANGFUSE_ALLOWED_HOSTS")
    return LangfuseService(get_container().store, fetcher, _send_later)


@cached
def log_levels() -> LogLevels:
    from ragcore.services.system.status import LogLevels

    return LogLevels(get_container().settings.log_level)


def status_probes() -> list[Probe]:
    """A cheap call per component of /system/status; each adapter is built by its probe, so one that cannot be
    built is reported red instead of failing the route."""
    from ragcore.services.system.status import Probe

    container = get_container()
    aws = container.is_aws
    return [
        Probe("doc_engine", {"type": "pinecone" if container.settings.pinecone_host else "local"},
              lambda: container.index.count("_health")),
        Probe("storage", {"storage": "s3" if aws else "local"}, lambda: container.blobs.exists("_health")),
        Probe("database", {"database": "dynamodb" if aws else "sqlite"},
              lambda: container.store.get("tenant", "_health", "_health")),
        # the queue is configured (its URL on AWS, the worker pool locally): sending a probe would queue work
        Probe("queue", {"queue": "sqs" if aws else "local"}, runtime.queue_configured),
    ]
