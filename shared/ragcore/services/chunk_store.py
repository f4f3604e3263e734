"""Chunk rows (metadata store) and their index records (vectors + full text), kept in step.

Every path that writes or deletes chunks goes through here, so a chunk is never searchable
without its row, and a deleted document leaves nothing behind in either place.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ragcore.ports import IndexRecord, MetadataStore, VectorIndex
from ragcore.text.tokenize import tokenize

KIND = "chunk"


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


class ChunkStore:
    def __init__(self, store: MetadataStore, index: VectorIndex) -> None:
        self._store = store
        self._index = index

    def write(self, tenant: str, rows: list[dict[str, Any]], vectors: list[list[float]]) -> None:
        """Rows first, then vectors: a crash in between leaves rows a re-run overwrites, never orphan vectors."""
        by_document: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            # the tokens term similarity needs, computed once here instead of on every query
            row["_terms"] = " ".join(sorted(set(tokenize(searchable_text(row)))))
            row["_ltks"] = " ".join(tokenize(str(row.get("content", ""))))  # content_ltks, kept so queries don't re-tokenize
            by_document.setdefault(row["document_id"], []).append(row)
        for document_id, group in by_document.items():
            self._store.put_many(KIND, tenant, group, parent=document_id)
        records: list[IndexRecord] = [
            {
                "id": row["id"],
                "dataset_id": row["dataset_id"],
                "document_id": row["document_id"],
                "content": searchable_text(row),
                "vector": vec,
                "available": bool(row.get("available", True)),
            }
            for row, vec in zip(rows, vectors, strict=True)
        ]
        if records:
            self._index.upsert(tenant, records)

    def rows_of_document(self, tenant: str, document_id: str) -> list[dict[str, Any]]:
        return self._store.list(KIND, tenant, parent=document_id)

    def get(self, tenant: str, chunk_id_: str) -> dict[str, Any] | None:
        return self._store.get(KIND, tenant, chunk_id_)

    def get_many(self, tenant: str, ids: list[str]) -> list[dict[str, Any]]:
        return self._store.get_many(KIND, tenant, ids)

    def delete_ids(self, tenant: str, ids: list[str]) -> None:
        if not ids:
            return
        self._index.delete(tenant, ids)
        for cid in ids:
            self._store.delete(KIND, tenant, cid)

    def delete_document(self, tenant: str, document_id: str) -> int:
        self._index.delete_document(tenant, document_id)
        return self._store.delete_under(KIND, tenant, document_id)

    def set_available(self, tenant: str, ids: list[str], available: bool) -> None:
        for cid in ids:
            self._store.update(KIND, tenant, cid, {"available": available})
        self._index.set_available(tenant, ids, available)

    def update_row(self, tenant: str, row: dict[str, Any], vector: list[float]) -> None:
        self.write(tenant, [row], [vector])
