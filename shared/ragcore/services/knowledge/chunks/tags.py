"""Chunk tags (`tag_kwd`) across a dataset: counts, aggregation over datasets, rename and removal.

A tag is part of a chunk's searchable text, so a change rewrites the chunk's index record too (with its
stored vector: the embedding is of the content, which does not change).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ports import MetadataStore, VectorIndex
from ragcore.services.knowledge.chunks.store import ChunkStore, is_current


def _fail(message: str, code: int = RetCode.DATA_ERROR) -> ApiError:
    return ApiError(code, message)


class TagService:
    def __init__(self, store: MetadataStore, chunks: ChunkStore, index: VectorIndex) -> None:
        self._store = store
        self._chunks = chunks
        self._index = index

    def _owned(self, tenant: str, dataset_id: str, message: str = "no authorization") -> None:
        if self._store.get(DATASET_KIND, tenant, dataset_id) is None:
            raise _fail(message)

    def _rows(self, tenant: str, dataset_id: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(document, chunk) for every current chunk of the dataset: tags are counted over the whole dataset, as
        RAGFlow's aggregation does (work about everything)."""
        for docs in self._store.batches(DOC_KIND, tenant, dataset_id):
            for doc in docs:
                for rows in self._chunks.batches_of_document(tenant, doc["id"]):
                    yield from ((doc, row) for row in rows if is_current(row, doc))

    def _counts(self, tenant: str, dataset_id: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for _, row in self._rows(tenant, dataset_id):
            counts.update(set(row.get("tag_kwd") or []))
        return counts

    def list_tags(self, tenant: str, dataset_id: str) -> list[list[Any]]:
        """[[tag, number of chunks], …], most used first."""
        self._owned(tenant, dataset_id)
        return [[tag, n] for tag, n in self._counts(tenant, dataset_id).most_common()]

    def aggregate(self, tenant: str, dataset_ids: list[str]) -> list[dict[str, Any]]:
        if not dataset_ids:
            raise _fail("Lack of dataset_ids in query parameters")
        for ds in dataset_ids:
            self._owned(tenant, ds, f"No authorization for dataset '{ds}'")
        merged: Counter[str] = Counter()
        for ds in dict.fromkeys(dataset_ids):
            merged.update(self._counts(tenant, ds))
        return [{"value": tag, "count": n} for tag, n in merged.most_common()]

    def delete(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not payload or "tags" not in payload:
            raise _fail("Lack of tags in request body")
        tags = payload["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _fail("tags must be a list of strings", RetCode.ARGUMENT_ERROR)
        self._owned(tenant, dataset_id)
        gone = set(tags)
        self._rewrite(tenant, dataset_id, lambda current: [t for t in current if t not in gone])
        return {}

    def rename(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, str]:
        if not payload or "from_tag" not in payload or "to_tag" not in payload:
            raise _fail("Lack of from_tag or to_tag in request body")
        old, new = payload["from_tag"], payload["to_tag"]
        if not isinstance(old, str) or not isinstance(new, str):
            raise _fail("from_tag and to_tag must be strings", RetCode.ARGUMENT_ERROR)
        if not old.strip() or not new.strip():
            raise _fail("from_tag and to_tag must not be empty", RetCode.ARGUMENT_ERROR)
        self._owned(tenant, dataset_id)
        self._rewrite(tenant, dataset_id, lambda current: list(dict.fromkeys(new if t == old else t for t in current)))
        return {"from": old, "to": new}

    def _rewrite(self, tenant: str, dataset_id: str, change: Any) -> None:
        rows = []
        docs: dict[str, dict[str, Any]] = {}
        for doc, row in self._rows(tenant, dataset_id):
            current = list(row.get("tag_kwd") or [])
            changed = change(current)
            if changed != current:
                rows.append({**row, "tag_kwd": changed})
                docs[doc["id"]] = doc
        if not rows:
            return
        vectors = self._index.fetch_vectors(tenant, [r["id"] for r in rows])
        kept = [r for r in rows if r["id"] in vectors]
        self._chunks.write(tenant, kept, [vectors[r["id"]] for r in kept], docs)
