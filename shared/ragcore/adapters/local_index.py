"""VectorIndex for the local runtime: brute-force cosine over an in-memory numpy matrix per tenant,
and SQLite FTS5 (BM25) for the keyword half. Both persist in one SQLite file under DATA_DIR/index/.

Brute force is exact and, at 384 dimensions, scans 100k chunks in a few milliseconds; the matrix is
loaded from SQLite on a tenant's first search and then kept in step with every write. Text is indexed
pre-tokenized (ragcore.text.tokenize), so CJK and English are matched the same way.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ragcore.errors import StorageError
from ragcore.ports import Hit, IndexRecord, MetaFilter
from ragcore.text.tokenize import content_terms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    tenant TEXT NOT NULL, id TEXT NOT NULL, dataset_id TEXT NOT NULL, document_id TEXT NOT NULL,
    available INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS vectors_by_doc ON vectors (tenant, document_id);
CREATE INDEX IF NOT EXISTS vectors_by_dataset ON vectors (tenant, dataset_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    terms, tenant UNINDEXED, id UNINDEXED, dataset_id UNINDEXED, document_id UNINDEXED, available UNINDEXED
);
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


# an FTS row shares its rowid with the chunk's row in `vectors`
_FTS_ROWID = "SELECT rowid FROM vectors WHERE tenant=? AND id=?"
_FTS_INSERT = ("INSERT INTO fts(rowid, terms, tenant, id, dataset_id, document_id, available) "
               f"SELECT ({_FTS_ROWID}), ?, ?, ?, ?, ?, ? WHERE EXISTS ({_FTS_ROWID.replace('rowid', '1')})")
_FTS_DELETE = f"DELETE FROM fts WHERE rowid IN ({_FTS_ROWID})"


class _Matrix:
    """One tenant's vectors: slots in a growing matrix, freed slots reused; dataset/document as integer codes
    so that scoping a search is one vectorised comparison."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.vecs = np.zeros((0, dim), dtype=np.float32)
        self.ids: list[str | None] = []
        self.pos: dict[str, int] = {}
        self.ds = np.zeros(0, dtype=np.int32)
        self.doc = np.zeros(0, dtype=np.int32)
        self.alive = np.zeros(0, dtype=bool)
        self.free: list[int] = []
        self.codes: dict[str, int] = {}
        self.off: set[int] = set()  # codes of switched-off documents

    def code(self, name: str) -> int:
        return self.codes.setdefault(name, len(self.codes) + 1)

    def put(self, cid: str, ds: str, doc: str, vec: np.ndarray, available: bool) -> None:
        slot = self.pos.get(cid)
        if slot is None:
            if self.free:
                slot = self.free.pop()
            else:
                slot = len(self.ids)
                if slot >= len(self.vecs):
                    grow = max(1024, len(self.vecs))
                    self.vecs = np.vstack([self.vecs, np.zeros((grow, self.dim), dtype=np.float32)])
                    self.alive = np.concatenate([self.alive, np.zeros(grow, dtype=bool)])
                    self.ds = np.concatenate([self.ds, np.zeros(grow, dtype=np.int32)])
                    self.doc = np.concatenate([self.doc, np.zeros(grow, dtype=np.int32)])
                self.ids.append(None)
            self.pos[cid] = slot
        self.ids[slot] = cid
        self.ds[slot] = self.code(ds)
        self.doc[slot] = self.code(doc)
        self.vecs[slot] = vec
        self.alive[slot] = available

    def remove(self, cid: str) -> None:
        slot = self.pos.pop(cid, None)
        if slot is not None:
            self.ids[slot] = None
            self.alive[slot] = False
            self.ds[slot] = 0
            self.doc[slot] = 0
            self.free.append(slot)


