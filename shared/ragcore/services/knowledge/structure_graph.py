"""A document's structure graph (`…/documents/{id}/structure/graph`).

RAGFlow builds these graphs by knowledge compilation (per-template entity/relation rows) and by RAPTOR's per-document
summary tree, never while parsing; this server does neither per document, so every document has none: GET answers
RAGFlow's empty `{"templates": []}` and DELETE removes no rows.
"""

from __future__ import annotations

from typing import Any

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ports import MetadataStore

DOC_KIND = kinds.DOCUMENT


class StructureGraphs:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def get(self, tenant: str, dataset_id: str, document_id: str) -> dict[str, Any]:
        self._document(tenant, dataset_id, document_id)
        return {"templates": []}

    def delete(self, tenant: str, dataset_id: str, document_id: str, payload: dict[str, Any]) -> int:
        """How many graph rows went (RAGFlow's `{"deleted": n}`)."""
        self._document(tenant, dataset_id, document_id)
        template_id = str(payload.get("template_id") or "").strip()
        if not template_id:
            raise ApiError(RetCode.DATA_ERROR, "`template_id` is required")
        if template_id.startswith("legacy:") and not template_id[len("legacy:"):].strip():
            raise ApiError(RetCode.DATA_ERROR, "`template_id` is invalid")
        return 0

    def _document(self, tenant: str, dataset_id: str, document_id: str) -> None:
        if self._store.get(DATASET_KIND, tenant, dataset_id) is None:
            raise ApiError(RetCode.DATA_ERROR, f"You don't own the dataset {dataset_id}.")
        doc = self._store.get(DOC_KIND, tenant, document_id)
        if doc is None or doc["dataset_id"] != dataset_id:
            raise ApiError(RetCode.DATA_ERROR, f"you don't own the document {document_id}")
