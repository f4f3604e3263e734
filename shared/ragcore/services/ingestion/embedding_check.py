"""`POST /datasets/{id}/embedding/check`: would another embedding model serve this dataset's vectors?

As RAGFlow: sample a few chunks, embed each one's text (and its document's name) with the candidate model, and
compare with the vector the chunk is indexed under. An average cosine of 0.9 or more means the vector spaces agree.
Reads are bounded: a page of one document and one chunk per sample, then one vector fetch.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, ProviderError, RetCode
from ragcore.ports import Embedder, ListQuery, MetadataStore, VectorIndex
from ragcore.services.knowledge.chunks.store import ChunkStore, embedding_text

DOC_KIND = kinds.DOCUMENT
MAX_SAMPLES = 100  # RAGFlow samples from the first 1000 chunks; a request never embeds more than this many
WINDOW = 1000
TITLE_WEIGHT = 0.1
COMPATIBLE = 0.9
TABLE_TAGS = re.compile(r"</?(table|td|caption|tr|th)( [^<>]{0,12})?>")
NOT_EFFECTIVE = ("Embedding model switch failed: the average similarity between old and new vectors is below 0.9, "
                 "indicating incompatible vector spaces.")


def cosine(a: list[float], b: list[float]) -> float:
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    if na < 1e-12 or nb < 1e-12:
        return 0.0
    return sum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)


class EmbeddingCheck:
    def __init__(self, store: MetadataStore, chunks: ChunkStore, index: VectorIndex,
                 embedder_for: Callable[[str, str], Embedder], check_model: Callable[[str, str], None]) -> None:
        self._store = store
        self._chunks = chunks
        self._index = index
        self._embedder_for = embedder_for
        self._check_model = check_model
        self._random = random.Random()

    def check(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The comparison; ApiError(NOT_EFFECTIVE) carrying it when the spaces differ."""
        model = payload.get("embd_id")
        if not model or not isinstance(model, str):
            raise ApiError(RetCode.DATA_ERROR, "`embd_id` is required.")
        if self._store.get(DATASET_KIND, tenant, dataset_id) is None:
            raise ApiError(RetCode.DATA_ERROR, "no authorization")
        try:
            n = int(payload.get("check_num", 5))
        except (TypeError, ValueError):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`check_num` must be an integer.") from None
        try:
            self._check_model(tenant, model)
        except ApiError as exc:
            raise ApiError(RetCode.DATA_ERROR, exc.message) from None
        embedder = self._embedder_for(model, tenant)
        samples = self._sample(tenant, dataset_id, max(0, min(n, MAX_SAMPLES)))
        stored = self._index.fetch_vectors(tenant, [row["id"] for row in samples]) if samples else {}
        results: list[dict[str, Any]] = []
        sims: list[float] = []
        mode = "content_only"
        for row in samples:
            text = TABLE_TAGS.sub(" ", embedding_text(row)).strip()
            vector = stored.get(row["id"]) or []
            if not text:
                results.append({"chunk_id": row["id"], "reason": "no_text"})
                continue
            if not vector:
                results.append({"chunk_id": row["id"], "reason": "no_stored_vector"})
                continue
            try:
                title_vec, text_vec = embedder.embed([row.get("docnm_kwd") or "Title", text])
            except ProviderError as exc:
                raise ApiError(RetCode.DATA_ERROR, f"Embedding failure. {exc}") from None
            if len(text_vec) != len(vector):
                raise ApiError(RetCode.DATA_ERROR, f"Embedding failure. The dimension ({len(text_vec)}) of given embedding model "
                                                   f"is different from the original ({len(vector)})")
            sim = cosine(text_vec, vector)
            mixed = cosine([TITLE_WEIGHT * t + (1 - TITLE_WEIGHT) * c for t, c in zip(title_vec, text_vec, strict=True)], vector)
            mode = "content_only"
            if mixed > sim:
                sim, mode = mixed, "title+content"
            sims.append(sim)
            results.append({"chunk_id": row["id"], "doc_id": row["document_id"], "doc_name": row.get("docnm_kwd", ""),
                            "vector_field": f"q_{len(vector)}_vec", "vector_dim": len(vector), "cos_sim": round(sim, 6)})
        if not sims:
            raise ApiError(RetCode.DATA_ERROR, "No embedded chunks are available to compare.")
        average = round(sum(sims) / len(sims), 6)
        summary = {"kb_id": dataset_id, "model": model, "sampled": len(samples), "valid": len(sims), "avg_cos_sim": average, "min_cos_sim": round(min(sims), 6),
                   "max_cos_sim": round(max(sims), 6), "match_mode": mode}
        data = {"summary": summary, "results": results}
        if average < COMPATIBLE:
            raise ApiError(RetCode.NOT_EFFECTIVE, NOT_EFFECTIVE, data=data)
        return data

    def _sample(self, tenant: str, dataset_id: str, n: int) -> list[dict[str, Any]]:
        """Up to n distinct available chunks of parsed documents, each a random document then a random chunk of it."""
        done = ListQuery(DOC_KIND, tenant, dataset_id, where={"run": ["DONE"]})
        documents = min(self._store.count(done), WINDOW) if n else 0
        picked: dict[str, dict[str, Any]] = {}
        for _ in range(2 * n if documents else 0):
            if len(picked) >= n:
                break
            page = self._store.page(done, self._random.randrange(documents), 1)
            if not page or not page[0].get("chunk_count"):
                continue
            doc = page[0]
            offset = self._random.randrange(min(int(doc["chunk_count"]), WINDOW))
            for row in self._chunks.page(tenant, doc, offset, 1, available=True):
                picked.setdefault(row["id"], row)
        return list(picked.values())
