"""Items read and written per request, and requests the store retried because it was busy (throttled or contended):
adapters count, the API layer reports (metrics and a debug log line).

A context variable, so concurrent requests (threads or tasks) each count their own; work outside a request
counts into a process-wide meter that nobody reads.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Meter:
    items_read: int = 0
    items_written: int = 0
    retries: int = 0


_current: ContextVar[Meter | None] = ContextVar("ragcore_usage", default=None)
_background = Meter()


def start() -> Meter:
    """A fresh meter for the request running in this context."""
    meter = Meter()
    _current.set(meter)
    return meter


def current() -> Meter:
    return _current.get() or _background


def read(n: int) -> None:
    if n:
        current().items_read += n


def wrote(n: int) -> None:
    if n:
        current().items_written += n


def retried(n: int = 1) -> None:
    current().retries += n
