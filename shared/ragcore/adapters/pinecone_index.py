"""VectorIndex on Pinecone: one index (dotproduct metric), one namespace per tenant, dense + sparse values.

The sparse half carries the chunk's terms (hashed, with saturated term frequency), so keyword search runs in
Pinecone as a sparse-only query; metadata (dataset_id, document_id, available) scopes every query. Deleting a
document's or dataset's vectors looks them up with a filtered query first, which serverless indexes support
(they do not support delete-by-metadata everywhere).

Retries: the client retries 429/5xx itself (a few tries, honouring Retry-After, within a per-host retry budget
that stops retrying while an index keeps failing); each call here is tried `attempts` times on top, with
exponential backoff and jitter (0.25 s, 0.5 s, 1 s, 2 s: about 4 s in all), so a rate-limited burst of upserts
slows down and goes through. A call still failing after that is a ProviderError naming the status.
"""

from __future__ import annotations

import random
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ragcore.domain.meta_values import NO_VALUE
from ragcore.errors import ProviderError
from ragcore.ports import Hit, IndexRecord, MetaFilter
from ragcore.text.tokenize import content_terms, term_weights

T = TypeVar("T")
UPSERT_BATCH = 200  # ~4 KB a 384-dim record as JSON: well under the 2 MB request limit
ID_BATCH = 1000
MAX_TOP_K = 10_000
META_PREFIX = "m_"  # a document's metadata key k is the record's field m_k (a list of strings)
_NEVER = "\x01"  # a value no document holds: `$in` of nothing


