"""Chunk management within a document: list, get, add, update, availability, delete.

Added and updated chunks are embedded and indexed before the call returns, so they are searchable at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import now_ms
from ragcore.ports import Embedder, MetadataStore, VectorIndex
from ragcore.services.common import REST_API_MAX_IDS, bulk_outcome, duplicate_messages, rest_api_page
from ragcore.services.knowledge.chunks.store import MANUAL_BASE, ChunkStore, chunk_id, current_run, is_current
from ragcore.services.knowledge.documents import DocumentService
from ragcore.text.tokenize import count_tokens

KEYWORD_MATCHES = 1024  # chunks a `keywords` list considers, best matches first (RAGFlow's search is bounded too)
RUN_CODE = {"UNSTART": "0", "RUNNING": "1", "CANCEL": "2", "DONE": "3", "FAIL": "4"}


def _str_list(payload: dict[str, Any], name: str, *, updating: bool = False) -> list[str]:
    """RAGFlow's rules and wording: a list of strings."""
    value = payload.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(RetCode.DATA_ERROR, f"`{name}` should be a list" if updating else f"`{name}` is required to be a list")
    if not all(isinstance(v, str) for v in value):
        raise ApiError(RetCode.DATA_ERROR, f"`{name}` must be a list of strings")
    if name == "questions":  # RAGFlow strips questions and drops empty ones; keywords and tags stay as given
        return [v.strip() for v in value if v.strip()]
    return list(value)


def _joinable(value: Any, name: str) -> None:
    """What str.join says of a list holding a non-string (RAGFlow's update joins these lists unchecked)."""
    if not isinstance(value, list):
        raise ApiError(RetCode.DATA_ERROR, f"`{name}` should be a list")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ApiError(RetCode.EXCEPTION_ERROR,
                           f"TypeError('sequence item {i}: expected str instance, {type(item).__name__} found')")


