"""Chunk rows (metadata store) and their index records (vectors + full text), kept in step.

Every path that writes or deletes chunks goes through here, so a chunk is never searchable
without its row, and a deleted document leaves nothing behind in either place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.meta_values import document_meta
from ragcore.ports import IndexRecord, ListQuery, MetadataStore, VectorIndex
from ragcore.services.knowledge.chunks.term_stats import TermStats
from ragcore.text.tokenize import STOPWORDS, tokenize

KIND = kinds.CHUNK
# a chunk's `order` (its place in the document's reading order, and its list position): parse task n writes
# n·TASK_SPAN + i; chunks added by hand and RAPTOR summaries follow all parsed ones
TASK_SPAN = 100_000
MANUAL_BASE = 1_000_000_000
RAPTOR_BASE = 1_060_000_000


def current_run(document: dict[str, Any]) -> int:
    """The run whose chunks are the document's: chunks of earlier runs are unreachable and purged."""
    return int(document.get("_run_id") or 0)


def is_current(row: dict[str, Any], document: dict[str, Any]) -> bool:
    return int(row.get("_run") or 0) == current_run(document)


def chunk_id(document_id: str, position: str, content: str) -> str:
    """Idempotent id: the same document, place and content always give the same id."""
    digest = hashlib.sha256(f"{document_id}\x00{position}\x00{content}".encode()).hexdigest()
    return digest[:32]


def searchable_text(row: dict[str, Any]) -> str:
    parts = [row.get("content", "")]
    parts.extend(row.get("important_keywords") or [])
    parts.extend(row.get("questions") or [])
    parts.extend(row.get("tag_kwd") or [])
    return "\n".join(p for p in parts if p)


def prepare(row: dict[str, Any]) -> dict[str, Any]:
    """The tokens queries need, computed once when the chunk is written instead of on every query."""
    content = tokenize(str(row.get("content", "")))
    extra = tokenize(searchable_text({**row, "content": ""}))  # keywords, questions, tags
    # every token, repeats kept (BM25's term frequencies and length), sorted so equal tokens sit together
    row["_terms"] = " ".join(sorted(content + extra))
    row["_ltks"] = " ".join(content)  # content_ltks
    return row


class ChunkStore:
    def __init__(self, store: MetadataStore, index: VectorIndex) -> None:
        self._store = store
        self._index = index
        self.stats = TermStats(store)

    def write(self, tenant: str, rows: list[dict[str, Any]], vectors: list[list[float]],
              documents: Mapping[str, dict[str, Any]]) -> None:
        """Rows first, then vectors: a crash in between leaves rows a re-run overwrites, never orphan vectors.
        `documents` holds each row's document: its on/off state and metadata go to the index with the vectors."""
        by_document: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            prepare(row)
            by_document.setdefault(row["document_id"], []).append(row)
        rewritten = self._store.get_many(KIND, tenant, [row["id"] for row in rows])  # leave the statistics first
        for document_id, group in by_document.items():
            self._store.put_many(KIND, tenant, group, parent=document_id)
        self.stats.change(tenant, added=rows, removed=rewritten)
        records: list[IndexRecord] = [
            {
                "id": row["id"],
                "dataset_id": row["dataset_id"],
                "document_id": row["document_id"],
                "content": searchable_text(row),
                "terms": [t for t in row["_terms"].split() if t not in STOPWORDS],  # content_terms, from prepare()
                "vector": vec,
                "available": bool(row.get("available", True)),
                "document_available": str(documents[row["document_id"]].get("status", "1")) == "1",
                "meta": document_meta(documents[row["document_id"]].get("meta_fields")),
            }
            for row, vec in zip(rows, vectors, strict=True)
        ]
        if records:
            self._index.upsert(tenant, records)

    def batches_of_document(self, tenant: str, document_id: str) -> Iterator[list[dict[str, Any]]]:
        """Every chunk row of the document, a batch at a time (background work)."""
        return self._store.batches(KIND, tenant, document_id)

    def page(self, tenant: str, document: dict[str, Any], offset: int, limit: int, *, available: bool | None = None) -> list[dict[str, Any]]:
        """A page of the document's current chunks, in reading order."""
        return self._store.page(self._query(tenant, document, available), offset, limit)

    def count(self, tenant: str, document: dict[str, Any], *, available: bool | None = None) -> int:
        return self._store.count(self._query(tenant, document, available))

    @staticmethod
    def _query(tenant: str, document: dict[str, Any], available: bool | None) -> ListQuery:
        where: dict[str, list[Any]] = {"_run": [current_run(document)]}
        if available is not None:
            where["available"] = [available]
        return ListQuery(KIND, tenant, document["id"], desc=False, where=where)

    def get(self, tenant: str, chunk_id_: str) -> dict[str, Any] | None:
        return self._store.get(KIND, tenant, chunk_id_)

    def get_many(self, tenant: str, ids: list[str]) -> list[dict[str, Any]]:
        return self._store.get_many(KIND, tenant, ids)

    def delete_ids(self, tenant: str, ids: list[str]) -> None:
        if not ids:
            return
        rows = self._store.get_many(KIND, tenant, ids)
        self._index.delete(tenant, ids)
        for cid in ids:
            self._store.delete(KIND, tenant, cid)
        self.stats.add(tenant, rows, -1)

    def delete_document(self, tenant: str, document_id: str) -> int:
        """Background (a purge or a failed parse): it reads the document's chunks to take them out of the statistics.
        The vectors go first: an index that refuses leaves rows and statistics as they were, for a retry."""
        self._index.delete_document(tenant, document_id)
        for batch in self.batches_of_document(tenant, document_id):
            self.stats.add(tenant, batch, -1)
        return self._store.delete_under(KIND, tenant, document_id)

    def delete_dataset(self, tenant: str, dataset_id: str) -> None:
        """Vectors and statistics left under a deleted dataset (its documents' purges remove the rest first)."""
        self._index.delete_dataset(tenant, dataset_id)
        self.stats.drop_dataset(tenant, dataset_id)

    def delete_other_runs(self, tenant: str, document_id: str, run_id: int) -> int:
        """Chunks written by the document's runs before run_id (background: it reads the document's chunks)."""
        stale = [row["id"] for batch in self.batches_of_document(tenant, document_id) for row in batch
                 if int(row.get("_run") or 0) < run_id]
        self.delete_ids(tenant, stale)
        return len(stale)

    def set_available(self, tenant: str, ids: list[str], available: bool) -> None:
        for cid in ids:
            self._store.update(KIND, tenant, cid, {"available": available})
        self._index.set_available(tenant, ids, available)

    def set_document_available(self, tenant: str, document_id: str, available: bool) -> None:
        """A document switched off or on: its chunks leave or rejoin search at once, their own flags kept."""
        self._index.set_document_available(tenant, document_id, available)

    def update_row(self, tenant: str, row: dict[str, Any], vector: list[float], document: dict[str, Any]) -> None:
        self.write(tenant, [row], [vector], {document["id"]: document})

    def set_document_meta(self, tenant: str, document_id: str, meta_fields: dict[str, Any] | None) -> None:
        self._index.set_document_meta(tenant, document_id, document_meta(meta_fields))


def embedding_text(row: dict[str, Any]) -> str:
    """The text a chunk's vector is made from: its content and the questions it answers."""
    extra = " ".join(row.get("questions") or [])
    return f"{row['content']}\n{extra}".strip() if extra else row["content"]
