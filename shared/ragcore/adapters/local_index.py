"""VectorIndex for the local runtime. One SQLite file under DATA_DIR/index/ holds every chunk's vector, terms,
dataset, document and availability (the truth); two derived indexes answer questions:

- dense: each tenant's vectors in memory (local_dense_index: exact float32 scan, IVF-SQ8 past 50k chunks), loaded
  from SQLite on the tenant's first search and then kept in step with every write;
- keyword: tantivy BM25 on disk (local_keyword_index), written in the same call as SQLite. A marker file brackets
  each write, so a crash between the two commits rebuilds the keyword index from SQLite on the next start.

Text is indexed pre-tokenized (ragcore.text.tokenize), so CJK and English are matched the same way.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ragcore.adapters.local_dense_index import ANN_LISTS, ANN_MIN, TRAIN_PER_LIST, TenantVectors
from ragcore.adapters.local_keyword_index import DocumentClause, KeywordDoc, KeywordIndex
from ragcore.errors import StorageError
from ragcore.ports import Hit, IndexRecord, MetaFilter
from ragcore.text.tokenize import content_terms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    tenant TEXT NOT NULL, id TEXT NOT NULL, dataset_id TEXT NOT NULL, document_id TEXT NOT NULL,
    available INTEGER NOT NULL, vec BLOB NOT NULL, terms TEXT NOT NULL DEFAULT '', PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS vectors_by_doc ON vectors (tenant, document_id);
CREATE INDEX IF NOT EXISTS vectors_by_dataset ON vectors (tenant, dataset_id);
CREATE TABLE IF NOT EXISTS doc_meta (
    tenant TEXT NOT NULL, dataset_id TEXT NOT NULL, document_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (tenant, document_id, key, value)
);
CREATE INDEX IF NOT EXISTS doc_meta_by_value ON doc_meta (tenant, key, value);
CREATE INDEX IF NOT EXISTS doc_meta_by_dataset ON doc_meta (tenant, dataset_id);
CREATE TABLE IF NOT EXISTS doc_off (
    tenant TEXT NOT NULL, dataset_id TEXT NOT NULL, document_id TEXT NOT NULL, PRIMARY KEY (tenant, document_id)
);
"""
_VERSION = 2  # 2: terms live in `vectors` and tantivy answers keyword questions (1 and 0 kept them in FTS5)
_BATCH = 500  # ids per IN (...) list: under SQLite's variable limit
_LOAD_BATCH = 20_000
_UPSERT = (
    "INSERT INTO vectors(tenant, id, dataset_id, document_id, available, vec, terms) VALUES (?,?,?,?,?,?,?) "
    "ON CONFLICT(tenant, id) DO UPDATE SET dataset_id=excluded.dataset_id, document_id=excluded.document_id, "
    "available=excluded.available, vec=excluded.vec, terms=excluded.terms"  # an update keeps the rowid: the keyword key
)


