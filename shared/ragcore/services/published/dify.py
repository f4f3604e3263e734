"""Dify's External Knowledge API (/dify/retrieval), as RAGFlow serves it: a knowledge_id and a query in, the best
chunks out as {"records": [{content, score, title, metadata}]} with no envelope; failures are {"code", "message"}
with an HTTP status of their own (400 for bad arguments, 404 for an unknown knowledge base, 500 otherwise).

Another tenant's knowledge base answers like one that does not exist (RAGFlow says "no authorization" there).
`use_kg` is accepted; there is no knowledge-graph retrieval to add to the chunks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.errors import ApiError, ProviderError, RetCode
from ragcore.ports import MetadataStore

MAX_TOP_K = 1000  # /retrieval's largest page: one request reads at most this many chunks
_NUMBERS = "top_k must be integer and score_threshold must be numeric"
# RAGFlow's HTTP status for an error code of this API (build_error_result); other codes are their own status
_HTTP: dict[int, int] = {RetCode.EXCEPTION_ERROR: 500, RetCode.ARGUMENT_ERROR: 400, RetCode.DATA_ERROR: 400, RetCode.OPERATING_ERROR: 400,
         RetCode.CONNECTION_ERROR: 500, RetCode.RUNNING: 500, RetCode.PERMISSION_ERROR: 403, RetCode.AUTHENTICATION_ERROR: 403}


class DifyError(Exception):
    """A failure answered as {"code": code, "message": message} under http_status (no "data", as RAGFlow)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message
        self.http_status = _HTTP.get(self.code, self.code if 200 <= self.code <= 599 else 500)


def _malformed(reason: str) -> DifyError:
    return DifyError(RetCode.ARGUMENT_ERROR, f"invalid or malformed arguments: {reason}; ")


def request_from_query(args: Mapping[str, str]) -> dict[str, Any]:
    """A GET's query string as the POST body it stands for."""
    setting: dict[str, Any] = {}
    try:
        if args.get("top_k") not in (None, ""):
            setting["top_k"] = int(str(args["top_k"]))
        if args.get("score_threshold") not in (None, ""):
            setting["score_threshold"] = float(str(args["score_threshold"]))
    except ValueError:
        raise _malformed(_NUMBERS) from None
    return {"knowledge_id": args.get("knowledge_id"), "query": args.get("query"),
            "use_kg": str(args.get("use_kg", "")).lower() in ("1", "true", "yes", "on"), "retrieval_setting": setting}


def request_from_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A POST's body as RAGFlow reads it: empty is {}, JSON must be an object, anything else is a form."""
    if not raw.strip():
        return {}
    if not content_type.lower().startswith("application/json"):
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("400 Bad Request: The browser (or proxy) sent a request that this server could not understand.") from None
    if isinstance(body, str):
        raise _malformed("'str' object has no attribute 'get'")
    if not isinstance(body, dict):
        raise _malformed("JSON payload must be an object.")
    return body


def _options(setting: Any) -> tuple[float, int]:
    if setting is None:
        setting = {}
    if not isinstance(setting, dict):
        raise _malformed("retrieval_setting must be an object")
    try:
        threshold = float(setting.get("score_threshold", 0.0))
        top = int(setting.get("top_k", 1024))
    except (TypeError, ValueError):
        raise _malformed(_NUMBERS) from None
    return threshold, top


class DifyRetrieval:
    def __init__(self, store: MetadataStore, retrieve: Callable[..., dict[str, Any]]) -> None:
        self._store = store
        self._retrieve = retrieve

    def records(self, tenant: str, req: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in ("knowledge_id", "query") if not req.get(name)]
        if missing:
            raise DifyError(RetCode.ARGUMENT_ERROR, f"required arguments are missing: {','.join(missing)}; ")
        question, kb_id = req["query"], req["knowledge_id"]
        if not isinstance(question, str) or not isinstance(kb_id, str):
            raise _malformed("knowledge_id and query must be strings")
        threshold, top = _options(req.get("retrieval_setting", {}))
        condition = req.get("metadata_condition") or None
        if self._store.get(DATASET_KIND, tenant, kb_id) is None:
            raise DifyError(RetCode.NOT_FOUND, "Knowledgebase not found!")
        if top <= 0:
            return {"records": []}
        try:
            found = self._retrieve(
                tenant, question=question, dataset_ids=[kb_id], page=1, page_size=min(top, MAX_TOP_K),
                similarity_threshold=threshold, vector_similarity_weight=0.3, top_k=min(top, MAX_TOP_K),
                metadata_condition=condition,
            )
        except ApiError as exc:
            raise DifyError(exc.code, exc.message) from exc
        except ProviderError as exc:
            raise DifyError(RetCode.SERVER_ERROR, str(exc)) from exc
        chunks = found["chunks"]
        # the found chunks' documents only, for their metadata
        docs = {d["id"]: d for d in self._store.get_many(DOC_KIND, tenant, list(dict.fromkeys(c["document_id"] for c in chunks)))}
        records = []
        for chunk in chunks:
            doc = docs.get(chunk["document_id"])
            if doc is None:
                continue
            # Dify reads metadata.document_id; RAGFlow also names it doc_id
            meta = {**(doc.get("meta_fields") or {}), "doc_id": doc["id"], "document_id": doc["id"]}
            records.append({"content": chunk["content"], "score": chunk["similarity"], "title": chunk["document_name"],
                            "metadata": meta})
        return {"records": records}