class LocalVectorIndex:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._path = root / "index.sqlite3"
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._migrate()
        self._tenants: dict[str, _Matrix] = {}
        self._readers = threading.local()  # keyword searches read on their own connection, beside writes and scans

    def _migrate(self) -> None:
        """Version 1 gives each FTS row its vector row's rowid, so writes find it by rowid instead of scanning FTS
        (a per-chunk scan made re-indexing quadratic in the tenant's size). Older indexes are renumbered once."""
        if self._conn.execute("PRAGMA user_version").fetchone()[0] >= 1:
            return
        with self._lock:
            rows = self._conn.execute("SELECT terms, tenant, id, dataset_id, document_id, available FROM fts").fetchall()
            self._write([
                ("DELETE FROM fts", [()]),
                (_FTS_INSERT, [(r[1], r[2], *r, r[1], r[2]) for r in rows]),
            ])
            self._conn.execute("PRAGMA user_version=1")

    # ---- memory ---------------------------------------------------------------------------------
    def _matrix(self, tenant: str, dim: int | None = None) -> _Matrix | None:
        m = self._tenants.get(tenant)
        if m is not None:
            return m
        rows = self._conn.execute(
            "SELECT id, dataset_id, document_id, available, vec FROM vectors WHERE tenant=?", (tenant,)
        ).fetchall()
        if not rows and dim is None:
            return None
        width = dim or len(rows[0][4]) // 4
        m = _Matrix(width)
        for cid, ds, doc, available, blob in rows:
            m.put(cid, ds, doc, np.frombuffer(blob, dtype=np.float32), bool(available))
        m.off = {m.code(r[0]) for r in self._conn.execute("SELECT document_id FROM doc_off WHERE tenant=?", (tenant,))}
        self._tenants[tenant] = m
        return m

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

    # ---- writes ---------------------------------------------------------------------------------
    def upsert(self, tenant: str, records: list[IndexRecord]) -> None:
        if not records:
            return
        with self._lock:
            ids = [(tenant, r["id"]) for r in records]
            vec_rows = []
            fts_rows = []
            for r in records:
                vec = np.asarray(r["vector"], dtype=np.float32)
                vec_rows.append((tenant, r["id"], r["dataset_id"], r["document_id"], int(r.get("available", True)), vec.tobytes()))
                fts_rows.append((tenant, r["id"], " ".join(content_terms(r.get("content", ""))), tenant, r["id"], r["dataset_id"],
                                 r["document_id"], int(r.get("available", True))))
            documents = {r["document_id"]: r for r in records}
            self._write([
                (_FTS_DELETE, ids),
                ("INSERT OR REPLACE INTO vectors(tenant, id, dataset_id, document_id, available, vec) VALUES (?,?,?,?,?,?)", vec_rows),
                (_FTS_INSERT, [(*row, *row[:2]) for row in fts_rows]),
                *self._document_writes(tenant, list(documents.values())),
            ])
            m = self._matrix(tenant, dim=len(records[0]["vector"]))
            assert m is not None
            for r, row in zip(records, vec_rows, strict=True):
                m.put(r["id"], r["dataset_id"], r["document_id"], np.frombuffer(row[5], dtype=np.float32), bool(row[4]))
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
            m = self._matrix(tenant)
            if m is not None:
                if available:
                    m.off.discard(m.code(document_id))
                else:
                    m.off.add(m.code(document_id))

    def set_document_meta(self, tenant: str, document_id: str, meta: dict[str, list[str]]) -> None:
        with self._lock:
            dataset_id = self._dataset_of(tenant, document_id)
            if dataset_id is None:
                return
            self._write(self._document_writes(tenant, [{"dataset_id": dataset_id, "document_id": document_id, "meta": meta}])[:2])

    def delete(self, tenant: str, ids: list[str]) -> None:
        if not ids:
            return
        with self._lock:
            rows = [(tenant, i) for i in ids]
            self._write([(_FTS_DELETE, rows), ("DELETE FROM vectors WHERE tenant=? AND id=?", rows)])
            m = self._tenants.get(tenant)
            if m is not None:
                for i in ids:
                    m.remove(i)

    def _delete_where(self, tenant: str, column: str, value: str) -> None:
        with self._lock:
            ids = [r[0] for r in self._conn.execute(f"SELECT id FROM vectors WHERE tenant=? AND {column}=?", (tenant, value))]
            self.delete(tenant, ids)

    def delete_document(self, tenant: str, document_id: str) -> None:
        self._delete_where(tenant, "document_id", document_id)
        with self._lock:
            rows = [(tenant, document_id)]
            self._write([("DELETE FROM doc_meta WHERE tenant=? AND document_id=?", rows),
                         ("DELETE FROM doc_off WHERE tenant=? AND document_id=?", rows)])

    def delete_dataset(self, tenant: str, dataset_id: str) -> None:
        self._delete_where(tenant, "dataset_id", dataset_id)
        with self._lock:
            rows = [(tenant, dataset_id)]
            self._write([("DELETE FROM doc_meta WHERE tenant=? AND dataset_id=?", rows),
                         ("DELETE FROM doc_off WHERE tenant=? AND dataset_id=?", rows)])

    def set_available(self, tenant: str, ids: list[str], available: bool) -> None:
        if not ids:
            return
        with self._lock:
            rows = [(int(available), tenant, i) for i in ids]
            self._write([
                ("UPDATE vectors SET available=? WHERE tenant=? AND id=?", rows),
                (f"UPDATE fts SET available=? WHERE rowid IN ({_FTS_ROWID})", rows),
            ])
            m = self._matrix(tenant)
            if m is not None:
                for i in ids:
                    slot = m.pos.get(i)
                    if slot is not None:
                        m.alive[slot] = available

    # ---- reads ----------------------------------------------------------------------------------
    def _meta_documents(self, conn: sqlite3.Connection, tenant: str, key: str, values: tuple[str, ...]) -> list[str]:
        if not values:
            return []
        marks = ",".join("?" * len(values))
        return [r[0] for r in conn.execute(
            f"SELECT DISTINCT document_id FROM doc_meta WHERE tenant=? AND key=? AND value IN ({marks})", (tenant, key, *values))]

    def _document_mask(self, tenant: str, m: _Matrix, meta: MetaFilter | None) -> np.ndarray:
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
            m = self._matrix(tenant)
            if m is None or not m.ids or top_k <= 0:
                return []
            n = len(m.ids)
            mask = m.alive[:n] & np.isin(m.ds[:n], [m.codes[d] for d in dataset_ids if d in m.codes])
            if document_ids:
                mask &= np.isin(m.doc[:n], [m.codes[d] for d in document_ids if d in m.codes])
            if m.off or meta is not None:
                mask &= self._document_mask(tenant, m, meta)[m.doc[:n]]
            count = int(mask.sum())
            if count == 0:
                return []
            # one pass over the whole matrix beats gathering the scoped rows into a copy first
            scores = m.vecs[:n] @ np.asarray(vector, dtype=np.float32)
            scores[~mask] = -np.inf
            k = min(top_k, count)
            best = np.argpartition(-scores, k - 1)[:k]
            best = best[np.argsort(-scores[best])]
            return [{"id": str(m.ids[i]), "score": float(scores[i])} for i in best]

    def search_text(
        self, tenant: str, text: str, top_k: int, dataset_ids: list[str], document_ids: list[str] | None = None,
        meta: MetaFilter | None = None, weights: Mapping[str, float] | None = None,
    ) -> list[Hit]:
        terms = list(dict.fromkeys(content_terms(text)))
        if weights:  # FTS5 ranks with its own statistics; the weights choose which terms a long question keeps
            terms.sort(key=lambda t: -weights.get(t, 0.0))
        if not terms or not dataset_ids or top_k <= 0:
            return []
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms[:64])
        ds_marks = ",".join("?" * len(dataset_ids))
        sql = (
            f"SELECT id, bm25(fts) FROM fts WHERE fts MATCH ? AND tenant=? AND available=1 AND dataset_id IN ({ds_marks})"
        )
        params: list[object] = [query, tenant, *dataset_ids]
        if document_ids:
            sql += f" AND document_id IN ({','.join('?' * len(document_ids))})"
            params.extend(document_ids)
        sql += " AND document_id NOT IN (SELECT document_id FROM doc_off WHERE tenant=?)"
        params.append(tenant)
        if meta is not None and meta.clauses:
            parts = []
            for clause in meta.clauses:
                marks = ",".join("?" * len(clause.values)) or "NULL"
                parts.append(f"document_id {'NOT IN' if clause.negate else 'IN'} (SELECT document_id FROM doc_meta "
                             f"WHERE tenant=? AND key=? AND value IN ({marks}))")
                params.extend([tenant, clause.key, *clause.values])
            sql += " AND (" + (" OR " if meta.logic == "or" else " AND ").join(parts) + ")"
        sql += " ORDER BY bm25(fts) LIMIT ?"
        params.append(top_k)
        rows = self._reader().execute(sql, params).fetchall()
        return [{"id": r[0], "score": -float(r[1])} for r in rows]

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA query_only=1")
            self._readers.conn = conn
        return conn

    def fetch_vectors(self, tenant: str, ids: list[str]) -> dict[str, list[float]]:
        with self._lock:
            m = self._matrix(tenant)
            if m is None:
                return {}
            return {i: m.vecs[m.pos[i]].tolist() for i in ids if i in m.pos}

    def count(self, tenant: str, dataset_id: str | None = None) -> int:
        if dataset_id is None:
            row = self._conn.execute("SELECT COUNT(*) FROM vectors WHERE tenant=?", (tenant,)).fetchone()
        else:
            row = self._conn.execute("SELECT COUNT(*) FROM vectors WHERE tenant=? AND dataset_id=?", (tenant, dataset_id)).fetchone()
        return int(row[0])
