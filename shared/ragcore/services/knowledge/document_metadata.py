"""Document metadata across a dataset: summary, batch update/delete, and the metadata field config."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ports import MetadataStore
from ragcore.services.common import stamp_update
from ragcore.services.knowledge.documents import DocumentService
from ragcore.services.knowledge.metadata.conditions import filter_documents
from ragcore.services.knowledge.metadata.vocabulary import MetaVocabulary


def _fail(message: str) -> ApiError:
    return ApiError(RetCode.DATA_ERROR, message)


class MetadataService:
    def __init__(self, store: MetadataStore, documents: DocumentService, vocabulary: MetaVocabulary) -> None:
        self._store = store
        self._documents = documents
        self._vocabulary = vocabulary

    def _dataset(self, tenant: str, dataset_id: str) -> dict[str, Any]:
        item = self._store.get(DATASET_KIND, tenant, dataset_id)
        if item is None:
            raise _fail(f"You don't own the dataset {dataset_id}. ")
        return item

    def summary(self, tenant: str, dataset_id: str) -> dict[str, Any]:
        """Each key's values with how many documents hold them, from the dataset's value vocabulary."""
        self._dataset(tenant, dataset_id)
        counts: dict[str, Counter[str]] = {}
        types: dict[str, str] = {}
        for entry in self._vocabulary.entries(tenant, dataset_id):
            counts.setdefault(entry["key"], Counter())[str(entry["value"])] += int(entry["n"])
            types.setdefault(entry["key"], entry.get("type", "string"))
        return {
            "summary": {
                key: {"type": types[key], "values": [[v, n] for v, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]}
                for key, c in counts.items()
            }
        }

    def batch_update(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, int]:
        self._dataset(tenant, dataset_id)
        selector = payload.get("selector") or {}  # RAGFlow: any empty value is no selector
        if not isinstance(selector, dict):
            raise _fail("selector must be an object.")
        updates = payload.get("updates") or []
        deletes = payload.get("deletes") or []
        if not isinstance(updates, list) or not isinstance(deletes, list):
            raise _fail("updates and deletes must be lists.")
        condition = selector.get("metadata_condition") or None
        if condition is not None and not isinstance(condition, dict):
            raise _fail("metadata_condition must be an object.")
        doc_ids = selector.get("document_ids")
        if doc_ids is not None and not isinstance(doc_ids, list):
            raise _fail("document_ids must be a list.")
        for u in updates:
            if not isinstance(u, dict) or not u.get("key") or "value" not in u:
                raise _fail("Each update requires key and value.")
        for d in deletes:
            if not isinstance(d, dict) or not d.get("key"):
                raise _fail("Each delete requires key.")
        if doc_ids is not None:  # omitted selects every document; an empty list selects none
            docs = [d for d in self._store.get_many(DOC_KIND, tenant, [str(i) for i in doc_ids]) if d["dataset_id"] == dataset_id]
            known = {d["id"] for d in docs}
            stray = [i for i in doc_ids if i not in known]
            if stray:
                raise _fail(f"These documents do not belong to dataset {dataset_id}: {', '.join(map(str, stray))}")
        else:  # the whole dataset: a change about everything, as RAGFlow's
            docs = [d for batch in self._store.batches(DOC_KIND, tenant, dataset_id) for d in batch]
        if condition:
            keep = filter_documents(docs, condition)
            docs = [d for d in docs if d["id"] in keep]
        updated = 0
        for doc in docs:
            meta = dict(doc.get("meta_fields") or {})
            before = dict(meta)
            for u in updates:
                key, value = u["key"], u["value"]
                if "match" in u and u["match"] is not None:
                    current = meta.get(key)
                    if isinstance(current, list):
                        meta[key] = [value if str(v) == str(u["match"]) else v for v in current]
                    elif str(current) == str(u["match"]):
                        meta[key] = value
                else:
                    meta[key] = value
            for d in deletes:
                key = d["key"]
                if key not in meta:
                    continue
                if "value" in d and d["value"] is not None:
                    current = meta[key]
                    if isinstance(current, list):
                        meta[key] = [v for v in current if str(v) != str(d["value"])]
                    elif str(current) == str(d["value"]):
                        meta.pop(key)
                else:
                    meta.pop(key)
            if meta != before:
                self._documents.set_meta(tenant, doc, meta)
                self._store.update(DOC_KIND, tenant, doc["id"], stamp_update({"meta_fields": meta}))
                updated += 1
        return {"updated": updated, "matched_docs": len(docs)}

    def set_document_metadata(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, int]:
        """PATCH …/documents/metadatas: the same selector/updates/deletes body as /metadata/update."""
        return self.batch_update(tenant, dataset_id, payload)

    def get_config(self, tenant: str, dataset_id: str) -> dict[str, Any]:
        dataset = self._dataset(tenant, dataset_id)
        return dict(dataset.get("metadata_config") or {"fields": []})

    def put_config(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._dataset(tenant, dataset_id)
        if not payload:
            raise ApiError(RetCode.ARGUMENT_ERROR, "The metadata config is required.")
        fields = payload.get("fields", [])
        if not isinstance(fields, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`fields` must be a list.")
        self._store.update(DATASET_KIND, tenant, dataset_id, stamp_update({"metadata_config": payload}))
        return payload

    def put_document_config(self, tenant: str, dataset_id: str, document_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._dataset(tenant, dataset_id)
        doc = self._store.get(DOC_KIND, tenant, document_id)
        if doc is None or doc["dataset_id"] != dataset_id:
            raise _fail(f"The dataset doesn't own the document {document_id}.")
        self._store.update(DOC_KIND, tenant, document_id, stamp_update({"metadata_config": payload}))
        return payload

    def flattened(self, tenant: str, dataset_ids: list[str]) -> dict[str, list[Any]]:
        """Every metadata key and its distinct values over the given datasets (their value vocabularies)."""
        if not dataset_ids:
            raise ApiError(RetCode.DATA_ERROR, "Lack of dataset_ids in query parameters")
        out: dict[str, set[str]] = {}
        for ds in dataset_ids:
            self._dataset(tenant, ds)
            for entry in self._vocabulary.entries(tenant, ds):
                out.setdefault(entry["key"], set()).add(str(entry["value"]))
        return {k: sorted(v) for k, v in out.items()}
