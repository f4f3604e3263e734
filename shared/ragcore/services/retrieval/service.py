"""RAGFlow-compatible hybrid retrieval.

Candidates are the union of the vector top-k and the keyword top-k within the requested datasets and
documents, the metadata filter applied by the index itself; a question reads its candidates and their documents. Each is scored as RAGFlow does:
    similarity = w · vector_similarity + (1 − w) · term_similarity,   w = vector_similarity_weight
where term_similarity is the chunk's BM25 score for the question's terms (its content, important keywords and
questions; idf and mean length from the searched datasets' own statistics), scaled into [0, 1). Below similarity_threshold is dropped; an optional rerank model
replaces the vector part; the rest is paginated, with highlight and per-document aggregates.
"""

from __future__ import annotations

import html
import re
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.domain.search import SearchDataset
from ragcore.domain.validation import parse_model
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import Embedder, MetadataStore, Reranker, VectorIndex
from ragcore.services.common import rest_api_page
from ragcore.services.knowledge.chunks.store import ChunkStore, is_current, searchable_text
from ragcore.services.knowledge.chunks.term_stats import TERMSTATS_VERSION, chunk_terms
from ragcore.services.knowledge.metadata.vocabulary import MetaVocabulary
from ragcore.text.tokenize import content_terms, tokenize
from ragcore.text.tokenize import term_weights as _term_weights

MAX_TOP_K = 10_000
CANDIDATES = 128
K1, B = 1.2, 0.75  # BM25's usual saturation and length normalisation
_SEARCHES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="text-search")
QUESTION_CACHE = 512  # question vectors kept per process (~12 KB each as lists of floats)


def term_weights(question: str) -> dict[str, float]:
    found = dict(_term_weights(question))
    if found:
        return found
    terms = tokenize(question)
    return {t: 1.0 / len(terms) for t in terms}


def term_similarity(importance: dict[str, float], terms: list[str], mean_length: float) -> float:  # terms: sorted
    """BM25 of the chunk for the question's terms, in [0, 1): each term's saturated frequency
    tf·(k1+1) / (tf + k1·(1 − b + b·len/mean_len)) weighed by its importance (its weight in the question × its idf
    in the searched datasets), divided by the most any chunk could score (every term at saturation, k1 + 1). A chunk
    that holds every term once at average length scores 1/(k1+1) ≈ 0.45; rarer terms, repeats and shorter chunks
    score more."""
    best = sum(importance.values()) * (K1 + 1)
    if best <= 0 or not terms:
        return 0.0
    norm = K1 * (1 - B + B * len(terms) / mean_length) if mean_length > 0 else K1
    score = 0.0
    for term, weight in importance.items():
        tf = bisect_right(terms, term) - bisect_left(terms, term)  # equal tokens sit together in the sorted list
        if tf:
            score += weight * tf * (K1 + 1) / (tf + norm)
    return score / best


def highlight(text: str, terms: list[str]) -> str:
    """Matched terms wrapped in <em>…</em> (the rest HTML-escaped, as a browser would render it)."""
    escaped = html.escape(text, quote=False)
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not words:
        return escaped
    ascii_words = [re.escape(w) for w in words if w.isascii()]
    other = [re.escape(w) for w in words if not w.isascii()]
    parts = []
    if ascii_words:
        # tokens are folded to their singular: "document" also marks "documents"
        parts.append(r"\b(?:" + "|".join(ascii_words) + r")\w*")
    if other:
        parts.append("|".join(other))
    pattern = re.compile("|".join(parts), re.IGNORECASE)
    return pattern.sub(lambda m: f"<em>{m.group(0)}</em>", escaped)


def _number(payload: dict[str, Any], name: str, default: float, kind: type) -> Any:
    value = payload.get(name, default)
    if value is None:
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ApiError(RetCode.ARGUMENT_ERROR, f"`{name}` should be a number, got {value!r}") from None


