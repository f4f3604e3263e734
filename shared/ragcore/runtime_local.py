"""Background work of the local runtime (parse workers, drop-folder watcher), started with the server."""

from __future__ import annotations

from collections.abc import Callable

_starters: list[Callable[[], Callable[[], None]]] = []
_stoppers: list[Callable[[], None]] = []


def register(starter: Callable[[], Callable[[], None]]) -> None:
    """A starter starts a background service and returns its stop function."""
    _starters.append(starter)


def start_background() -> None:
    for start in _starters:
        _stoppers.append(start())


def stop_background() -> None:
    while _stoppers:
        _stoppers.pop()()
