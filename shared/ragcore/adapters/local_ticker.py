"""A function called every few seconds on a thread of the serving process: locally, the connector scheduler's tick
(on AWS an EventBridge rule calls the same tick)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("ragcore.ticker")


class Ticker:
    def __init__(self, tick: Callable[[], Any], *, interval_s: float, name: str = "ticker") -> None:
        self._tick = tick
        self._interval = max(interval_s, 0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._tick()
            except Exception:  # the next tick tries again; a failing one must not end the thread
                log.exception("tick failed")

    def stop(self) -> None:
        self._stop.set()
