"""MetadataStore on one SQLite file (WAL), one connection per thread."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ragcore.errors import StorageError
from ragcore.ports import Item

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    kind TEXT NOT NULL, tenant TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (kind, tenant, id)
);
CREATE INDEX IF NOT EXISTS items_by_parent ON items (kind, tenant, parent, seq);
CREATE TABLE IF NOT EXISTS uniques (
    tenant TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,
    PRIMARY KEY (tenant, scope, key)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class SqliteMetadataStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # one writer at a time inside this process; SQLite's busy timeout covers other processes
        self._write_lock = threading.RLock()
        with self._write_lock:
            self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                _rollback(conn)
                raise StorageError(_storage_message(exc)) from exc
            except BaseException:
                _rollback(conn)
                raise

    def _next_seq(self, db: sqlite3.Connection) -> int:
        db.execute("INSERT INTO counters(name, value) VALUES('seq', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1")
        row = db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()
        return int(row[0])

    def put(self, kind: str, tenant: str, item: Item, *, parent: str = "", if_absent: bool = False) -> bool:
        data = json.dumps(item, ensure_ascii=False)
        with self._tx() as db:
            row = db.execute("SELECT seq FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item["id"])).fetchone()
            if row is not None:
                if if_absent:
                    return False
                db.execute(
                    "UPDATE items SET data=?, parent=? WHERE kind=? AND tenant=? AND id=?",
                    (data, parent, kind, tenant, item["id"]),
                )
                return True
            db.execute(
                "INSERT INTO items(kind, tenant, id, parent, seq, data) VALUES (?,?,?,?,?,?)",
                (kind, tenant, item["id"], parent, self._next_seq(db), data),
            )
            return True

    def put_many(self, kind: str, tenant: str, items: list[Item], *, parent: str = "") -> None:
        if not items:
            return
        with self._tx() as db:
            for item in items:
                data = json.dumps(item, ensure_ascii=False)
                cur = db.execute("UPDATE items SET data=?, parent=? WHERE kind=? AND tenant=? AND id=?",
                                 (data, parent, kind, tenant, item["id"]))
                if cur.rowcount == 0:
                    db.execute("INSERT INTO items(kind, tenant, id, parent, seq, data) VALUES (?,?,?,?,?,?)",
                               (kind, tenant, item["id"], parent, self._next_seq(db), data))

    def get(self, kind: str, tenant: str, item_id: str) -> Item | None:
        row = self._conn().execute(
            "SELECT data FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, kind: str, tenant: str, item_ids: list[str]) -> list[Item]:
        """The existing items, in the order asked for, each once."""
        out: list[Item] = []
        ids = list(dict.fromkeys(item_ids))
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._conn().execute(
                f"SELECT data FROM items WHERE kind=? AND tenant=? AND id IN ({marks}) ORDER BY seq",
                (kind, tenant, *part),
            ).fetchall()
            out.extend(json.loads(r[0]) for r in rows)
        rank = {item_id: n for n, item_id in enumerate(ids)}
        return sorted(out, key=lambda it: rank[it["id"]])

    def list(self, kind: str, tenant: str, parent: str | None = None) -> list[Item]:
        if parent is None:
            rows = self._conn().execute(
                "SELECT data FROM items WHERE kind=? AND tenant=? ORDER BY seq", (kind, tenant)
            ).fetchall()
        else:
            rows = self._conn().execute(
                "SELECT data FROM items WHERE kind=? AND tenant=? AND parent=? ORDER BY seq", (kind, tenant, parent)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def update(self, kind: str, tenant: str, item_id: str, changes: Mapping[str, Any]) -> Item | None:
        with self._tx() as db:
            row = db.execute("SELECT data FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id)).fetchone()
            if row is None:
                return None
            item = json.loads(row[0])
            item.update(changes)
            db.execute(
                "UPDATE items SET data=? WHERE kind=? AND tenant=? AND id=?",
                (json.dumps(item, ensure_ascii=False), kind, tenant, item_id),
            )
            return item  # type: ignore[no-any-return]

    def increment(self, kind: str, tenant: str, item_id: str, deltas: Mapping[str, int | float]) -> Item | None:
        with self._tx() as db:
            row = db.execute("SELECT data FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id)).fetchone()
            if row is None:
                return None
            item = json.loads(row[0])
            for field, delta in deltas.items():
                item[field] = (item.get(field) or 0) + delta
            db.execute(
                "UPDATE items SET data=? WHERE kind=? AND tenant=? AND id=?",
                (json.dumps(item, ensure_ascii=False), kind, tenant, item_id),
            )
            return item  # type: ignore[no-any-return]

    def delete(self, kind: str, tenant: str, item_id: str) -> bool:
        with self._tx() as db:
            cur = db.execute("DELETE FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id))
            return cur.rowcount > 0

    def delete_under(self, kind: str, tenant: str, parent: str) -> int:
        with self._tx() as db:
            cur = db.execute("DELETE FROM items WHERE kind=? AND tenant=? AND parent=?", (kind, tenant, parent))
            return cur.rowcount

    def claim(self, tenant: str, scope: str, key: str, owner: str) -> bool:
        with self._tx() as db:
            row = db.execute("SELECT owner FROM uniques WHERE tenant=? AND scope=? AND key=?", (tenant, scope, key)).fetchone()
            if row is not None:
                return bool(row[0] == owner)
            db.execute("INSERT INTO uniques(tenant, scope, key, owner) VALUES (?,?,?,?)", (tenant, scope, key, owner))
            return True

    def release(self, tenant: str, scope: str, key: str, owner: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM uniques WHERE tenant=? AND scope=? AND key=? AND owner=?", (tenant, scope, key, owner))


def _rollback(conn: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):
        conn.execute("ROLLBACK")


def _storage_message(exc: sqlite3.OperationalError) -> str:
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return "The data folder is read-only: cannot write metadata."
    if "full" in text:
        return "The disk is full: cannot write metadata."
    return f"The metadata store failed: {exc}"