def _meta_filter(meta: MetaFilter | None) -> dict[str, Any] | None:
    """The metadata clauses as a Pinecone filter; None when they constrain nothing."""
    if meta is None or not meta.clauses:
        return None
    parts: list[dict[str, Any]] = []
    for clause in meta.clauses:
        field = META_PREFIX + clause.key
        if clause.negate:
            if not clause.values:  # holds none of nothing: always true
                if meta.logic == "or":
                    return None
                continue
            parts.append({"$or": [{field: {"$exists": False}}, {field: {"$nin": list(clause.values)}}]})
        else:
            parts.append({field: {"$in": list(clause.values) or [_NEVER]}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$or" if meta.logic == "or" else "$and": parts}


def term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def sparse_document(text: str, terms: list[str] | None = None) -> dict[str, list[Any]]:
    counts = Counter(terms if terms is not None else content_terms(text))
    pairs = sorted((term_index(t), n / (n + 1.2)) for t, n in counts.items())  # saturated tf, as BM25 does
    merged: dict[int, float] = {}
    for index, value in pairs:
        merged[index] = max(merged.get(index, 0.0), value)
    return {"indices": list(merged), "values": list(merged.values())}


def sparse_query(text: str, weights: Mapping[str, float] | None = None) -> dict[str, list[Any]]:
    """The question's terms, each valued by its importance: the caller's idf-based weights when given (the dot
    product with sparse_document then ranks as BM25 without length normalisation), else the term weights."""
    weights = weights or term_weights(text)
    merged: dict[int, float] = {}
    for term, weight in weights.items():
        merged[term_index(term)] = merged.get(term_index(term), 0.0) + weight
    return {"indices": list(merged), "values": list(merged.values())}


class PineconeVectorIndex:
    BACKOFF_S = 0.25  # the first wait between two tries of a call

    def __init__(self, api_key: str, host: str, *, pinecone_client: Any = None, attempts: int = 5) -> None:
        if pinecone_client is None:
            from pinecone import Pinecone

            pinecone_client = Pinecone(api_key=api_key or "none")
        self._index = pinecone_client.Index(host=host)
        self._attempts = attempts
        self._dim: int | None = None

    def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        reason = ""
        for attempt in range(self._attempts):
            try:
                return fn(**kwargs)
            except Exception as exc:  # the client raises several types; retry only what may pass
                status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
                transient = status in (408, 429, 500, 502, 503, 504) or status is None and "connect" in str(exc).lower()
                if not transient:
                    raise ProviderError(f"Pinecone refused the request ({status or type(exc).__name__}).") from exc
                reason = f"HTTP {status}" if status else type(exc).__name__
            if attempt + 1 < self._attempts:
                time.sleep(self.BACKOFF_S * 2**attempt * (0.5 + random.random()))
        raise ProviderError(f"Pinecone kept failing after {self._attempts} attempts ({reason}); the vector index may be "
                            "rate-limiting or unavailable.")

    def _dimension(self) -> int:
        if self._dim is None:
            stats = self._call(self._index.describe_index_stats)
            self._dim = int(stats.dimension if hasattr(stats, "dimension") else stats["dimension"])
        return self._dim

    @staticmethod
    def _scope(dataset_ids: list[str], document_ids: list[str] | None, meta: MetaFilter | None = None) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [
            {"dataset_id": {"$in": list(dataset_ids)}}, {"available": {"$eq": True}}, {"doc_on": {"$eq": True}}]
        if document_ids:
            parts.append({"document_id": {"$in": list(document_ids)}})
        clauses = _meta_filter(meta)
        if clauses is not None:
            parts.append(clauses)
        return {"$and": parts}

    # ---- writes ---------------------------------------------------------------------------------
    def upsert(self, tenant: str, records: list[IndexRecord]) -> None:
        if not records:
            return
        self._dim = len(records[0]["vector"])
        vectors = []
        for r in records:
            metadata: dict[str, Any] = {"dataset_id": r["dataset_id"], "document_id": r["document_id"],
                                        "available": bool(r.get("available", True)),
                                        "doc_on": r.get("document_available") is not False}
            metadata.update({META_PREFIX + key: values for key, values in r.get("meta", {}).items()})
            item: dict[str, Any] = {"id": r["id"], "values": list(r["vector"]), "metadata": metadata}
            sparse = sparse_document(r.get("content", ""), r.get("terms"))
            if sparse["indices"]:
                item["sparse_values"] = sparse
            vectors.append(item)
        for start in range(0, len(vectors), UPSERT_BATCH):
            self._call(self._index.upsert, vectors=vectors[start : start + UPSERT_BATCH], namespace=tenant, show_progress=False)

    def delete(self, tenant: str, ids: list[str]) -> None:
        for start in range(0, len(ids), ID_BATCH):
            self._call(self._index.delete, ids=ids[start : start + ID_BATCH], namespace=tenant)

    def _ids_where(self, tenant: str, flt: dict[str, Any], limit: int = ID_BATCH) -> list[str]:
        reply = self._call(self._index.query, vector=[0.0] * self._dimension(), top_k=limit, filter=flt, namespace=tenant,
                           include_metadata=False, include_values=False)
        return [m.id for m in reply.matches]

    def _delete_where(self, tenant: str, flt: dict[str, Any]) -> None:
        while True:
            ids = self._ids_where(tenant, flt)
            if not ids:
                return
            self.delete(tenant, ids)

    def delete_document(self, tenant: str, document_id: str) -> None:
        self._delete_where(tenant, {"document_id": {"$eq": document_id}})

    def delete_dataset(self, tenant: str, dataset_id: str) -> None:
        self._delete_where(tenant, {"dataset_id": {"$eq": dataset_id}})

    def set_available(self, tenant: str, ids: list[str], available: bool) -> None:
        for cid in ids:
            self._call(self._index.update, id=cid, set_metadata={"available": available}, namespace=tenant)

    def set_document_available(self, tenant: str, document_id: str, available: bool) -> None:
        # one update by metadata: every chunk of the document, however many
        self._call(self._index.update, filter={"document_id": {"$eq": document_id}}, set_metadata={"doc_on": available},
                   namespace=tenant)

    def set_document_meta(self, tenant: str, document_id: str, meta: dict[str, list[str]]) -> None:
        reply = self._call(self._index.query, vector=[0.0] * self._dimension(), top_k=1, namespace=tenant,
                           filter={"document_id": {"$eq": document_id}}, include_metadata=True, include_values=False)
        if not reply.matches:
            return  # no chunks yet: their upsert carries the metadata
        held = {k for k in (reply.matches[0].metadata or {}) if k.startswith(META_PREFIX)}
        update: dict[str, Any] = {k: [NO_VALUE] for k in held}  # Pinecone keeps unnamed fields: a lost key reads "no value"
        update.update({META_PREFIX + key: values for key, values in meta.items()})
        if update:
            self._call(self._index.update, filter={"document_id": {"$eq": document_id}}, set_metadata=update, namespace=tenant)

    # ---- reads ----------------------------------------------------------------------------------
    def search_dense(self, tenant: str, vector: list[float], top_k: int, dataset_ids: list[str],
                     document_ids: list[str] | None = None, meta: MetaFilter | None = None) -> list[Hit]:
        if not dataset_ids or top_k <= 0:
            return []
        reply = self._call(self._index.query, vector=list(vector), top_k=min(top_k, MAX_TOP_K), namespace=tenant,
                           filter=self._scope(dataset_ids, document_ids, meta), include_metadata=False)
        return [{"id": m.id, "score": float(m.score)} for m in reply.matches]

    def search_text(self, tenant: str, text: str, top_k: int, dataset_ids: list[str],
                    document_ids: list[str] | None = None, meta: MetaFilter | None = None,
                    weights: Mapping[str, float] | None = None) -> list[Hit]:
        sparse = sparse_query(text, weights)
        if not sparse["indices"] or not dataset_ids or top_k <= 0:
            return []
        reply = self._call(self._index.query, vector=[0.0] * self._dimension(), sparse_vector=sparse, top_k=min(top_k, MAX_TOP_K),
                           namespace=tenant, filter=self._scope(dataset_ids, document_ids, meta), include_metadata=False)
        return [{"id": m.id, "score": float(m.score)} for m in reply.matches if m.score > 0]

    def fetch_vectors(self, tenant: str, ids: list[str]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for start in range(0, len(ids), ID_BATCH):
            reply = self._call(self._index.fetch, ids=ids[start : start + ID_BATCH], namespace=tenant)
            for vid, vec in reply.vectors.items():
                out[vid] = list(vec.values)
        return out

    def count(self, tenant: str, dataset_id: str | None = None) -> int:
        if dataset_id is None:
            stats = self._call(self._index.describe_index_stats)
            ns = stats.namespaces.get(tenant) if hasattr(stats, "namespaces") else None
            return int(ns.vector_count) if ns else 0
        return len(self._ids_where(tenant, {"dataset_id": {"$eq": dataset_id}}, limit=MAX_TOP_K))
