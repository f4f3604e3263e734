"""Starting, stopping and re-queueing documents' parses: the parse state machine's transitions that a user (or a
restart) causes. The worker's side — claiming tasks, progress, DONE/FAIL — is ingestion's pipeline."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import ApiError, RetCode
from ragcore.ids import http_date, now_ms
from ragcore.ports import JobQueue, ListQuery, MetadataStore
from ragcore.services.common import duplicate_messages, stamp_update
from ragcore.services.knowledge.documents import STOP_INVALID_STATE, DocumentService, progress_line
from ragcore.services.knowledge.ingestion_logs import KIND as LOG_KIND
from ragcore.services.knowledge.ingestion_logs import record_run

log = logging.getLogger("ragcore.documents")
KIND = kinds.DOCUMENT
DATASET_KIND = kinds.DATASET


class ParseControl:
    def __init__(self, store: MetadataStore, documents: DocumentService, queue: Callable[[], JobQueue], *,
                 lease_s: float) -> None:
        self._store = store
        self._documents = documents
        self._queue = queue
        self._lease_s = lease_s

    def start_parse(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Queues each listed document once; a repeated id is reported (RAGFlow's partial success), not refused."""
        dataset = self._documents.dataset(tenant, dataset_id, "You don't own the dataset {id}.")
        raw = payload.get("document_ids")
        if not raw:
            raise ApiError(RetCode.DATA_ERROR, "`document_ids` is required")
        if not isinstance(raw, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`document_ids` should be a list")
        unique, repeated = duplicate_messages(raw, "document")
        found = {it["id"]: it for it in self._store.get_many(KIND, tenant, [str(i) for i in unique]) if it["dataset_id"] == dataset_id}
        missing = [i for i in unique if i not in found]
        if missing:
            raise ApiError(RetCode.DATA_ERROR, f"Documents not found: {missing}")
        self.queue_parses(tenant, dataset, [found[doc_id] for doc_id in unique])
        if repeated:
            return {"success_count": len(unique), "errors": repeated}, f"Partially parsed {len(unique)} documents with {len(repeated)} errors"
        return {"success_count": len(unique)}, None

    def queue_parse(self, tenant: str, dataset: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        return self.queue_parses(tenant, dataset, [item])[0]

    def queue_parses(self, tenant: str, dataset: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each document RUNNING with a fresh run, written together (one store write for the lot where the store
        allows: on DynamoDB their list moves share one transaction), then each one's plan task queued."""
        changes: dict[str, dict[str, Any]] = {}
        runs: dict[str, int] = {}
        for item in items:
            # the earlier runs' chunks go when this run is DONE: purged now, they could race this run's writes of
            # the chunks that keep their ids (same place, same content) and take them with them
            runs[item["id"]] = self._documents.retire_chunks(tenant, dataset, item, purge=False)
            changes[item["id"]] = stamp_update(self._running(item, runs[item["id"]]))
        updated = self._store.update_many(KIND, tenant, changes)
        for item in items:
            self._queue().submit({"type": "plan", "tenant": tenant, "dataset_id": dataset["id"], "document_id": item["id"],
                                  "run_id": runs[item["id"]]})
        return [updated.get(item["id"], item) for item in items]

    def _running(self, item: dict[str, Any], run_id: int) -> dict[str, Any]:
        earlier = bool(item.get("chunk_count")) or int(item.get("_run_id") or 0) > 0
        ms = now_ms()
        return {
            "run": "RUNNING",
            "progress": 0.0,
            "progress_msg": progress_line("Task has been received."),
            "chunk_count": 0,
            "token_count": 0,
            "process_begin_at": http_date(ms),
            "process_duration": 0.0,
            "_run_id": run_id,
            "_begin_ms": ms,
            "_lease_until": time.time() + self._lease_s,
            "_tasks_total": 0,
            "_tasks_done": 0,
            "_purge_earlier": earlier,
            "_lease_resumes": 0,  # a lapsed lease's parse again sets its count after this
        }

    def requeue_running(self, tenant: str) -> int:
        """Documents left RUNNING by a process that stopped lost their in-memory tasks: parse them again (the local
        runtime at start; on AWS the lease does this). Returns how many were queued."""
        queued = 0
        for datasets in self._store.batches(DATASET_KIND, tenant, ""):
            for dataset in datasets:
                running = ListQuery(KIND, tenant, dataset["id"], where={"run": ["RUNNING"]})
                for doc in self._store.page(running, 0, self._store.count(running)):
                    log.info("re-queueing interrupted document %s", doc["id"])
                    self.queue_parse(tenant, dataset, doc)
                    queued += 1
        return queued

    def rerun_from_log(self, tenant: str, log_id: str, dsl: dict[str, Any], component_id: str) -> None:
        """POST /agents/rerun: parse again the document one of its ingestion logs describes. RAGFlow re-queues the
        document's dataflow pipeline from `component_id`; ours has one fixed pipeline, so the document is parsed
        again from the start (its old chunks retired as for any re-parse) and the log keeps the DSL it was given,
        with `path` set to the component, as RAGFlow's does."""
        log = self._store.get(LOG_KIND, tenant, log_id) if log_id else None
        doc = self._store.get(KIND, tenant, str(log["document_id"])) if log and log.get("document_id") else None
        if log is None or doc is None:
            raise ApiError(RetCode.DATA_ERROR, "Document not found.")
        if doc.get("run") == "RUNNING" or 0 < float(doc.get("progress") or 0) < 1:
            raise ApiError(RetCode.DATA_ERROR, f"`{doc.get('name', '')}` is processing...")
        dataset = self._documents.dataset(tenant, str(doc["dataset_id"]), "Document not found.")
        self._store.update(LOG_KIND, tenant, log_id, stamp_update({"dsl": {**dsl, "path": [component_id]}}))
        self.queue_parse(tenant, dataset, doc)

    def stop_parse(
        self, tenant: str, dataset_id: str, payload: dict[str, Any], *, legacy: bool = False
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Stops the listed documents' parses. POST …/documents/stop (RAGFlow's document_api) answers
        {"success_count", "errors"}, a document not being parsed being one of the errors; the older
        DELETE …/chunks (chunk_api) refuses such a document. An unknown id refuses the whole request (nothing stops)."""
        dataset = self._documents.dataset(tenant, dataset_id, "You don't own the dataset {id}.")
        raw = payload.get("document_ids")
        if not raw or (not legacy and not isinstance(raw, list)):
            raise ApiError(RetCode.DATA_ERROR, "`document_ids` is required")
        if not isinstance(raw, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`document_ids` should be a list")
        unique, repeated = duplicate_messages(raw, "document")
        found = {it["id"]: it for it in self._store.get_many(KIND, tenant, [str(i) for i in unique]) if it["dataset_id"] == dataset_id}
        missing = [i for i in unique if i not in found]
        if missing:
            raise ApiError(RetCode.DATA_ERROR, f"you don't own the document {missing[0]}" if legacy else f"Documents not found: {missing}")
        not_running = [i for i in unique if found[i]["run"] != "RUNNING"]
        if not_running and legacy:
            raise ApiError(RetCode.DATA_ERROR, STOP_INVALID_STATE, data={"error_code": "DOC_STOP_PARSING_INVALID_STATE"})
        stopped = 0
        for doc_id in unique:
            if doc_id in not_running:
                continue
            item = found[doc_id]
            # a new run id makes every in-flight task of the old run stop and clean up after itself
            run_id = self._documents.retire_chunks(tenant, dataset, item)
            self._store.update(
                KIND, tenant, doc_id,
                stamp_update({
                    "run": "CANCEL", "progress": 0.0, "_run_id": run_id,
                    "progress_msg": (item.get("progress_msg") or "") + "\n" + progress_line("Task stopped by user."),
                    "chunk_count": 0, "token_count": 0,
                }),
            )
            duration = (now_ms() - int(item.get("_begin_ms") or now_ms())) / 1000
            record_run(self._store, tenant, item, "CANCEL", "Task stopped by user.", duration)
            stopped += 1
        errors = repeated + [STOP_INVALID_STATE for _ in not_running]
        if legacy:
            if repeated:
                return {"success_count": stopped, "errors": repeated}, f"Partially stopped {stopped} documents with {len(repeated)} errors"
            return None, None
        return {"success_count": stopped, **({"errors": errors} if errors else {})}, None

    def ingest(self, tenant: str, payload: dict[str, Any]) -> bool:
        """POST /documents/ingest: run "1" (re)parses the documents, run "2" cancels their parse, wherever they are.

        Every id is checked before anything starts or stops, so a bad list changes nothing. A re-parse always
        replaces the document's chunks (RAGFlow's `delete: true`); `delete` is accepted for that reason.
        """
        ids = payload.get("doc_ids")
        if not isinstance(ids, list) or not ids:
            raise ApiError(RetCode.ARGUMENT_ERROR, "`doc_ids` is required: a list of document ids")
        run = str(payload.get("run", ""))
        if run not in ("1", "2"):
            raise ApiError(RetCode.ARGUMENT_ERROR, '`run` should be "1" (start) or "2" (cancel)')
        found = {it["id"]: it for it in self._store.get_many(KIND, tenant, [str(i) for i in ids])}
        if any(str(i) not in found for i in ids):
            raise ApiError(RetCode.AUTHENTICATION_ERROR, "no authorization")
        unique = list(dict.fromkeys(str(i) for i in ids))
        if run == "2" and any(self._documents.expire_lease(tenant, found[i])["run"] != "RUNNING" for i in unique):
            raise ApiError(RetCode.DATA_ERROR, "Cannot cancel a task that is not in RUNNING status")
        by_dataset: dict[str, list[str]] = {}
        for doc_id in unique:
            by_dataset.setdefault(found[doc_id]["dataset_id"], []).append(doc_id)
        for dataset_id, doc_ids in by_dataset.items():
            if run == "1":
                self.start_parse(tenant, dataset_id, {"document_ids": doc_ids})
            else:
                self.stop_parse(tenant, dataset_id, {"document_ids": doc_ids})
        return True
