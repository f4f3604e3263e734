"""Watches ./var/inbox/ by polling (portable, no inotify dependency) and reports settled changes.

A file is reported once its size and mtime stayed the same for one poll, so a file still being
copied in is not ingested half-written.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("ragcore.inbox")

Snapshot = dict[str, tuple[int, int]]


class InboxWatcher:
    def __init__(
        self,
        root: Path,
        on_put: Callable[[str, bytes], None],
        on_remove: Callable[[str], None],
        known: Callable[[], list[str]],
        *,
        interval_s: float = 1.0,
    ) -> None:
        self._root = root
        self._on_put = on_put
        self._on_remove = on_remove
        self._known = known
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        root.mkdir(parents=True, exist_ok=True)

    def scan(self) -> Snapshot:
        found: Snapshot = {}
        for dirpath, dirs, files in os.walk(self._root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                path = Path(dirpath, name)
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                found[path.relative_to(self._root).as_posix()] = (st.st_size, st.st_mtime_ns)
        return found

    def sync_once(self, previous: Snapshot, reported: Snapshot) -> tuple[Snapshot, Snapshot]:
        """One poll: report files unchanged since the last poll that differ from what was reported."""
        current = self.scan()
        for rel, sig in current.items():
            if previous.get(rel) == sig and reported.get(rel) != sig:
                try:
                    self._on_put(rel, (self._root / rel).read_bytes())
                    reported[rel] = sig
                except Exception:
                    log.exception("drop folder: could not ingest %s", rel)
                    reported[rel] = sig
        for rel in list(reported):
            if rel not in current:
                try:
                    self._on_remove(rel)
                except Exception:
                    log.exception("drop folder: could not remove %s", rel)
                reported.pop(rel, None)
        return current, reported

    def start(self) -> None:
        # files removed while the server was down are removed now; the rest are compared by content hash
        reported: Snapshot = {}
        current = self.scan()
        for rel in self._known():
            if rel not in current:
                try:
                    self._on_remove(rel)
                except Exception:
                    log.exception("drop folder: could not remove %s", rel)

        def loop() -> None:
            previous: Snapshot = {}
            state = reported
            while not self._stop.wait(self._interval):
                previous, state = self.sync_once(previous, state)

        self._thread = threading.Thread(target=loop, name="inbox-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
