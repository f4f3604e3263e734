"""MetadataStore on one SQLite file (WAL), one connection per thread.

Every item is one row: its JSON plus the columns lists need (creation sequence, update time, the kind's two filter
slots and its lowercased name, see ragcore.domain.kinds), each order and slot with its own index, so a page is an
index range and never a sort of the collection. Counts per parent and slot value live in `counts`, kept by
triggers in the same transaction as the row, so a list's total is one indexed read.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson

from ragcore.domain.kinds import fields_of, filter_value, name_key, position_of, slot_values
from ragcore.errors import StorageError
from ragcore.ports import Item, ListQuery, Tally

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    kind TEXT NOT NULL, tenant TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (kind, tenant, id)
);
CREATE TABLE IF NOT EXISTS uniques (
    tenant TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,
    PRIMARY KEY (tenant, scope, key)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_COLUMNS = ("cpos INTEGER NOT NULL DEFAULT 0", "utime INTEGER NOT NULL DEFAULT 0", "ctime INTEGER NOT NULL DEFAULT 0", "fa TEXT", "fb TEXT",
            "lname TEXT NOT NULL DEFAULT ''")

# one index per order × slot: a page of any flat list is a range of one of them
_INDEXES = """
DROP INDEX IF EXISTS items_by_parent;
CREATE INDEX IF NOT EXISTS items_by_arrival ON items (kind, tenant, parent, seq);
CREATE INDEX IF NOT EXISTS items_by_create ON items (kind, tenant, parent, cpos, seq);
CREATE INDEX IF NOT EXISTS items_by_update ON items (kind, tenant, parent, utime, seq);
CREATE INDEX IF NOT EXISTS items_by_a ON items (kind, tenant, parent, fa, cpos, seq);
CREATE INDEX IF NOT EXISTS items_by_a_update ON items (kind, tenant, parent, fa, utime, seq);
CREATE INDEX IF NOT EXISTS items_by_b ON items (kind, tenant, parent, fb, cpos, seq);
CREATE INDEX IF NOT EXISTS items_by_b_update ON items (kind, tenant, parent, fb, utime, seq);
CREATE INDEX IF NOT EXISTS items_by_name ON items (kind, tenant, parent, lname, seq);
CREATE TABLE IF NOT EXISTS counts (
    kind TEXT NOT NULL, tenant TEXT NOT NULL, parent TEXT NOT NULL, slot TEXT NOT NULL, value TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (kind, tenant, parent, slot, value)
);
"""


def _loads(data: str) -> Item:
    """orjson reads ~3x faster (a question reads its ~250 candidates); json takes what orjson refuses (NaN)."""
    try:
        return orjson.loads(data)  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:
        return json.loads(data)  # type: ignore[no-any-return]


def _count_sql(row: str, delta: int) -> str:
    """Trigger statements adding delta to the counts of the row (`new` or `old`): all, slot a, slot b."""
    parts = []
    for slot, column in (("", "''"), ("a", f"{row}.fa"), ("b", f"{row}.fb")):
        guard = "1" if slot == "" else f"{row}.fa IS NOT NULL" if slot == "a" else f"{row}.fb IS NOT NULL"
        parts.append(
            f"INSERT INTO counts(kind, tenant, parent, slot, value, n) SELECT {row}.kind, {row}.tenant, {row}.parent, "
            f"'{slot}', {column}, {delta} WHERE {guard} "
            f"ON CONFLICT(kind, tenant, parent, slot, value) DO UPDATE SET n = n + ({delta});"
        )
    return "\n".join(parts)


_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS items_counted_insert AFTER INSERT ON items BEGIN
{_count_sql("new", 1)}
END;
CREATE TRIGGER IF NOT EXISTS items_counted_delete AFTER DELETE ON items BEGIN
{_count_sql("old", -1)}
END;
CREATE TRIGGER IF NOT EXISTS items_counted_update AFTER UPDATE OF parent, fa, fb ON items
WHEN old.parent IS NOT new.parent OR old.fa IS NOT new.fa OR old.fb IS NOT new.fb BEGIN
{_count_sql("old", -1)}
{_count_sql("new", 1)}
END;
"""

_MANY = 20_000  # matches a name scan hands over as a list (more: the ordered index finds a page at once)

