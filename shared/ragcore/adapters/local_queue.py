"""JobQueue for the local runtime: a thread pool inside the serving process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("ragcore.queue")


class LocalJobQueue:
    def __init__(self, handler: Callable[[dict[str, Any]], None], workers: int = 2) -> None:
        self._handler = handler
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="parse-worker")
        self._closed = False

    def _run(self, task: dict[str, Any]) -> None:
        try:
            self._handler(task)
        except Exception:  # a failing task must never take a worker down
            log.exception("task failed: %s", {k: task.get(k) for k in ("type", "document_id", "index")})

    def submit(self, task: dict[str, Any]) -> None:
        if self._closed:
            raise RuntimeError("the job queue is stopped")
        self._pool.submit(self._run, dict(task))

    def stop(self, wait: bool = True) -> None:
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
