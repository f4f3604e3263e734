"""Documents of a dataset: upload, list, update, download, delete, and start/stop parsing."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.datasets import merge_parser_config
from ragcore.domain.documents import RUN_CODES, RUN_NAMES, TERMINAL, UpdateDocument, doc_type
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DATASET_GRAPH as GRAPH_KIND
from ragcore.domain.kinds import INDEX_TASK as TASK_KIND
from ragcore.domain.validation import parse_model
from ragcore.errors import ApiError, RetCode, StorageError
from ragcore.ids import new_id, now_ms
from ragcore.ports import BlobStore, JobQueue, ListQuery, MetadataStore, Tally
from ragcore.services.common import (
    REST_API_MAX_IDS,
    base_name,
    check_no_duplicates,
    page_items,
    rest_api_page,
    sort_items,
    stamp_new,
    stamp_update,
)
from ragcore.services.knowledge.chunks.store import ChunkStore
from ragcore.services.knowledge.document_assets import chunk_images_prefix, store_thumbnail, thumbnail_key
from ragcore.services.knowledge.document_filters import filter_by_metadata, has_metadata_filter, int_param, matches
from ragcore.services.knowledge.ingestion_logs import KIND as LOG_KIND
from ragcore.services.knowledge.ingestion_logs import record_run
from ragcore.services.knowledge.metadata.vocabulary import MetaVocabulary

log = logging.getLogger("ragcore.documents")
KIND = kinds.DOCUMENT
Docs = list[dict[str, Any]]
Multi = dict[str, list[str]]  # a query string's repeated parameters
NAME_SCOPE = "doc-name"
PUBLIC_HIDDEN = ("_",)


def blob_key(tenant: str, dataset_id: str, document_id: str) -> str:
    return f"docs/{tenant}/{dataset_id}/{document_id}"


def progress_line(text: str) -> str:
    return time.strftime("%H:%M:%S ") + text


def counted_chunks(item: dict[str, Any]) -> tuple[int, int]:
    """The chunks and tokens of a document its dataset counts: a run adds its counts to the dataset when it is
    DONE, so a RUNNING document's counts so far are its own only."""
    if item.get("run") == "RUNNING":
        return 0, 0
    return int(item.get("chunk_count") or 0), int(item.get("token_count") or 0)


def split_name(name: str) -> tuple[str, str]:
    stem, dot, suffix = name.rpartition(".")
    return (stem, suffix.lower()) if dot and stem else (name, "")


LEASE_RESUMES = 2  # a document whose lease lapses is parsed again this many times before it ends FAIL

# RAGFlow's words for stopping a document that is not being parsed
STOP_INVALID_STATE = "Can't stop parsing document that has not started or already completed"