class RetrievalService:
    def __init__(
        self,
        store: MetadataStore,
        chunks: ChunkStore,
        index: VectorIndex,
        embedder_for: Callable[[str, str], Embedder],
        *,
        reranker: Callable[[str, str], Reranker | None],
        vocabulary: MetaVocabulary,
        keyword_extractor: Callable[[str], list[str]] | None = None,
        background: Callable[[dict[str, Any]], None] | None = None,
        shared: Callable[[str, str], dict[str, Any] | None] | None = None,
    ) -> None:
        # (tenant, dataset id) -> a team dataset of a team the tenant's user joined (None: not shared with it)
        self._shared = shared
        self._background = background
        self._vocabulary = vocabulary
        self._store = store
        self._chunks = chunks
        self._index = index
        self._embedder_for = embedder_for
        self._reranker = reranker
        self._keywords = keyword_extractor
        # questions asked again (a retrieval test re-run, a chat's follow-ups over the same words, many clients
        # asking one thing) skip the embedding model: the last QUESTION_CACHE vectors by model and text
        self._questions: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._questions_lock = threading.Lock()

    def _question_vector(self, embedder: Embedder, model: str, question: str) -> list[float]:
        key = (model, question)
        with self._questions_lock:
            if key in self._questions:
                self._questions.move_to_end(key)
                return self._questions[key]
        vector = embedder.embed([question])[0]
        with self._questions_lock:
            self._questions[key] = vector
            if len(self._questions) > QUESTION_CACHE:
                self._questions.popitem(last=False)
        return vector

    def retrieve_request(self, tenant: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The /retrieval body, validated the way RAGFlow answers."""
        # RAGFlow's order of checks: the datasets (present, a list, each the caller's), then the question, the page
        dataset_ids = payload.get("dataset_ids")
        document_ids = payload.get("document_ids")
        if not dataset_ids:
            raise ApiError(RetCode.DATA_ERROR, "`dataset_ids` is required.")
        if not isinstance(dataset_ids, list):
            raise ApiError(RetCode.DATA_ERROR, "`dataset_ids` should be a list")
        self._datasets(tenant, [str(d) for d in dataset_ids], None)
        if "question" not in payload:
            raise ApiError(RetCode.DATA_ERROR, "`question` is required.")
        page, page_size = rest_api_page(payload)
        question = payload.get("question")
        if not isinstance(question, str) or not question.strip():
            # an empty question finds nothing (RAGFlow answers before searching)
            return {"total": 0, "chunks": [], "doc_aggs": {}}
        if document_ids is not None and not isinstance(document_ids, list):
            raise ApiError(RetCode.DATA_ERROR, "`documents` should be a list")
        top_k = _number(payload, "top_k", 1024, int)
        if top_k <= 0:
            raise ApiError(RetCode.DATA_ERROR, "`top_k` must be greater than 0")
        condition = payload.get("metadata_condition")
        return self.retrieve(
            tenant,
            question=question,
            dataset_ids=[str(d) for d in dataset_ids or []],
            document_ids=[str(d) for d in document_ids] if document_ids else None,
            page=page,
            page_size=min(page_size, 1000),
            similarity_threshold=_number(payload, "similarity_threshold", 0.2, float),
            vector_similarity_weight=_number(payload, "vector_similarity_weight", 0.3, float),
            top_k=min(top_k, MAX_TOP_K),
            rerank_id=payload.get("rerank_id") or None,
            keyword=bool(payload.get("keyword", False)),
            highlight=str(payload.get("highlight", False)).strip().lower() in ("true", "1"),  # "False" is false
            metadata_condition=condition if condition else None,
        )

    def owns_datasets(self, tenant: str, dataset_ids: list[str]) -> bool:
        wanted = set(dataset_ids)
        return len({d["id"] for d in self._store.get_many(DATASET_KIND, tenant, list(wanted))} & wanted) == len(wanted)

    def search_request(self, tenant: str, payload: dict[str, Any], dataset_id: str | None = None) -> dict[str, Any]:
        """POST /datasets/{id}/search and /datasets/search: RAGFlow's retrieval test over one or more datasets."""
        if dataset_id is None:  # SearchDatasetsReq: dataset_ids (≥ 1) comes first
            if "dataset_ids" not in payload:
                raise ApiError(RetCode.ARGUMENT_ERROR, f"Field: <dataset_ids> - Message: <Field required> - Value: <{payload}>")
            if payload["dataset_ids"] == []:
                raise ApiError(RetCode.ARGUMENT_ERROR,
                               "Field: <dataset_ids> - Message: <List should have at least 1 item after validation, not 0> - Value: <[]>")
        req = parse_model(SearchDataset, payload)
        ids = [dataset_id] if dataset_id else (req.dataset_ids or [])
        for ds in ids:
            if self._store.get(DATASET_KIND, tenant, ds) is None:
                raise ApiError(RetCode.DATA_ERROR, f"Only owner of dataset {ds} authorized for this operation.")
        meta = req.meta_data_filter or {}
        manual = meta.get("manual") if meta.get("method", "manual") == "manual" else None  # auto methods need an LLM
        found = self.retrieve(
            tenant, question=req.question, dataset_ids=ids, document_ids=req.doc_ids or None, page=req.page,
            page_size=min(req.size, 1000), similarity_threshold=req.similarity_threshold,
            vector_similarity_weight=req.vector_similarity_weight, top_k=min(req.top_k, 2048), rerank_id=req.rerank_id or None,
            keyword=req.keyword,
            metadata_condition={"logic": meta.get("logic", "and"), "conditions": manual} if isinstance(manual, list) and manual else None,
        )
        return {**found, "labels": {}}

    def document_metadata(self, tenant: str, document_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Each document's metadata (`meta_fields`) by id: what an answer shows beside the chunks it cites."""
        return {d["id"]: dict(d.get("meta_fields") or {}) for d in self._store.get_many(DOC_KIND, tenant, document_ids)}

    def retrieve(
        self,
        tenant: str,
        *,
        question: str,
        dataset_ids: list[str],
        document_ids: list[str] | None = None,
        page: int = 1,
        page_size: int = 30,
        similarity_threshold: float = 0.2,
        vector_similarity_weight: float = 0.3,
        top_k: int = 1024,
        rerank_id: str | None = None,
        keyword: bool = False,
        highlight: bool = False,
        metadata_condition: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        datasets = self._datasets(tenant, dataset_ids, document_ids)
        models = {d.get("embedding_model") for d in datasets}
        if len(models) > 1:
            raise ApiError(RetCode.DATA_ERROR, "Datasets use different embedding models.")
        options: dict[str, Any] = {
            "question": question, "similarity_threshold": similarity_threshold, "rerank_id": rerank_id,
            "vector_similarity_weight": vector_similarity_weight, "top_k": top_k, "keyword": keyword,
            "highlight": highlight, "metadata_condition": metadata_condition,
        }
        owners: dict[str, list[dict[str, Any]]] = {}
        for dataset in datasets:  # a team dataset's chunks, statistics and vectors are its owner's
            owners.setdefault(str(dataset.get("tenant_id") or tenant), []).append(dataset)
        if len(owners) == 1:
            [(owner, group)] = owners.items()
            return self._retrieve_in(owner, group, document_ids, page, page_size, **options)
        # several owners (the caller's datasets and its teams'): each answers the first `page` pages, merged by score
        docs = {d["id"]: owner for owner in owners for d in self._store.get_many(DOC_KIND, owner, document_ids or [])}
        unknown = [i for i in document_ids or [] if i not in docs]
        if unknown:
            raise ApiError(RetCode.DATA_ERROR, f"The datasets don't own the document {unknown[0]}")
        parts = []
        for owner, group in owners.items():
            scope = [i for i in document_ids or [] if docs[i] == owner]
            if document_ids and not scope:
                continue
            parts.append(self._retrieve_in(owner, group, scope or None, 1, page * page_size, **options))
        merged = sorted((c for p in parts for c in p["chunks"]), key=lambda c: -float(c["similarity"]))
        aggs = [a for p in parts for a in p["doc_aggs"]]
        return {"chunks": merged[(page - 1) * page_size : page * page_size],
                "doc_aggs": sorted(aggs, key=lambda a: (-a["count"], a["doc_name"])), "total": sum(p["total"] for p in parts)}

    def _retrieve_in(
        self, tenant: str, datasets: list[dict[str, Any]], document_ids: list[str] | None, page: int, page_size: int, *,
        question: str, similarity_threshold: float, vector_similarity_weight: float, top_k: int, rerank_id: str | None,
        keyword: bool, highlight: bool, metadata_condition: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Retrieval over datasets of one tenant (the caller, or the owner of the team datasets it names)."""
        models = {d.get("embedding_model") for d in datasets}
        ds_ids = [d["id"] for d in datasets]
        for dataset in datasets:
            if dataset.get("_termstats") != TERMSTATS_VERSION:
                self._queue_recount(tenant, dataset["id"])
        scope = document_ids
        if document_ids:
            owned = {d["id"] for d in self._store.get_many(DOC_KIND, tenant, document_ids) if d["dataset_id"] in ds_ids}
            unknown = [i for i in document_ids if i not in owned]
            if unknown:
                raise ApiError(RetCode.DATA_ERROR, f"The datasets don't own the document {unknown[0]}")
        # the metadata filter is the index's own: the question reads its candidates, never the datasets' documents
        meta = self._vocabulary.compile(tenant, ds_ids, metadata_condition) if metadata_condition else None
        weights = term_weights(question)
        text_query = question
        if keyword and self._keywords is not None:
            extra = self._keywords(question)
            text_query = question + " " + " ".join(extra)
            for word in extra:
                for t in content_terms(word):
                    weights.setdefault(t, 1.0)
        embedder = self._embedder_for(next(iter(models)) or "", tenant)
        # RAGFlow reranks a bounded candidate pool too; deeper pages widen it. top_k bounds only the chunks
        # "engaged in vector cosine computation": keyword matches join the pool regardless, as in RAGFlow.
        pool = max(CANDIDATES, 2 * page * page_size)
        # the keyword search needs no vector: it runs while the question is embedded and the vectors scanned
        stats = self._chunks.stats.read(tenant, ds_ids, weights)
        importance = {t: w * stats.idf(t) for t, w in weights.items()}
        text_future = _SEARCHES.submit(self._index.search_text, tenant, text_query, pool, ds_ids, scope, meta, importance)
        try:
            qvec = self._question_vector(embedder, next(iter(models)) or "", question)
            dense = self._index.search_dense(tenant, qvec, min(top_k, pool), ds_ids, scope, meta)
        finally:
            text = text_future.result()
        vec_sim = {h["id"]: float(h["score"]) for h in dense}
        ids = list(dict.fromkeys([h["id"] for h in dense] + [h["id"] for h in text]))
        missing = [i for i in ids if i not in vec_sim]
        if missing:
            fetched = self._index.fetch_vectors(tenant, missing)
            if fetched:
                import numpy as np  # only here: API functions that never search skip numpy's import cost

                names = list(fetched)
                scores = np.asarray([fetched[n] for n in names], dtype=np.float32) @ np.asarray(qvec, dtype=np.float32)
                vec_sim.update(zip(names, scores.tolist(), strict=True))
        rows = {r["id"]: r for r in self._chunks.get_many(tenant, ids)}
        # the candidates' documents only: a chunk counts while its document exists, is switched on and its current
        # run wrote it (deletes and re-parses make old chunks unreachable before they are purged)
        docs = {d["id"]: d for d in self._store.get_many(DOC_KIND, tenant, list({r["document_id"] for r in rows.values()}))
                if d["dataset_id"] in ds_ids and str(d.get("status", "1")) == "1"}
        w = max(0.0, min(float(vector_similarity_weight), 1.0))
        scored: list[tuple[float, float, float, dict[str, Any]]] = []
        for cid in ids:
            row = rows.get(cid)
            doc = docs.get(row["document_id"]) if row is not None else None
            if row is None or doc is None or not row.get("available", True) or not is_current(row, doc):
                continue
            tsim = term_similarity(importance, chunk_terms(row) or sorted(tokenize(searchable_text(row))), stats.mean_length)
            vsim = max(vec_sim.get(cid, 0.0), 0.0)
            scored.append((w * vsim + (1 - w) * tsim, vsim, tsim, row))
        if rerank_id:
            scored = self._rerank(tenant, rerank_id, question, scored, w)
        kept = [s for s in scored if s[0] >= similarity_threshold]
        kept.sort(key=lambda s: s[0], reverse=True)
        aggs = Counter(s[3]["document_id"] for s in kept)
        start = (page - 1) * page_size
        terms = list(weights)
        chunks = [self._view(s, docs, terms if highlight else None) for s in kept[start : start + page_size]]
        doc_aggs = [
            {"doc_id": doc_id, "doc_name": docs[doc_id]["name"], "count": n}
            for doc_id, n in sorted(aggs.items(), key=lambda kv: (-kv[1], docs[kv[0]]["name"]))
        ]
        return {"chunks": chunks, "doc_aggs": doc_aggs, "total": len(kept)}

    # ---- helpers ------------------------------------------------------------------------------
    def _queue_recount(self, tenant: str, dataset_id: str) -> None:
        """A dataset from before keyword statistics were kept: count them in the background, once an hour at most
        until done (it scores with a flat idf meanwhile)."""
        if self._background is not None and self._store.claim(
                tenant, "termstats-recount", f"{dataset_id}:{int(time.time() // 3600)}", new_id()):
            self._background({"type": "count_terms", "tenant": tenant, "dataset_id": dataset_id})

    def _datasets(self, tenant: str, dataset_ids: list[str], document_ids: list[str] | None) -> list[dict[str, Any]]:
        if not dataset_ids and document_ids:
            owners = {d["dataset_id"] for d in self._store.get_many(DOC_KIND, tenant, document_ids)}
            dataset_ids = sorted(owners)
            if not dataset_ids:
                raise ApiError(RetCode.DATA_ERROR, f"You don't own the document {document_ids[0]}.")
        found = []
        for ds_id in dict.fromkeys(dataset_ids):
            item = self._store.get(DATASET_KIND, tenant, ds_id)
            if item is None and self._shared is not None:
                item = self._shared(tenant, ds_id)
            if item is None:
                raise ApiError(RetCode.DATA_ERROR, f"You don't own the dataset {ds_id}.")
            found.append(item)
        return found

    def _rerank(
        self, tenant: str, rerank_id: str, question: str, scored: list[tuple[float, float, float, dict[str, Any]]], w: float
    ) -> list[tuple[float, float, float, dict[str, Any]]]:
        reranker = self._reranker(tenant, rerank_id)  # the tenant's model of that name, else the deployment's
        if reranker is None:
            raise ApiError(RetCode.DATA_ERROR, f"Model({rerank_id}) not authorized")
        if not scored:
            return scored
        scores = reranker.rerank(question, [s[3]["content"] for s in scored])
        return [(w * r + (1 - w) * t, r, t, row) for (_, _, t, row), r in zip(scored, scores, strict=True)]

    def _view(self, s: tuple[float, float, float, dict[str, Any]], docs: dict[str, Any], terms: list[str] | None) -> dict[str, Any]:
        sim, vsim, tsim, row = s
        out = {
            "id": row["id"],
            "content": row["content"],
            "content_ltks": row.get("_ltks") or " ".join(tokenize(row["content"])),
            "document_id": row["document_id"],
            "document_keyword": docs[row["document_id"]]["name"],
            "document_name": docs[row["document_id"]]["name"],
            "dataset_id": row["dataset_id"],
            "kb_id": row["dataset_id"],
            "image_id": row.get("image_id", ""),
            "important_keywords": row.get("important_keywords") or [],
            "questions": row.get("questions") or [],
            "tag_kwd": row.get("tag_kwd") or [],
            "positions": row.get("positions") or [],
            "similarity": round(sim, 6),
            "vector_similarity": round(vsim, 6),
            "term_similarity": round(tsim, 6),
        }
        if terms is not None:
            out["highlight"] = highlight(row["content"], terms)
        return out