_ORDER_COLUMNS = {"create_time": ("cpos", "seq"), "update_time": ("utime", "seq"), "name": ("lname", "seq")}


def _columns(kind: str, item: Item, seq: int) -> tuple[int, int, int, str | None, str | None, str]:
    """cpos, utime, ctime, fa, fb, lname of an item whose arrival sequence is seq."""
    a, b = slot_values(kind, item)
    pos = position_of(kind, item)
    return (seq if pos is None else pos), int(item.get("update_time") or 0), int(item.get("create_time") or 0), a, b, \
        name_key(kind, item)


class SqliteMetadataStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # one writer at a time inside this process; SQLite's busy timeout covers other processes
        self._write_lock = threading.RLock()
        self._writes = 0  # commits through this store: a cached scan from before one is stale
        self._scanned: tuple[Any, list[int] | None] = (None, None)
        with self._write_lock:
            conn = self._conn()
            conn.executescript(_SCHEMA)
            self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Version 2 adds the list columns, their indexes and the kept counts; older files are filled in once."""
        if conn.execute("PRAGMA user_version").fetchone()[0] >= 2:
            return
        have = {r[1] for r in conn.execute("PRAGMA table_info(items)")}
        for column in _COLUMNS:
            if column.split()[0] not in have:
                conn.execute(f"ALTER TABLE items ADD COLUMN {column}")
        with self._tx() as db:
            # chunks written before runs were recorded belong to their document's current run
            db.execute(
                "UPDATE items SET data = json_set(data, '$._run', (SELECT COALESCE(json_extract(d.data, '$._run_id'), 0) "
                "FROM items AS d WHERE d.kind = 'document' AND d.tenant = items.tenant AND d.id = items.parent)) "
                "WHERE kind = 'chunk' AND json_extract(data, '$._run') IS NULL"
            )
            # memory messages written before their list flags were stored
            db.execute(
                "UPDATE items SET data = json_set(data, '$._kept', json(CASE WHEN json_extract(data, '$.forget_at') = 'None' "
                "THEN 'true' ELSE 'false' END), '$._listed', json(CASE WHEN json_extract(data, '$.forget_at') = 'None' AND "
                "json_extract(data, '$.message_type') = 'raw' THEN 'true' ELSE 'false' END)) "
                "WHERE kind = 'memmsg' AND json_extract(data, '$._kept') IS NULL"
            )
            rows = db.execute("SELECT kind, tenant, id, data, seq FROM items").fetchall()
            db.executemany(
                "UPDATE items SET cpos=?, utime=?, ctime=?, fa=?, fb=?, lname=? WHERE kind=? AND tenant=? AND id=?",
                [(*_columns(kind, _loads(data), seq), kind, tenant, item_id) for kind, tenant, item_id, data, seq in rows],
            )
        conn.executescript(_INDEXES)  # DDL scripts commit on their own: each step is safe to repeat
        with self._tx() as db:
            db.execute("DELETE FROM counts")
            for slot, column in (("", "''"), ("a", "fa"), ("b", "fb")):
                db.execute(
                    f"INSERT INTO counts(kind, tenant, parent, slot, value, n) SELECT kind, tenant, parent, '{slot}', "
                    f"{column}, COUNT(*) FROM items WHERE {column} IS NOT NULL GROUP BY kind, tenant, parent, {column}"
                )
        conn.executescript(_TRIGGERS)
        conn.execute("PRAGMA user_version=2")

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
                self._writes += 1
            except sqlite3.OperationalError as exc:
                _rollback(conn)
                raise StorageError(_storage_message(exc)) from exc
            except BaseException:
                _rollback(conn)
                raise

    def _next_seq(self, db: sqlite3.Connection, n: int = 1) -> int:
        """The first of n fresh creation sequence numbers."""
        db.execute("INSERT INTO counters(name, value) VALUES('seq', ?) ON CONFLICT(name) DO UPDATE SET value = value + ?", (n, n))
        row = db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()
        return int(row[0]) - n + 1

    def _write(self, db: sqlite3.Connection, kind: str, tenant: str, item: Item, parent: str) -> bool:
        """Overwrite in place (keeping its creation place) or insert; True when it was inserted."""
        data = json.dumps(item, ensure_ascii=False)
        row = db.execute("SELECT seq FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item["id"])).fetchone()
        if row is not None:
            db.execute(
                "UPDATE items SET data=?, parent=?, cpos=?, utime=?, ctime=?, fa=?, fb=?, lname=? WHERE kind=? AND tenant=? AND id=?",
                (data, parent, *_columns(kind, item, int(row[0])), kind, tenant, item["id"]),
            )
            return False
        seq = self._next_seq(db)
        db.execute(
            "INSERT INTO items(kind, tenant, id, parent, seq, data, cpos, utime, ctime, fa, fb, lname) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (kind, tenant, item["id"], parent, seq, data, *_columns(kind, item, seq)),
        )
        return True

    def put(self, kind: str, tenant: str, item: Item, *, parent: str = "", if_absent: bool = False,
            tally: Tally | None = None) -> bool:
        with self._tx() as db:
            if if_absent and db.execute(
                "SELECT 1 FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item["id"])
            ).fetchone():
                return False
            self._write(db, kind, tenant, item, parent)
            if tally is not None:
                self._add(db, tenant, tally)
            return True

    def _add(self, db: sqlite3.Connection, tenant: str, tally: Tally) -> None:
        """A tally inside the caller's transaction (an item that is gone takes none)."""
        row = db.execute("SELECT data, parent FROM items WHERE kind=? AND tenant=? AND id=?",
                         (tally.kind, tenant, tally.item_id)).fetchone()
        if row is None:
            return
        target = _loads(row[0])
        for name, delta in tally.deltas.items():
            target[name] = (target.get(name) or 0) + delta
        self._write(db, tally.kind, tenant, target, row[1])

    def put_many(self, kind: str, tenant: str, items: list[Item], *, parent: str = "",
                 tally: Callable[[Item], Tally | None] | None = None) -> None:
        if not items:
            return
        with self._tx() as db:
            for item in items:
                self._write(db, kind, tenant, item, parent)
                counted = tally(item) if tally is not None else None
                if counted is not None:
                    self._add(db, tenant, counted)

    def import_items(self, kind: str, tenant: str, items: list[Item], *, parent: str = "") -> None:
        self.put_many(kind, tenant, items, parent=parent)

    def get(self, kind: str, tenant: str, item_id: str) -> Item | None:
        row = self._conn().execute(
            "SELECT data FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id)
        ).fetchone()
        return _loads(row[0]) if row else None

    def get_many(self, kind: str, tenant: str, item_ids: list[str]) -> list[Item]:
        """The existing items, in the order asked for, each once."""
        found: dict[str, Item] = {}
        ids = list(dict.fromkeys(item_ids))
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._conn().execute(
                f"SELECT id, data FROM items WHERE kind=? AND tenant=? AND id IN ({marks})", (kind, tenant, *part)
            ).fetchall()
            found.update((r[0], _loads(r[1])) for r in rows)
        return [found[i] for i in ids if i in found]

    # ---- lists ----------------------------------------------------------------------------------
    def _where(self, query: ListQuery) -> tuple[str, list[Any]]:
        spec = fields_of(query.kind)
        sql = ["kind=?", "tenant=?", "parent=?"]
        args: list[Any] = [query.kind, query.tenant, query.parent]
        for name, values in query.where.items():
            wanted = [filter_value(v) for v in values]
            marks = ",".join("?" * len(wanted)) or "NULL"
            if name in spec.slots:
                sql.append(f"{'fa' if spec.slots.index(name) == 0 else 'fb'} IN ({marks})")
            else:
                # an unindexed field (scalar or list): any of its values is one of the wanted
                path = '$."' + name.replace('"', "") + '"'
                sql.append(
                    "EXISTS (SELECT 1 FROM json_each(items.data, ?) AS j WHERE "
                    f"(CASE j.type WHEN 'true' THEN '1' WHEN 'false' THEN '0' ELSE CAST(j.value AS TEXT) END) IN ({marks}))"
                )
                args.append(path)
            args.extend(wanted)
        if query.name_equals:
            sql.append("lname = ?")
            args.append(query.name_equals.lower())
        rowids = self._named_rows(query)
        if rowids is not None:  # the rows are known: looked up by rowid, the collection's own index left alone
            sql[:3] = ["+kind=?", "+tenant=?", "+parent=?"]
            sql.append(f"items.rowid IN ({','.join('?' * len(rowids)) or 'NULL'})")
            args.extend(rowids)
        if query.name_contains:
            escaped = query.name_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            sql.append("lname LIKE ? ESCAPE '\\'")
            args.append(f"%{escaped}%")
        if query.created_from is not None:
            sql.append("ctime >= ?")
            args.append(int(query.created_from))
        if query.created_to is not None:
            sql.append("ctime <= ?")
            args.append(int(query.created_to))
        return " AND ".join(sql), args

    def _named_rows(self, query: ListQuery) -> list[int] | None:
        """The rows of the collection whose name holds `name_contains`, from a scan of the name index alone (None:
        no such filter, or so many matches that the ordered index finds a page at once). A count and a page of one
        request scan once: a substring has no index, in SQLite as in RAGFlow's MySQL."""
        text = query.name_contains.lower()
        if not text:
            return None
        conn = self._conn()
        key = (query.kind, query.tenant, query.parent, text, self._writes, conn.execute("PRAGMA data_version").fetchone()[0])
        with self._write_lock:
            if self._scanned[0] == key:
                return self._scanned[1]
        found = [int(r[0]) for r in conn.execute(
            "SELECT rowid FROM items INDEXED BY items_by_name WHERE kind=? AND tenant=? AND parent=? AND instr(lname, ?) > 0",
            (query.kind, query.tenant, query.parent, text))]
        result = found if len(found) <= _MANY else None
        with self._write_lock:
            self._scanned = (key, result)
        return result

    def _kept_count(self, query: ListQuery) -> int | None:
        """The count from `counts` when the query is one the triggers keep (no filter, or one slot filter)."""
        if query.name_contains or query.name_equals or query.created_from is not None or query.created_to is not None \
                or len(query.where) > 1:
            return None
        slots = fields_of(query.kind).slots
        if not query.where:
            slot, values = "", [""]
        else:
            name, raw = next(iter(query.where.items()))
            if name not in slots:
                return None
            slot, values = ("a" if slots.index(name) == 0 else "b"), list(dict.fromkeys(filter_value(v) for v in raw))
        if not values:
            return 0
        row = self._conn().execute(
            f"SELECT COALESCE(SUM(n), 0) FROM counts WHERE kind=? AND tenant=? AND parent=? AND slot=? "
            f"AND value IN ({','.join('?' * len(values))})",
            (query.kind, query.tenant, query.parent, slot, *values),
        ).fetchone()
        return int(row[0])

    def count(self, query: ListQuery) -> int:
        kept = self._kept_count(query)
        if kept is not None:
            return kept
        where, args = self._where(query)
        return int(self._conn().execute(f"SELECT COUNT(*) FROM items WHERE {where}", args).fetchone()[0])

    def page(self, query: ListQuery, offset: int, limit: int) -> list[Item]:
        if limit <= 0 or offset < 0:
            return []
        desc = query.desc
        flipped = False
        total = self._kept_count(query) if offset > 0 else None
        if total is not None:
            if offset >= total:
                return []
            if offset > total // 2:  # a late page is an early page of the other direction: the index walk stays short
                end = total - offset
                offset, limit = max(end - limit, 0), min(limit, end)
                desc, flipped = not desc, True
        where, args = self._where(query)
        direction = "DESC" if desc else "ASC"
        # rows already named (a name scan's matches) are looked up and sorted, not found by walking an ordered index
        unary = "+" if "items.rowid IN" in where else ""
        order = ", ".join(f"{unary}{c} {direction}" for c in _ORDER_COLUMNS.get(query.order, ("seq",)))
        rows = self._conn().execute(
            f"SELECT data FROM items WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?", (*args, limit, offset)
        ).fetchall()
        items = [_loads(r[0]) for r in rows]
        return items[::-1] if flipped else items

    def batches(self, kind: str, tenant: str, parent: str, size: int = 500) -> Iterator[list[Item]]:
        after = -1
        while True:
            rows = self._conn().execute(
                "SELECT seq, data FROM items WHERE kind=? AND tenant=? AND parent=? AND seq > ? ORDER BY seq LIMIT ?",
                (kind, tenant, parent, after, size),
            ).fetchall()
            if not rows:
                return
            after = int(rows[-1][0])
            yield [_loads(r[1]) for r in rows]

    # ---- changes --------------------------------------------------------------------------------
    def _change(self, kind: str, tenant: str, item_id: str, apply: Any) -> Item | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT data, parent FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id)
            ).fetchone()
            if row is None:
                return None
            item = _loads(row[0])
            apply(item)
            self._write(db, kind, tenant, item, row[1])
            return item  # type: ignore[no-any-return]

    def update(self, kind: str, tenant: str, item_id: str, changes: Mapping[str, Any]) -> Item | None:
        return self._change(kind, tenant, item_id, lambda item: item.update(changes))

    def update_many(self, kind: str, tenant: str, changes: Mapping[str, Mapping[str, Any]], *,
                    when: Callable[[Item], bool] | None = None,
                    tally: Callable[[Item], Tally | None] | None = None) -> dict[str, Item]:
        out: dict[str, Item] = {}
        if not changes:
            return out
        with self._tx() as db:  # one commit for the lot
            for item_id, change in changes.items():
                row = db.execute("SELECT data, parent FROM items WHERE kind=? AND tenant=? AND id=?",
                                 (kind, tenant, item_id)).fetchone()
                if row is None:
                    continue
                item: Item = _loads(row[0])
                if when is not None and not when(item):
                    continue
                item.update(change)
                self._write(db, kind, tenant, item, row[1])
                counted = tally(item) if tally is not None else None
                if counted is not None:
                    self._add(db, tenant, counted)
                out[item_id] = item
        return out

    def increment(self, kind: str, tenant: str, item_id: str, deltas: Mapping[str, int | float]) -> Item | None:
        def add(item: Item) -> None:
            for name, delta in deltas.items():
                item[name] = (item.get(name) or 0) + delta

        return self._change(kind, tenant, item_id, add)

    def increment_many(self, kind: str, tenant: str, deltas: Mapping[str, Mapping[str, int | float]], *,
                       parent: str = "") -> None:
        if not deltas:
            return
        with self._tx() as db:  # one transaction for the lot: a write batch's statistics are one commit
            for item_id, changes in deltas.items():
                row = db.execute("SELECT data, parent FROM items WHERE kind=? AND tenant=? AND id=?",
                                 (kind, tenant, item_id)).fetchone()
                item: Item = _loads(row[0]) if row is not None else {"id": item_id}
                for name, delta in changes.items():
                    item[name] = (item.get(name) or 0) + delta
                self._write(db, kind, tenant, item, row[1] if row is not None else parent)

    def delete(self, kind: str, tenant: str, item_id: str, *, tally: Callable[[Item], Tally | None] | None = None) -> bool:
        with self._tx() as db:
            if tally is None:
                cur = db.execute("DELETE FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id))
                return cur.rowcount > 0
            row = db.execute("SELECT data FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id)).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM items WHERE kind=? AND tenant=? AND id=?", (kind, tenant, item_id))
            counted = tally(_loads(row[0]))
            if counted is not None:
                self._add(db, tenant, counted)
            return True

    def delete_under(self, kind: str, tenant: str, parent: str) -> int:
        with self._tx() as db:
            cur = db.execute("DELETE FROM items WHERE kind=? AND tenant=? AND parent=?", (kind, tenant, parent))
            return cur.rowcount

    # ---- unique keys ----------------------------------------------------------------------------
    def claim(self, tenant: str, scope: str, key: str, owner: str) -> bool:
        with self._tx() as db:
            row = db.execute("SELECT owner FROM uniques WHERE tenant=? AND scope=? AND key=?", (tenant, scope, key)).fetchone()
            if row is not None:
                return bool(row[0] == owner)
            db.execute("INSERT INTO uniques(tenant, scope, key, owner) VALUES (?,?,?,?)", (tenant, scope, key, owner))
            return True

    def owner(self, tenant: str, scope: str, key: str) -> str | None:
        row = self._conn().execute(
            "SELECT owner FROM uniques WHERE tenant=? AND scope=? AND key=?", (tenant, scope, key)
        ).fetchone()
        return str(row[0]) if row else None

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