class ChunkService:
    def __init__(
        self, store: MetadataStore, chunks: ChunkStore, documents: DocumentService, embedder_for: Callable[[str, str], Embedder],
        index: VectorIndex,
    ) -> None:
        self._index = index
        self._store = store
        self._chunks = chunks
        self._documents = documents
        self._embedder_for = embedder_for

    def _owned(self, tenant: str, dataset_id: str, document_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        dataset = self._documents.dataset(tenant, dataset_id, "You don't own the dataset {id}.")
        doc = self._documents.find(tenant, dataset_id, document_id)
        if doc is None:
            raise ApiError(RetCode.DATA_ERROR, f"you don't own the document {document_id}")
        return dataset, doc

    def view(self, row: dict[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
        """A chunk as clients see it; a switched-off document's chunks read unavailable, as in RAGFlow."""
        doc_on = doc is None or str(doc.get("status", "1")) == "1"
        return {
            "id": row["id"],
            "content": row["content"],
            "document_id": row["document_id"],
            "doc_id": row["document_id"],
            "docnm_kwd": row.get("docnm_kwd", ""),
            "dataset_id": row["dataset_id"],
            "important_keywords": row.get("important_keywords") or [],
            "questions": row.get("questions") or [],
            "tag_kwd": row.get("tag_kwd") or [],
            "image_id": row.get("image_id", ""),
            "available": bool(row.get("available", True)) and doc_on,
            "positions": row.get("positions") or [],
            "create_time": datetime.fromtimestamp(row.get("create_time", now_ms()) / 1000).strftime("%Y-%m-%d %H:%M:%S"),
            "create_timestamp": row.get("create_time", now_ms()) / 1000,
        }

    def list(self, tenant: str, dataset_id: str, document_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """A page of the document's chunks in reading order (the store pages and counts); `keywords` are searched in
        the document's full-text index, as RAGFlow's list does, and at most KEYWORD_MATCHES matches are listed."""
        _, doc = self._owned(tenant, dataset_id, document_id)
        page, page_size = rest_api_page(params)
        # RAGFlow's _get_query_id_list: every `chunk_ids` occurrence, split at commas, each once
        chunk_ids = list(dict.fromkeys(i.strip() for raw in params.get("chunk_ids") or [] for i in str(raw).split(",") if i.strip()))
        if len(chunk_ids) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"chunk_ids must contain at most {REST_API_MAX_IDS} IDs")
        available = params.get("available")
        want = None if available in (None, "") else str(available).lower() in ("1", "true")
        wanted = params.get("id")
        keywords = (params.get("keywords") or "").strip()
        start = (max(page, 1) - 1) * page_size
        if wanted:
            row = self._current(tenant, doc, str(wanted))
            if row is None:
                raise ApiError(RetCode.DATA_ERROR, f"Chunk not found: {dataset_id}/{wanted}")
            rows, total = ([row] if want is None or bool(row.get("available", True)) == want else []), 1
            rows = rows[start : start + page_size]
        elif chunk_ids:
            picked = [r for r in self._chunks.get_many(tenant, chunk_ids) if r["document_id"] == doc["id"] and is_current(r, doc)
                      and (want is None or bool(r.get("available", True)) == want)
                      and (not keywords or keywords.lower() in str(r.get("content", "")).lower())]
            picked.sort(key=lambda r: (r.get("order", 0), r.get("create_time", 0)))
            rows, total = picked[start : start + page_size], len(picked)
        elif keywords:
            hits = self._index.search_text(tenant, keywords, KEYWORD_MATCHES, [dataset_id], [document_id])
            found = [r for r in self._chunks.get_many(tenant, [h["id"] for h in hits])
                     if is_current(r, doc) and (want is None or bool(r.get("available", True)) == want)]
            found.sort(key=lambda r: (r.get("order", 0), r.get("create_time", 0)))
            rows, total = found[start : start + page_size], len(found)
        else:
            rows = self._chunks.page(tenant, doc, start, page_size, available=want)
            total = self._chunks.count(tenant, doc, available=want)
        view_doc = self._documents.view(doc)
        view_doc["run"] = RUN_CODE.get(doc["run"], doc["run"])
        return {"chunks": [self.view(r, doc) for r in rows], "doc": view_doc, "total": total}

    def _current(self, tenant: str, doc: dict[str, Any], cid: str) -> dict[str, Any] | None:
        """The chunk, when it is one of the document's current chunks."""
        row = self._chunks.get(tenant, cid)
        return row if row is not None and row["document_id"] == doc["id"] and is_current(row, doc) else None

    def get(self, tenant: str, dataset_id: str, document_id: str, cid: str) -> dict[str, Any]:
        _, doc = self._owned(tenant, dataset_id, document_id)
        row = self._current(tenant, doc, cid)
        if row is None:
            raise ApiError(RetCode.DATA_ERROR, "Chunk not found!", data=False)
        return self.stored_view(row, doc)

    def stored_view(self, row: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
        """GET of one chunk: RAGFlow answers with the chunk as its document store holds it (content_with_weight,
        kb_id, important_kwd…, token fields left out); the names the list uses come with it."""
        view = self.view(row, doc)
        return {
            **view,
            "content_with_weight": view["content"],
            "kb_id": view["dataset_id"],
            "important_kwd": view["important_keywords"],
            "question_kwd": view["questions"],
            "img_id": view["image_id"],
            "available_int": int(view["available"]),
            "position_int": view["positions"],
            "doc_type_kwd": row.get("doc_type_kwd") or "text",
            "create_timestamp_flt": view["create_timestamp"],
        }

    def add(self, tenant: str, dataset_id: str, document_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        dataset, doc = self._owned(tenant, dataset_id, document_id)
        content = payload.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ApiError(RetCode.DATA_ERROR, "`content` is required")
        keywords = _str_list(payload, "important_keywords")
        questions = _str_list(payload, "questions")
        tags = _str_list(payload, "tag_kwd")
        ms = now_ms()
        numbered = self._store.increment(DOC_KIND, tenant, document_id, {"_manual_chunks": 1}) or doc
        row = {
            "id": chunk_id(document_id, f"manual:{ms}:{time.perf_counter_ns()}", content),
            "content": content,
            "document_id": document_id,
            "dataset_id": dataset_id,
            "docnm_kwd": doc["name"],
            "important_keywords": keywords,
            "questions": questions,
            "tag_kwd": tags,
            "positions": [],
            "page_num": [],
            "available": True,
            "image_id": "",
            "create_time": ms,
            "order": MANUAL_BASE + int(numbered.get("_manual_chunks") or 0),
            "_run": current_run(doc),
        }
        self._embed_and_write(tenant, dataset, doc, row)
        tokens = count_tokens(content)
        self._store.increment(DOC_KIND, tenant, document_id, {"chunk_count": 1, "token_count": tokens})
        self._store.increment(DATASET_KIND, tenant, dataset_id, {"chunk_count": 1, "token_num": tokens})
        return self.view(row, doc)

    def update(self, tenant: str, dataset_id: str, document_id: str, cid: str, payload: dict[str, Any]) -> dict[str, Any]:
        dataset, doc = self._owned(tenant, dataset_id, document_id)
        row = self._current(tenant, doc, cid)
        if row is None:
            raise ApiError(RetCode.DATA_ERROR, f"Can't find this chunk {cid}")
        changed = dict(row)
        if payload.get("content") is not None:  # null leaves the content as it is, as RAGFlow does
            content = payload["content"]
            if not isinstance(content, str) or not content.strip():
                raise ApiError(RetCode.DATA_ERROR, "`content` is required")
            changed["content"] = content
        # RAGFlow's update checks in this order; it joins keywords and questions as text, so a non-string among them
        # is the TypeError its handler answers (code 100), and `available` is whatever int() makes of it
        for name in ("important_keywords", "questions"):
            if name in payload:
                _joinable(payload[name], name)
                changed[name] = _str_list(payload, name, updating=True)
        if "available" in payload:
            try:
                changed["available"] = bool(int(payload["available"]))
            except (TypeError, ValueError) as exc:
                raise ApiError(RetCode.EXCEPTION_ERROR, repr(exc)) from None
        if "positions" in payload:
            if not isinstance(payload["positions"], list):
                raise ApiError(RetCode.DATA_ERROR, "`positions` should be a list")
            changed["positions"] = payload["positions"]
        if "tag_kwd" in payload:
            changed["tag_kwd"] = _str_list(payload, "tag_kwd", updating=True)
        self._embed_and_write(tenant, dataset, doc, changed)
        return self.view(changed, doc)

    def set_available(self, tenant: str, dataset_id: str, document_id: str, payload: dict[str, Any]) -> None:
        # RAGFlow's switch_chunks: the dataset, the ids, the flag (present, any value: int() of available_int, else
        # the truth of available), then the document ("document not found")
        self._documents.dataset(tenant, dataset_id, "You don't own the dataset {id}.")
        ids = payload.get("chunk_ids")
        if not ids or not isinstance(ids, list):
            raise ApiError(RetCode.DATA_ERROR, "`chunk_ids` is required.")
        if "available_int" in payload:
            try:
                available = int(payload["available_int"]) == 1
            except (TypeError, ValueError) as exc:
                raise ApiError(RetCode.EXCEPTION_ERROR, repr(exc)) from None
        elif "available" in payload:
            available = bool(payload["available"])
        else:
            raise ApiError(RetCode.DATA_ERROR, "`available_int` or `available` is required.")
        doc = self._documents.find(tenant, dataset_id, document_id)
        if doc is None:
            raise ApiError(RetCode.DATA_ERROR, "document not found")
        rows = {r["id"] for r in self._chunks.get_many(tenant, [str(i) for i in ids]) if r["document_id"] == document_id
                and is_current(r, doc)}
        missing = [i for i in ids if i not in rows]
        if missing:
            raise ApiError(RetCode.DATA_ERROR, f"Chunk `{missing[0]}` not found.")
        self._chunks.set_available(tenant, list(rows), available)

    def delete(self, tenant: str, dataset_id: str, document_id: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """None when done; a partial-success report when ids were repeated (each is deleted once), as RAGFlow.
        Unknown ids delete nothing (RAGFlow deletes the known ones, then reports an error)."""
        dataset, doc = self._owned(tenant, dataset_id, document_id)
        ids = payload.get("chunk_ids")
        if ids is not None and not isinstance(ids, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`chunk_ids` should be a list")
        duplicates: list[str] = []
        if not ids:
            if payload.get("delete_all") is not True:
                return None
            # every chunk at once: they become unreachable now and are removed in the background
            self._documents.clear_chunks(tenant, dataset, doc)
            return None
        unique, duplicates = duplicate_messages([str(i) for i in ids], "chunk")
        targets = [r for r in self._chunks.get_many(tenant, unique) if r["document_id"] == document_id and is_current(r, doc)]
        if len(targets) != len(unique):
            raise ApiError(RetCode.DATA_ERROR, f"rm_chunk deleted chunks {len(targets)}, expect {len(unique)}")
        self._chunks.delete_ids(tenant, [r["id"] for r in targets])
        tokens = sum(count_tokens(r["content"]) for r in targets)
        self._store.increment(DOC_KIND, tenant, document_id, {"chunk_count": -len(targets), "token_count": -tokens})
        self._store.increment(DATASET_KIND, tenant, dataset["id"], {"chunk_count": -len(targets), "token_num": -tokens})
        return bulk_outcome("chunks", len(targets), duplicates)[0] if duplicates else None

    def _embed_and_write(self, tenant: str, dataset: dict[str, Any], doc: dict[str, Any], row: dict[str, Any]) -> None:
        embedder = self._embedder_for(dataset.get("embedding_model") or "", tenant)
        text = row["content"] + ("\n" + " ".join(row["questions"]) if row.get("questions") else "")
        vector = embedder.embed([text])[0]
        self._chunks.update_row(tenant, row, vector, doc)
