"""System routes' answers: the health of our components (RAGFlow's /system/status shape), runtime log levels
(/system/config/log) and the document engines RAGFlow can report on that we never use."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ragcore.errors import ApiError, RetCode


@dataclass(frozen=True)
class Probe:
    """One component of /system/status: the section RAGFlow names it under, the fields that say which
    implementation it is ({"database": "sqlite"}), and a cheap call that raises when it does not answer."""

    section: str
    label: dict[str, str]
    check: Callable[[], object]


def component_status(probes: list[Probe]) -> dict[str, Any]:
    """Each component green or red with the time its check took (ms, one decimal, as RAGFlow formats it)."""
    out: dict[str, Any] = {}
    for probe in probes:
        started = time.perf_counter()
        entry: dict[str, Any] = dict(probe.label)
        try:
            probe.check()
            entry["status"] = "green"
        except Exception as exc:  # a broken component is what this route reports, not a failure of the route
            entry["status"] = "red"
            entry["error"] = str(exc) or type(exc).__name__
        entry["elapsed"] = f"{(time.perf_counter() - started) * 1000.0:.1f}"
        out[probe.section] = entry
    # RAGFlow lists its task executors' heartbeats; our workers are a thread pool or the ingest Lambda: none to list
    out["task_executor_heartbeats"] = {}
    return out


class LogLevels:
    """The levels set per logger at runtime, as RAGFlow keeps them: the process's own (one Lambda instance's on
    AWS, as RAGFlow's is one server's)."""

    def __init__(self, root_level: str) -> None:
        self._lock = threading.Lock()
        root = logging.getLevelName(root_level.strip().upper())
        self._levels = {"root": logging.getLevelName(root) if isinstance(root, int) else "INFO"}

    def get(self) -> dict[str, str]:
        with self._lock:
            return dict(self._levels)

    def set(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or "pkg_name" not in payload or "level" not in payload:
            raise ApiError(RetCode.DATA_ERROR, "pkg_name and level are required")
        pkg_name, level = payload["pkg_name"], payload["level"]
        value = logging.getLevelName(level.strip().upper()) if isinstance(level, str) else None
        if not isinstance(value, int):
            raise ApiError(RetCode.DATA_ERROR, f"Invalid log level: {level}")
        if not isinstance(pkg_name, str):
            raise ApiError(RetCode.DATA_ERROR, "pkg_name and level are required")
        with self._lock:
            self._levels[pkg_name] = logging.getLevelName(value)
            logging.getLogger(pkg_name).setLevel(value)
        return {"pkg_name": pkg_name, "level": level}


def oceanbase_status() -> tuple[dict[str, Any], int]:
    """RAGFlow's answer when OceanBase is not its document engine: the error, as data, under code 500."""
    return {"status": "error", "message": "Failed to get OceanBase status: OceanBase is not in use."}, RetCode.SERVER_ERROR


def gaussdb_status() -> dict[str, Any]:
    """RAGFlow's answer when GaussDB is not its document engine (a success)."""
    return {"status": "not_configured", "message": "GaussDB is not configured as the document engine"}