def _chunks(items: list[str], size: int = _BATCH) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class LocalVectorIndex:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._path = root / "index.sqlite3"
        self._rebuild_marker = root / "keywords.rebuild"
        self._keywords_stale = False
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._writes_open = 0  # index writes between their SQLite commit and their keyword write
        self._keywords = KeywordIndex(root / "keywords", on_committed=self._keywords_committed)
        self._tenants: dict[str, TenantVectors] = {}
        self._readers = threading.local()  # keyword searches read on their own connection, beside writes and scans
        self._migrate()
        if self._rebuild_marker.exists() or (self._keywords.count() == 0 and self._conn.execute(
                "SELECT 1 FROM vectors WHERE available=1 LIMIT 1").fetchone()):
            self._rebuild_keywords()

    def _migrate(self) -> None:
        """Version 2 moves each chunk's terms from the FTS5 table into `vectors` (matched by tenant and id, so the
        rowid renumbering of version 1 does not matter) and drops FTS5; the keyword index is then built from them."""
        if self._conn.execute("PRAGMA user_version").fetchone()[0] >= _VERSION:
            return
        with self._lock:
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(vectors)")}
            has_fts = self._conn.execute("SELECT 1 FROM sqlite_master WHERE name='fts'").fetchone() is not None
            self._rebuild_marker.touch()
            batches: list[tuple[str, list[tuple[Any, ...]]]] = []
            if "terms" not in columns:
                batches.append(("ALTER TABLE vectors ADD COLUMN terms TEXT NOT NULL DEFAULT ''", [()]))
            if has_fts:
                rows = self._conn.execute("SELECT terms, tenant, id FROM fts").fetchall()
                batches += [("UPDATE vectors SET terms=? WHERE tenant=? AND id=?", rows), ("DROP TABLE fts", [()])]
            self._write(batches)
            self._conn.execute(f"PRAGMA user_version={_VERSION}")

    def _rebuild_keywords(self) -> None:
        with self._lock:
            self._rebuild_marker.touch()
            self._keywords_stale = False
            self._keywords.write(clear=True)
            rows = self._conn.execute(
                "SELECT rowid, tenant, dataset_id, document_id, terms FROM vectors WHERE available=1")
            while batch := rows.fetchmany(_LOAD_BATCH):
                self._keywords.write(add=[KeywordDoc(*r) for r in batch])
            self._keywords.flush()

    def _keywords_committed(self) -> None:
        """The keyword index has committed everything written to it: the marker can go, unless a write is between
        its SQLite commit and its keyword write, or one failed."""
        if not self._writes_open and not self._keywords_stale:
            self._rebuild_marker.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """SQLite then keywords, under the lock; the marker stays until the keyword index has committed (a crash
        in between rebuilds it from SQLite on the next start)."""
        with self._lock:
            self._rebuild_marker.touch()
            self._writes_open += 1
            try:
                yield
            except BaseException:
                self._keywords_stale = True  # SQLite may hold what the keywords lack: keep the marker for the next start
                raise
            finally:
                self._writes_open -= 1

    # ---- memory ---------------------------------------------------------------------------------
    def _vectors(self, tenant: str, dim: int | None = None) -> TenantVectors | None:
        m = self._tenants.get(tenant)
        if m is not None:
            return m
        total = self._conn.execute("SELECT COUNT(*) FROM vectors WHERE tenant=?", (tenant,)).fetchone()[0]
        if not total and dim is None:
            return None
        if dim is None:
            dim = len(self._conn.execute("SELECT vec FROM vectors WHERE tenant=? LIMIT 1", (tenant,)).fetchone()[0]) // 4
        m = TenantVectors(dim)
        if total >= ANN_MIN:  # train on an even sample first, so the whole tenant is never held as float32
            step = max(1, total // (ANN_LISTS * TRAIN_PER_LIST))
            sample = [r[0] for r in self._conn.execute("SELECT vec FROM vectors WHERE tenant=? AND rowid % ? = 0",
                                                        (tenant, step))]
            m.start_ann(np.frombuffer(b"".join(sample), dtype=np.float32).reshape(len(sample), dim))
        rows = self._conn.execute("SELECT id, dataset_id, document_id, available, vec FROM vectors WHERE tenant=?", (tenant,))
        while batch := rows.fetchmany(_LOAD_BATCH):
            vecs = np.frombuffer(b"".join(r[4] for r in batch), dtype=np.float32).reshape(len(batch), dim)
            m.put([(r[0], r[1], r[2], bool(r[3])) for r in batch], vecs)
        m.off = {m.code(r[0]) for r in self._conn.execute("SELECT document_id FROM doc_off WHERE tenant=?", (tenant,))}
        self._tenants[tenant] = m
        return m

    def close(self) -> None:
        """Commit pending keyword writes and let go of the writer (also done at exit)."""
        self._keywords.close()

    def warm(self) -> None:
        """Load every tenant's vectors now (the server starts this in the background), so that no first question
        waits for it: a million chunks take tens of seconds to load."""
        for (tenant,) in self._conn.execute("SELECT DISTINCT tenant FROM vectors").fetchall():
            with self._lock:
                self._vectors(tenant)

    def _write(self, sql_batches: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for sql, rows in sql_batches:
                self._conn.executemany(sql, rows)
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise StorageError(f"The search index could not be written: {exc}") from exc

    def _keys(self, tenant: str, ids: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            out.update((r[1], r[0]) for r in self._conn.execute(
                f"SELECT rowid, id FROM vectors WHERE tenant=? AND id IN ({marks})", (tenant, *part)))
        return out

    # ---- writes ---------------------------------------------------------------------------------
    def upsert(self, tenant: str, records: list[IndexRecord]) -> None:
        if not records:
            return
        with self._writing():
            rows = []
            for r in records:
                vec = np.asarray(r["vector"], dtype=np.float32)
                rows.append((tenant, r["id"], r["dataset_id"], r["document_id"], int(r.get("available", True)), vec.tobytes(),
                             " ".join(r["terms"] if "terms" in r else content_terms(r.get("content", "")))))
            documents = {r["document_id"]: r for r in records}
            self._write([(_UPSERT, rows), *self._document_writes(tenant, list(documents.values()))])
            keys = self._keys(tenant, [r["id"] for r in records])
            self._keywords.write(
                delete_keys=keys.values(),
                add=[KeywordDoc(keys[row[1]], tenant, row[2], row[3], row[6]) for row in rows if row[4] and row[1] in keys])
            m = self._vectors(tenant, dim=len(records[0]["vector"]))
            assert m is not None
            vecs = np.frombuffer(b"".join(row[5] for row in rows), dtype=np.float32).reshape(len(rows), -1)
            m.put([(row[1], row[2], row[3], bool(row[4])) for row in rows], vecs)
            for r in documents.values():
                (m.off.add if r.get("document_available") is False else m.off.discard)(m.code(r["document_id"]))

    @staticmethod
    def _document_writes(tenant: str, records: list[IndexRecord]) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """The documents' metadata and on/off state, as the given records (one per document) carry them."""
        with_meta = [r for r in records if "meta" in r]
        return [
            ("DELETE FROM doc_meta WHERE tenant=? AND document_id=?", [(tenant, r["document_id"]) for r in with_meta]),
            ("INSERT OR IGNORE INTO doc_meta(tenant, dataset_id, document_id, key, value) VALUES (?,?,?,?,?)",
             [(tenant, r["dataset_id"], r["document_id"], key, value) for r in with_meta
              for key, values in r.get("meta", {}).items() for value in values]),
            ("DELETE FROM doc_off WHERE tenant=? AND document_id=?", [(tenant, r["document_id"]) for r in records]),
            ("INSERT INTO doc_off(tenant, dataset_id, document_id) VALUES (?,?,?)",
             [(tenant, r["dataset_id"], r["document_id"]) for r in records if r.get("document_available") is False]),
        ]

    def _dataset_of(self, tenant: str, document_id: str) -> str | None:
        row = self._conn.execute("SELECT dataset_id FROM vectors WHERE tenant=? AND document_id=? LIMIT 1",
                                 (tenant, document_id)).fetchone()
        return str(row[0]) if row else None

    def set_document_available(self, tenant: str, document_id: str, available: bool) -> None:
        with self._lock:
            dataset_id = self._dataset_of(tenant, document_id)
            if dataset_id is None:
                return  # no chunks yet: their upsert carries the document's state
            record: IndexRecord = {"dataset_id": dataset_id, "document_id": document_id, "document_available": available}
            self._write(self._document_writes(tenant, [record]))
            m = self._tenants.get(tenant)
            if m is not None:
                (m.off.discard if available else m.off.add)(m.code(document_id))

    def set_document_meta(self, tenant: str, document_id: str, meta: dict[str, list[str]]) -> None:
        with self._lock:
            dataset_id = self._dataset_of(tenant, document_id)
            if dataset_id is None:
                return
            self._write(self._document_writes(tenant, [{"dataset_id": dataset_id, "document_id": document_id, "meta": meta}])[:2])

    def delete(self, tenant: str, ids: list[str]) -> None:
        if not ids:
            return
        with self._writing():
            keys = self._keys(tenant, ids)
            self._write([("DELETE FROM vectors WHERE tenant=? AND id=?", [(tenant, i) for i in ids])])
            self._keywords.write(delete_keys=keys.values())
            m = self._tenants.get(tenant)
            if m is not None:
                m.remove(ids)

    def _delete_where(self, tenant: str, field: str, value: str) -> None:
        column = {"document": "document_id", "dataset": "dataset_id"}[field]
        with self._writing():
            ids = [r[0] for r in self._conn.execute(f"SELECT id FROM vectors WHERE tenant=? AND {column}=?", (tenant, value))]
            rows = [(tenant, value)]
            self._write([(f"DELETE FROM vectors WHERE tenant=? AND {column}=?", rows),
                         (f"DELETE FROM doc_meta WHERE tenant=? AND {column}=?", rows),
                         (f"DELETE FROM doc_off WHERE tenant=? AND {column}=?", rows)])
            self._keywords.write(delete_queries=[self._keywords.documents_query(tenant, field, value)])
            m = self._tenants.get(tenant)
            if m is not None:
                m.remove(ids)

    def delete_document(self, tenant: str, document_id: str) -> None:
        self._delete_where(tenant, "document", document_id)

    def delete_dataset(self, tenant: str, dataset_id: str) -> None:
        self._delete_where(tenant, "dataset", dataset_id)

    def set_available(self, tenant: str, ids: list[str], available: bool) -> None:
        if not ids:
            return
        with self._writing():
            self._write([("UPDATE vectors SET available=? WHERE tenant=? AND id=?", [(int(available), tenant, i) for i in ids])])
            keys = self._keys(tenant, ids)
            added: list[KeywordDoc] = []
            if available:
                for part in _chunks([str(k) for k in keys.values()]):
                    added += [KeywordDoc(*r) for r in self._conn.execute(
                        "SELECT rowid, tenant, dataset_id, document_id, terms FROM vectors "
                        f"WHERE rowid IN ({','.join('?' * len(part))})", part)]
            self._keywords.write(delete_keys=keys.values(), add=added)
            m = self._tenants.get(tenant)
            if m is not None:
                m.set_available(ids, available)

    # ---- reads ----------------------------------------------------------------------------------
    def _meta_documents(self, conn: sqlite3.Connection, tenant: str, key: str, values: tuple[str, ...]) -> list[str]:
        if not values:
            return []
        marks = ",".join("?" * len(values))
        return [r[0] for r in conn.execute(
            f"SELECT DISTINCT document_id FROM doc_meta WHERE tenant=? AND key=? AND value IN ({marks})", (tenant, key, *values))]

    def _document_mask(self, tenant: str, m: TenantVectors, meta: MetaFilter | None) -> np.ndarray:
        """Per document code: may its chunks be returned (switched on, and passing the metadata filter)."""
        ok = np.ones(len(m.codes) + 1, dtype=bool)
        if meta is not None and meta.clauses:
            combined: np.ndarray | None = None
            for clause in meta.clauses:
                hit = np.zeros(len(m.codes) + 1, dtype=bool)
                hit[[m.codes[d] for d in self._meta_documents(self._conn, tenant, clause.key, clause.values) if d in m.codes]] = True
                if clause.negate:
                    hit = ~hit
                combined = hit if combined is None else (combined | hit if meta.logic == "or" else combined & hit)
            assert combined is not None
            ok &= combined
        if m.off:
            ok[list(m.off)] = False
        return ok

    def search_dense(
        self, tenant: str, vector: list[float], top_k: int, dataset_ids: list[str], document_ids: list[str] | None = None,
        meta: MetaFilter | None = None,
    ) -> list[Hit]:
        with self._lock:
            m = self._vectors(tenant)
            if m is None or not m.size or top_k <= 0:
                return []
            mask = m.scope(dataset_ids, document_ids)
            if m.off or meta is not None:
                mask &= self._document_mask(tenant, m, meta)[m.doc[:len(mask)]]
            return [{"id": cid, "score": score} for cid, score in m.search(vector, top_k, mask)]

    def search_text(
        self, tenant: str, text: str, top_k: int, dataset_ids: list[str], document_ids: list[str] | None = None,
        meta: MetaFilter | None = None, weights: Mapping[str, float] | None = None,
    ) -> list[Hit]:
        terms = list(dict.fromkeys(content_terms(text)))
        if weights:  # tantivy ranks with its own statistics; the weights choose which terms a long question keeps
            terms.sort(key=lambda t: -weights.get(t, 0.0))
        if not terms or not dataset_ids or top_k <= 0:
            return []
        conn = self._reader()
        off = [r[0] for r in conn.execute("SELECT document_id FROM doc_off WHERE tenant=?", (tenant,))]
        clauses = [DocumentClause(tuple(self._meta_documents(conn, tenant, c.key, c.values)), c.negate)
                   for c in (meta.clauses if meta is not None else ())]
        hits = self._keywords.search(tenant, terms, top_k, dataset_ids, document_ids, off, clauses,
                                     any_clause=meta is not None and meta.logic == "or")
        ids: dict[int, str] = {}
        for part in _chunks([str(key) for key, _ in hits]):
            ids.update(conn.execute(f"SELECT rowid, id FROM vectors WHERE rowid IN ({','.join('?' * len(part))})", part).fetchall())
        return [{"id": ids[key], "score": score} for key, score in hits if key in ids]

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA query_only=1")
            self._readers.conn = conn
        return conn

    def fetch_vectors(self, tenant: str, ids: list[str]) -> dict[str, list[float]]:
        with self._lock:
            m = self._vectors(tenant)
            return {} if m is None else m.vectors(ids)

    def count(self, tenant: str, dataset_id: str | None = None) -> int:
        if dataset_id is None:
            row = self._conn.execute("SELECT COUNT(*) FROM vectors WHERE tenant=?", (tenant,)).fetchone()
        else:
            row = self._conn.execute("SELECT COUNT(*) FROM vectors WHERE tenant=? AND dataset_id=?", (tenant, dataset_id)).fetchone()
        return int(row[0])