class DocumentService:
    def __init__(
        self,
        store: MetadataStore,
        blobs: BlobStore,
        chunks: ChunkStore,
        queue: Callable[[], JobQueue],
        *,
        max_upload_bytes: int,
        is_supported: Callable[[str], bool],
        vocabulary: MetaVocabulary,
        resume: Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self._vocabulary = vocabulary
        self._resume = resume  # queues a document's parse again (a new run): what a lapsed lease does
        self._store = store
        self._blobs = blobs
        self._chunks = chunks
        self._queue = queue
        self._max_upload = max_upload_bytes
        self._is_supported = is_supported

    # ---- datasets -----------------------------------------------------------------------------
    def dataset(self, tenant: str, dataset_id: str, message: str) -> dict[str, Any]:
        item = self._store.get(DATASET_KIND, tenant, dataset_id) if dataset_id else None
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, message.format(id=dataset_id))
        return item

    # ---- create -------------------------------------------------------------------------------
    def upload(self, tenant: str, dataset_id: str, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        dataset = self.dataset(tenant, dataset_id, "Can't find the dataset with ID {id}!")
        if not files:
            raise ApiError(RetCode.ARGUMENT_ERROR, "No file part!")
        files = [(base_name(name), data) if name else (name, data) for name, data in files]
        for name, data in files:
            if not name:
                raise ApiError(RetCode.ARGUMENT_ERROR, "No file selected!")
            if len(name.encode("utf-8")) > 255:
                raise ApiError(RetCode.ARGUMENT_ERROR, "File name must be 255 bytes or less.")
            if not self._is_supported(name):
                raise ApiError(RetCode.SERVER_ERROR, f"{name}: This type of file has not been supported yet!")
            if len(data) > self._max_upload:
                raise ApiError(
                    RetCode.ARGUMENT_ERROR, f"{name}: the file is larger than the {self._max_upload // (1024 * 1024)} MB limit."
                )
        return self._create_many(tenant, dataset, files)

    def create_from_bytes(
        self, tenant: str, dataset_id: str, filename: str, data: bytes, *, source: str | None = None,
        source_file_id: str | None = None, document_id: str | None = None, source_type: str = "local",
    ) -> dict[str, Any]:
        """A document from bytes in hand. With document_id (a connector's item: the same id on every sync) a document
        already there under that id is returned as it is, so a repeated create never makes a second one."""
        dataset = self.dataset(tenant, dataset_id, "Can't find the dataset with ID {id}!")
        if document_id is not None:
            existing = self._store.get(KIND, tenant, document_id)
            if existing is not None:
                return self.view(existing)
        return self._create(tenant, dataset, filename, data, source=source, source_file_id=source_file_id,
                            doc_id=document_id, source_type=source_type)

    def replace_content(self, tenant: str, item: dict[str, Any], data: bytes) -> dict[str, Any]:
        """New bytes for an existing document (a connector's changed item): the same id, name and settings; its old
        chunks are retired when it is parsed again. Returns the updated document."""
        dataset = self.dataset(tenant, item["dataset_id"], "Can't find the dataset with ID {id}!")
        self._blobs.put(item["_blob"], data)
        thumbnail = store_thumbnail(self._blobs, item["_blob"], item["id"], item.get("suffix") or "", data, wait=False)
        changes = {"size": len(data), "_hash": hashlib.sha256(data).hexdigest(), "thumbnail": thumbnail}
        updated = self._store.update(KIND, tenant, item["id"], stamp_update(changes)) or item
        delta = len(data) - int(item.get("size") or 0)
        if delta:
            self._store.increment(DATASET_KIND, tenant, dataset["id"], {"_size_total": delta})
        return updated

    def create_empty(self, tenant: str, dataset_id: str, name: str) -> dict[str, Any]:
        dataset = self.dataset(tenant, dataset_id, "Can't find the dataset with ID {id}!")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(RetCode.ARGUMENT_ERROR, "File name can't be empty.")
        name = name.strip()
        if len(name.encode("utf-8")) > 255:
            raise ApiError(RetCode.ARGUMENT_ERROR, "File name must be 255 bytes or less.")
        # RAGFlow refuses a taken name here (uploads get a free one); names compare case-insensitively (README)
        if self._store.owner(tenant, f"{NAME_SCOPE}:{dataset['id']}", name.lower()):
            raise ApiError(RetCode.DATA_ERROR, "Duplicated document name in the same dataset.")
        return self._create(tenant, dataset, name, b"", virtual=True)

    def _create(
        self, tenant: str, dataset: dict[str, Any], name: str, data: bytes, *, source: str | None = None,
        source_file_id: str | None = None, virtual: bool = False, doc_id: str | None = None, source_type: str = "local",
    ) -> dict[str, Any]:
        doc_id = doc_id or new_id()
        name = self._claim_name(tenant, dataset["id"], name, doc_id)
        key = blob_key(tenant, dataset["id"], doc_id)
        try:
            return self._store_new(tenant, dataset, name, data, doc_id, key, source=source, source_file_id=source_file_id,
                                   virtual=virtual, source_type=source_type)
        except StorageError:  # nothing was listed or counted: what went before goes too (a retry starts clean)
            self._undo_create(tenant, dataset["id"], name, doc_id, key)
            raise

    def _create_many(self, tenant: str, dataset: dict[str, Any], files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        """An upload's documents written together: each one's name claimed and bytes stored, then the documents and
        their dataset's counts in as few store writes as it takes (on DynamoDB, one transaction per 25 documents
        instead of one each, their list positions' counts merged). A failed write undoes what it left unlisted."""
        made: list[tuple[str, str, str]] = []
        items: list[dict[str, Any]] = []
        try:
            for name, data in files:
                doc_id = new_id()
                name = self._claim_name(tenant, dataset["id"], name, doc_id)
                key = blob_key(tenant, dataset["id"], doc_id)
                made.append((name, doc_id, key))
                items.append(self._new_item(tenant, dataset, name, data, doc_id, key, source=None, source_file_id=None,
                                            virtual=False, source_type="local"))
            self._store.put_many(KIND, tenant, items, parent=dataset["id"], tally=self._counts)
        except StorageError:
            for name, doc_id, key in made:
                self._undo_create(tenant, dataset["id"], name, doc_id, key)
            raise
        return [self.view(item) for item in items]

    @staticmethod
    def _counts(item: dict[str, Any]) -> Tally:
        """What a document adds to its dataset: document_count, and the total size GET /datasets/{id} shows."""
        return Tally(DATASET_KIND, item["dataset_id"], {"document_count": 1, "_size_total": int(item["size"])})

    def _store_new(self, tenant: str, dataset: dict[str, Any], name: str, data: bytes, doc_id: str, key: str, *,
                   source: str | None, source_file_id: str | None, virtual: bool, source_type: str) -> dict[str, Any]:
        item = self._new_item(tenant, dataset, name, data, doc_id, key, source=source, source_file_id=source_file_id,
                              virtual=virtual, source_type=source_type)
        # the document and its dataset's counts in one write: a count never drifts from the list, whatever fails
        # or retries
        if not self._store.put(KIND, tenant, item, parent=dataset["id"], if_absent=True, tally=self._counts(item)):
            return self.view(self._store.get(KIND, tenant, doc_id) or item)  # a concurrent create of the same id won
        return self.view(item)

    def _new_item(self, tenant: str, dataset: dict[str, Any], name: str, data: bytes, doc_id: str, key: str, *,
                  source: str | None, source_file_id: str | None, virtual: bool, source_type: str) -> dict[str, Any]:
        """A new document's item, its bytes (and thumbnail) stored."""
        _, suffix = split_name(name)
        self._blobs.put(key, data)
        thumbnail = store_thumbnail(self._blobs, key, doc_id, suffix, data, wait=False)
        chunk_method = dataset.get("chunk_method") or "naive"
        item = stamp_new(
            {
                "id": doc_id,
                "name": name,
                "location": name,
                "type": "virtual" if virtual else doc_type(suffix),
                "suffix": suffix,
                "size": len(data),
                "source_type": source_type,
                "status": "1",
                "run": "UNSTART",
                "dataset_id": dataset["id"],
                "knowledgebase_id": dataset["id"],
                "chunk_method": chunk_method,
                "parser_config": json.loads(json.dumps(dataset.get("parser_config") or {})),
                "chunk_count": 0,
                "token_count": 0,
                "created_by": tenant,
                "process_begin_at": None,
                "process_duration": 0.0,
                "progress": 0.0,
                "progress_msg": "",
                "meta_fields": {},
                "pipeline_id": "",
                "thumbnail": thumbnail,
                "_blob": key,
                "_hash": hashlib.sha256(data).hexdigest(),
                "_run_id": 0,
                "_had_images": False,  # chunk pictures stored by a parse (a re-parse removes the earlier run's)
                "_source": source,
                "_file_id": source_file_id,
            }
        )
        return item

    def _undo_create(self, tenant: str, dataset_id: str, name: str, doc_id: str, key: str) -> None:
        """Best effort after a create that failed: its name free again, its bytes gone (the store may still be
        busy: what stays is an unlisted blob, or a name whose next upload gets a "(1)")."""
        try:
            if self._store.get(KIND, tenant, doc_id) is not None:
                return  # it was written after all (a concurrent create of the same id): it keeps everything
            self._store.release(tenant, f"{NAME_SCOPE}:{dataset_id}", name.lower(), doc_id)
            self._blobs.delete_prefix(key)
        except Exception:  # the failure the caller gets is the create's own
            log.warning("could not undo the failed create of %s", doc_id, exc_info=True)

    def _claim_name(self, tenant: str, dataset_id: str, name: str, owner: str) -> str:
        stem, suffix = split_name(name)
        candidate, n = name, 0
        while not self._store.claim(tenant, f"{NAME_SCOPE}:{dataset_id}", candidate.lower(), owner):
            n += 1
            candidate = f"{stem}({n}).{name.rpartition('.')[2]}" if suffix else f"{name}({n})"
        return candidate

    # ---- read ---------------------------------------------------------------------------------
    def view(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith(PUBLIC_HIDDEN)}

    def find(self, tenant: str, dataset_id: str, doc_id: str) -> dict[str, Any] | None:
        item = self._store.get(KIND, tenant, doc_id) if isinstance(doc_id, str) else None
        if item is None or item["dataset_id"] != dataset_id:
            return None
        return self.expire_lease(tenant, item)

    def get_owned(self, tenant: str, dataset_id: str, doc_id: str) -> dict[str, Any]:
        """The document a download names. RAGFlow's download: a dataset or document the caller cannot reach is
        "document not found"; the caller's document in another of its datasets is "The dataset not own …"."""
        self.dataset(tenant, dataset_id, "document not found")
        item = self._store.get(KIND, tenant, doc_id) if isinstance(doc_id, str) else None
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, "document not found")
        if item.get("dataset_id") != dataset_id:
            raise ApiError(RetCode.DATA_ERROR, f"The dataset not own the document {doc_id}.")
        return item

    def get_any(self, tenant: str, doc_id: str) -> dict[str, Any]:
        item = self._store.get(KIND, tenant, doc_id)
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, f"Document not found: {doc_id}")
        return self.view(self.expire_lease(tenant, item))

    def list(self, tenant: str, dataset_id: str, params: dict[str, Any], multi: dict[str, list[str]]) -> tuple[list[dict[str, Any]], int]:
        """RAGFlow's document list: the store pages, filters (run, suffix, name substring) and counts; ids and an exact
        name narrow to a few documents first; a metadata filter reads the dataset's documents (as RAGFlow's does)."""
        self.dataset(tenant, dataset_id, "You don't own the dataset {id}. ")
        page, page_size = rest_api_page(params)
        orderby = params.get("orderby", "create_time")
        if orderby not in ("create_time", "update_time", "name"):
            raise ApiError(RetCode.ARGUMENT_ERROR, f"invalid orderby field: {orderby}")
        if len(multi.get("ids") or []) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"ids must contain at most {REST_API_MAX_IDS} IDs")
        if params.get("id") and multi.get("ids"):
            raise ApiError(RetCode.DATA_ERROR, f"Should not provide both 'id':{params['id']} and 'ids'{multi['ids']}")
        desc = str(params.get("desc", "true")).lower() not in ("false", "0")
        suffixes = [s.lower().lstrip(".") for s in multi.get("suffix", []) if s]
        runs: list[str] = []
        for r in (r for r in multi.get("run", []) if r):
            name = RUN_CODES.get(r) or (r.upper() if r.upper() in RUN_NAMES else None)
            if name is None:
                raise ApiError(RetCode.DATA_ERROR, f"Invalid filter run status conditions: {r}")
            runs.append(name)
        keywords = str(params.get("keywords") or "")
        where: dict[str, list[str]] = {}
        if runs:
            where["run"] = runs
        if suffixes:
            where["suffix"] = suffixes
        query = ListQuery(KIND, tenant, dataset_id, order=orderby, desc=desc, where=where, name_contains=keywords)
        chosen = self._named(tenant, dataset_id, params, multi)
        if chosen is None and has_metadata_filter(params):
            chosen = [it for batch in self._store.batches(KIND, tenant, dataset_id) for it in batch]
        if chosen is not None:  # a bounded set (or, with a metadata filter, the dataset): filtered and paged here
            items = [it for it in filter_by_metadata(chosen, params) if matches(it, where, keywords)]
            total = len(items)
            items = page_items(sort_items(items, orderby, desc), page, page_size)
        else:
            total = self._store.count(query)
            items = self._store.page(query, (page - 1) * page_size, page_size)
        items = [self.expire_lease(tenant, it) for it in items]
        # As in RAGFlow, the creation-time range narrows the page it is applied to; `total` counts the other filters.
        t_from = int_param(params, "create_time_from", 0, minimum=0)
        t_to = int_param(params, "create_time_to", 0, minimum=0)
        items = [it for it in items if (not t_from or it["create_time"] >= t_from) and (not t_to or it["create_time"] <= t_to)]
        return [self.view(it) for it in items], total

    def _named(self, tenant: str, dataset_id: str, params: dict[str, Any], multi: Multi) -> Docs | None:
        """The documents an `id`/`ids` or exact `name` filter names (None when neither is given); RAGFlow refuses a
        filter that names nothing of the dataset."""
        ids = multi.get("ids") or ([params["id"]] if params.get("id") else [])
        chosen: list[dict[str, Any]] | None = None
        if ids:
            chosen = [it for it in self._store.get_many(KIND, tenant, [str(i) for i in ids]) if it["dataset_id"] == dataset_id]
            # RAGFlow refuses an `id` the dataset does not hold; `ids` only narrow the list
            if not chosen and params.get("id"):
                raise ApiError(RetCode.DATA_ERROR, f"you don't own the document {params['id']}")
        name = params.get("name")
        if name:
            owner = self._store.owner(tenant, f"{NAME_SCOPE}:{dataset_id}", str(name).lower())
            doc = self._store.get(KIND, tenant, owner) if owner else None
            if doc is None or doc["name"] != name:
                raise ApiError(RetCode.DATA_ERROR, f"you don't own the document {name}")
            chosen = [doc] if chosen is None else [it for it in chosen if it["id"] == doc["id"]]
        return chosen

    def download(self, tenant: str, dataset_id: str, doc_id: str) -> tuple[str, bytes]:
        item = self.get_owned(tenant, dataset_id, doc_id)
        data = self._blobs.get(item["_blob"])
        if data is None:
            raise ApiError(RetCode.DATA_ERROR, "This file is empty.")
        return item["name"], data

    def blob_of(self, item: dict[str, Any]) -> bytes | None:
        return self._blobs.get(item["_blob"])

    def run_counts(self, tenant: str, dataset_id: str) -> dict[str, int]:
        """Documents per run state, from the store's kept counts."""
        return {f"{run.lower()}_count": self._store.count(ListQuery(KIND, tenant, dataset_id, where={"run": [run]}))
                for run in ("UNSTART", "RUNNING", "CANCEL", "DONE", "FAIL")}

    # ---- update -------------------------------------------------------------------------------
    def update(self, tenant: str, dataset_id: str, doc_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if "name" in payload and payload["name"] is None:  # an explicit null is a type error, not "unset"
            raise ApiError(RetCode.DATA_ERROR, "Field: <name> - Message: <Input should be a valid string> - Value: <None>")
        dataset = self.dataset(tenant, dataset_id, "you don't own the dataset")
        item = self.find(tenant, dataset_id, doc_id)
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, "the dataset doesn't own the document")
        try:
            req = parse_model(UpdateDocument, payload)
        except ApiError as exc:  # RAGFlow answers a bad document update as a data error
            raise ApiError(RetCode.DATA_ERROR, exc.message) from exc
        if req.chunk_method == "":
            raise ApiError(RetCode.DATA_ERROR, "`chunk_method` (empty string) is not valid")
        sent = req.model_dump(exclude_unset=True)
        for forbidden in ("chunk_count", "token_count", "progress"):
            if forbidden in payload and payload[forbidden] != item.get(forbidden):
                raise ApiError(RetCode.DATA_ERROR, f"can't change `{forbidden}`")
        changes: dict[str, Any] = {}
        if req.name is not None and req.name != item["name"]:
            if split_name(req.name)[1] != split_name(item["name"])[1]:
                raise ApiError(RetCode.ARGUMENT_ERROR, "The extension of file can't be changed")
            if req.name.lower() != item["name"].lower():  # a change of case keeps the same claim
                if not self._store.claim(tenant, f"{NAME_SCOPE}:{dataset_id}", req.name.lower(), doc_id):
                    raise ApiError(RetCode.DATA_ERROR, "Duplicated document name in the same dataset.")
                self._store.release(tenant, f"{NAME_SCOPE}:{dataset_id}", item["name"].lower(), doc_id)
            changes["name"] = req.name
            changes["location"] = req.name
        if "meta_fields" in sent and req.meta_fields is not None:
            changes["meta_fields"] = req.meta_fields
            self.set_meta(tenant, item, req.meta_fields)
        if req.enabled is not None:
            changes["status"] = str(req.enabled)
            self._chunks.set_document_available(tenant, doc_id, req.enabled == 1)
        method_changed = req.chunk_method is not None and req.chunk_method != item["chunk_method"]
        if method_changed or "parser_config" in sent:
            method = req.chunk_method or item["chunk_method"]
            given = req.parser_config.model_dump(exclude_none=True) if req.parser_config else {}
            # naming the chunk method rebuilds the config from that method's defaults, as RAGFlow does
            base = None if req.chunk_method is not None else item.get("parser_config")
            changes["chunk_method"] = method
            changes["parser_config"] = merge_parser_config(method, given, base)
            if method_changed and item.get("chunk_count", 0) > 0 or (item["run"] in ("DONE", "FAIL", "CANCEL") and method_changed):
                # the old chunks no longer match the method: RAGFlow resets the document
                run_id = self.retire_chunks(tenant, dataset, item)
                changes.update({"run": "UNSTART", "progress": 0.0, "progress_msg": "", "chunk_count": 0, "token_count": 0,
                                "_run_id": run_id})
        updated = self._store.update(KIND, tenant, doc_id, stamp_update(changes))
        if updated is None:
            raise ApiError(RetCode.DATA_ERROR, "the dataset doesn't own the document")
        return self.view(updated)

    # ---- delete -------------------------------------------------------------------------------
    def delete(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> int:
        raw = payload.get("ids")
        if raw is not None and not isinstance(raw, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`ids` should be a list")
        for n, value in enumerate(raw or []):
            if not isinstance(value, str):
                raise ApiError(RetCode.ARGUMENT_ERROR, f"Field: <ids.{n}> - Message: <Input should be a valid string> - Value: <{value}>")
        check_no_duplicates(raw or [])
        dataset = self.dataset(tenant, dataset_id, "You don't own the dataset {id}. ")
        ids = list(raw) if raw else []
        if ids and payload.get("delete_all"):
            raise ApiError(RetCode.DATA_ERROR, f"should not provide both doc ids and delete_all(true), dataset: {dataset_id}. ")
        if not ids:
            if not payload.get("delete_all"):
                raise ApiError(RetCode.DATA_ERROR, f"should either provide doc ids or set delete_all(true), dataset: {dataset_id}. ")
            targets = [it for batch in self._store.batches(KIND, tenant, dataset_id) for it in batch]
        else:
            found = {it["id"]: it for it in self._store.get_many(KIND, tenant, ids) if it["dataset_id"] == dataset_id}
            missing = [i for i in ids if i not in found]
            if missing:
                raise ApiError(
                    RetCode.DATA_ERROR,
                    f"These documents do not belong to dataset {dataset_id} or Document not found: {', '.join(map(str, missing))}",
                )
            targets = [found[i] for i in ids]
        for item in targets:
            self._delete_one(tenant, dataset, item)
        return len(targets)

    def delete_one(self, tenant: str, item: dict[str, Any]) -> None:
        dataset = self._store.get(DATASET_KIND, tenant, item["dataset_id"])
        self._delete_one(tenant, dataset, item)

    def _delete_one(self, tenant: str, dataset: dict[str, Any] | None, item: dict[str, Any]) -> None:
        # the row goes first, with its dataset's counts in the same write (counted from the row as it is deleted;
        # a row another request deleted first counts nothing twice): its chunks are unreachable from then on (every
        # chunk read checks its document), and a worker still parsing it sees it gone and cleans up what it wrote
        def counts(current: dict[str, Any]) -> Tally | None:
            if dataset is None:
                return None
            chunks, tokens = counted_chunks(current)
            return Tally(DATASET_KIND, dataset["id"], {"document_count": -1, "chunk_count": -chunks, "token_num": -tokens,
                                                      "_size_total": -int(current.get("size") or 0)})

        if not self._store.delete(KIND, tenant, item["id"], tally=counts):
            return
        # the rest is cleanup (the name, the metadata vocabulary, the purge in the background): the delete is done
        try:
            self._store.release(tenant, f"{NAME_SCOPE}:{item['dataset_id']}", item["name"].lower(), item["id"])
            self._vocabulary.change(tenant, item["dataset_id"], item.get("meta_fields"), None)
            self._queue().submit({"type": "purge_document", "tenant": tenant, "dataset_id": item["dataset_id"],
                                  "document_id": item["id"], "blob": item["_blob"]})
        except Exception:
            log.warning("document %s deleted; its cleanup failed and is left behind", item["id"], exc_info=True)

    def set_meta(self, tenant: str, item: dict[str, Any], meta_fields: dict[str, Any]) -> None:
        """A document's new metadata, in the dataset's value vocabulary and on its chunks in the index (the caller
        writes the document itself)."""
        self._vocabulary.change(tenant, item["dataset_id"], item.get("meta_fields"), meta_fields)
        self._chunks.set_document_meta(tenant, item["id"], meta_fields)

    def clear_chunks(self, tenant: str, dataset: dict[str, Any], item: dict[str, Any]) -> None:
        """Every chunk of the document goes (DELETE …/chunks with delete_all): at once for readers, in the
        background for storage. A parse in progress stops."""
        changes: dict[str, Any] = {"_run_id": self.retire_chunks(tenant, dataset, item), "chunk_count": 0, "token_count": 0}
        if item.get("run") == "RUNNING":
            changes.update({"run": "CANCEL", "progress": 0.0,
                            "progress_msg": (item.get("progress_msg") or "") + "\n" + progress_line("Chunks deleted by the user.")})
        self._store.update(KIND, tenant, item["id"], stamp_update(changes))

    def purge(self, task: dict[str, Any]) -> None:
        """The background half of a delete or reset (a task on the parse queue)."""
        tenant = task["tenant"]
        if task["type"] == "purge_document":
            self.purge_document(tenant, task["document_id"], task["blob"])
        elif task["type"] == "purge_chunks":
            self.purge_old_chunks(tenant, task["document_id"], int(task["run_id"]))
        elif task["type"] == "purge_dataset":
            self.purge_dataset(tenant, task["dataset_id"])

    def purge_document(self, tenant: str, document_id: str, blob: str) -> None:
        """Background: a deleted document's chunks, vectors, parse marks and bytes."""
        self._chunks.delete_document(tenant, document_id)
        self._store.delete_under(kinds.PARSE_MARK, tenant, document_id)
        self._blobs.delete(blob)
        self._blobs.delete(thumbnail_key(blob))
        self._blobs.delete_prefix(chunk_images_prefix(blob))

    def purge_dataset(self, tenant: str, dataset_id: str) -> None:
        """Background, after a dataset row is deleted: every document, chunk, vector and blob under it."""
        for batch in self._store.batches(KIND, tenant, dataset_id):
            for item in batch:
                self._store.delete(KIND, tenant, item["id"])
                self._store.release(tenant, f"{NAME_SCOPE}:{dataset_id}", item["name"].lower(), item["id"])
                self.purge_document(tenant, item["id"], item["_blob"])
        for kind in (LOG_KIND, TASK_KIND, GRAPH_KIND):
            self._store.delete_under(kind, tenant, dataset_id)
        self._vocabulary.drop_dataset(tenant, dataset_id)
        self._chunks.delete_dataset(tenant, dataset_id)

    def request_purge_dataset(self, tenant: str, dataset_id: str) -> None:
        """After a dataset row is deleted (nothing under it is reachable any more): the rest, in the background."""
        self._queue().submit({"type": "purge_dataset", "tenant": tenant, "dataset_id": dataset_id})

    def purge_old_chunks(self, tenant: str, document_id: str, run_id: int) -> None:
        """Background: chunks of the document's earlier runs (already unreachable: reads keep to its current run)."""
        self._chunks.delete_other_runs(tenant, document_id, run_id)

    def retire_chunks(self, tenant: str, dataset: dict[str, Any], item: dict[str, Any], *, purge: bool = True) -> int:
        """The document's chunks stop counting and become unreachable at once (a new run id); a background task
        removes them (purge=False: the caller has it done later — a re-parse, once its own chunks are written,
        since a chunk of the same content keeps its id). Returns the new run id."""
        run_id = int(item.get("_run_id", 0)) + 1
        chunks, tokens = counted_chunks(item)
        if chunks or tokens:
            self._store.increment(DATASET_KIND, tenant, dataset["id"], {"chunk_count": -chunks, "token_num": -tokens})
        if purge:
            self._queue().submit({"type": "purge_chunks", "tenant": tenant, "dataset_id": dataset["id"],
                                  "document_id": item["id"], "run_id": run_id})
        return run_id

    # ---- leases -------------------------------------------------------------------------------
    def expire_lease(self, tenant: str, item: dict[str, Any]) -> dict[str, Any]:
        """A RUNNING document whose worker stopped renewing its lease (a function killed at its timeout, a process
        that stopped) is parsed again from the start, as the local runtime does after a restart: LEASE_RESUMES
        times, then it ends FAIL with the reason (a file that kills its worker every time), never RUNNING forever.
        Checked whenever the document is read (a status poll, a list); the interrupted run's tasks, if their
        messages come back, find their run replaced and stop."""
        if item.get("run") == "RUNNING" and item.get("_lease_until") and time.time() > float(item["_lease_until"]):
            resumes = int(item.get("_lease_resumes") or 0)
            dataset = self._store.get(DATASET_KIND, tenant, item["dataset_id"]) if self._resume else None
            if self._resume is not None and dataset is not None and resumes < LEASE_RESUMES:
                line = progress_line(f"The parsing worker stopped responding (lease expired); parsing again "
                                     f"(attempt {resumes + 2} of {LEASE_RESUMES + 1}).")
                resumed = self._resume(tenant, dataset, item)
                return self._store.update(KIND, tenant, item["id"], {
                    "_lease_resumes": resumes + 1, "progress_msg": f"{resumed.get('progress_msg') or ''}\n{line}".strip(),
                }) or resumed
            msg = (item.get("progress_msg") or "") + "\n" + progress_line(
                "The parsing worker stopped responding (lease expired); parse the document again."
            )
            # the run's counts so far were its own (the dataset counts a run when it is DONE): they end with it
            updated = self._store.update(
                KIND, tenant, item["id"], {"run": "FAIL", "progress_msg": msg.strip(), "_run_id": int(item.get("_run_id", 0)) + 1,
                                           "chunk_count": 0, "token_count": 0}
            )
            duration = (now_ms() - int(item.get("_begin_ms") or now_ms())) / 1000
            record_run(self._store, tenant, item, "FAIL", msg.strip(), duration)
            return updated or item
        return item

    def is_terminal(self, item: dict[str, Any]) -> bool:
        return item.get("run") in TERMINAL
