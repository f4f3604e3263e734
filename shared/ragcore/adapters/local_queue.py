"""JobQueue for the local runtime: worker threads inside the serving process.

A worker takes every task waiting, up to `batch_size`, and hands them over together: the ingestion pipeline embeds
and writes small documents' chunks in one go (as the ingest Lambda does with an SQS batch), so a thousand small
files cost about what embedding their chunks costs.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("ragcore.queue")

Task = dict[str, Any]
_STOP: Task = {"type": "_stop"}


class LocalJobQueue:
    def __init__(self, handler: Callable[[list[Task]], list[int]], workers: int = 2, *, batch_size: int = 32) -> None:
        """`handler` takes a batch and returns the positions of the tasks that failed (logged here; the local
        runtime does not retry: a failed document is FAIL with its reason, and a restart re-queues RUNNING ones)."""
        self._handler = handler
        self._batch_size = max(1, batch_size)
        self._tasks: queue.SimpleQueue[Task] = queue.SimpleQueue()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"parse-worker-{n}", daemon=True)
                         for n in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def _take(self) -> list[Task] | None:
        first = self._tasks.get()
        if first is _STOP:
            return None
        batch = [first]
        while len(batch) < self._batch_size:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is _STOP:
                self._tasks.put(_STOP)  # for this worker's next turn: finish the batch in hand first
                break
            batch.append(task)
        return batch

    def _work(self) -> None:
        while (batch := self._take()) is not None:
            try:
                failed = self._handler(batch)
            except Exception:  # a failing batch must never take a worker down
                log.exception("a batch of %d tasks failed", len(batch))
                continue
            for position in failed:
                task = batch[position]
                log.error("task failed: %s", {k: task.get(k) for k in ("type", "document_id", "index")})

    def submit(self, task: Task) -> None:
        if self._closed:
            raise RuntimeError("the job queue is stopped")
        self._tasks.put(dict(task))

    def stop(self, wait: bool = True) -> None:
        """wait: the tasks already submitted run, then the workers exit. Otherwise the tasks still waiting are
        dropped (a restart re-queues documents left RUNNING) and the workers exit after the batch in hand."""
        self._closed = True
        while not wait:
            try:
                self._tasks.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            self._tasks.put(_STOP)
        if wait:
            for thread in self._threads:
                thread.join(timeout=60)
