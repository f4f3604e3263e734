"""moto applies concurrent requests without a lock (two conditional writes on one item can both succeed there);
DynamoDB, S3 and SQS apply each request atomically. Installed by importing tests.fakes: every request moto
answers in this process runs alone, so a concurrency test's result says something about our code, not moto's.

The lock is held only while moto computes its answer: a test's threads still send, retry and back off
concurrently, and the fault layer (tests.fakes.faults) answers before moto, outside the lock.
"""

from __future__ import annotations

import threading
from typing import Any

_installed = False
LOCK = threading.RLock()  # reentrant: a moto handler that calls another backend through boto3 keeps working


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        with LOCK:
            return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    _installed = True
