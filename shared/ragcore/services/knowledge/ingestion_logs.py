"""Ingestion logs: one record per finished parse run of a document (done, failed or cancelled), and the
dataset's parsing summary; dataset-level runs (GraphRAG, RAPTOR, mind maps) are the "dataset" log type."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import http_date, new_id, now_ms
from ragcore.ports import ListQuery, MetadataStore
from ragcore.services.common import public, rest_page_number

KIND = kinds.INGESTION_LOG
STATUS_CODES = {"UNSTART": "0", "RUNNING": "1", "CANCEL": "2", "DONE": "3", "FAIL": "4"}  # RAGFlow's TaskStatus
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def record_run(store: MetadataStore, tenant: str, doc: dict[str, Any], run: str, progress_msg: str, duration: float) -> None:
    """Called where a parse run ends; a log write never fails the run it describes. One log per run and outcome:
    a run's end written again (a task resumed after a crash) rewrites the same log."""
    store.put(KIND, tenant, run_log(tenant, doc, run, progress_msg, duration), parent=doc["dataset_id"])


def run_log(tenant: str, doc: dict[str, Any], run: str, progress_msg: str, duration: float) -> dict[str, Any]:
    """The log item of a document's parse run (its id fixed by the document, run and outcome), under its dataset."""
    ms = now_ms()
    name = str(doc.get("name", ""))
    log_id = hashlib.md5(f"{doc['id']}:{doc.get('_run_id', 0)}:{run}".encode(), usedforsecurity=False).hexdigest()
    item = {
        "id": log_id, "document_id": doc["id"], "tenant_id": tenant, "kb_id": doc["dataset_id"], "pipeline_id": "",
        "pipeline_title": "", "parser_id": doc.get("chunk_method", ""), "document_name": name,
        "document_suffix": name.rsplit(".", 1)[-1].lower() if "." in name else "", "document_type": doc.get("type", ""),
        "source_from": "", "progress": 1.0 if run == "DONE" else 0.0, "progress_msg": progress_msg,
        "process_begin_at": http_date(int(doc.get("_begin_ms") or ms)), "process_duration": round(duration, 4), "dsl": {},
        "task_type": "Parse", "operation_status": STATUS_CODES[run], "avatar": "", "status": "1",
        "create_time": ms, "create_date": http_date(ms), "update_time": ms, "update_date": http_date(ms),
    }
    return item


def record_dataset_run(store: MetadataStore, tenant: str, dataset: dict[str, Any], task_type: str, run: str,
                       progress_msg: str, duration: float, begin_ms: int) -> None:
    """A GraphRAG / RAPTOR / mind-map run of the whole dataset: the "dataset" log type."""
    ms = now_ms()
    item = {
        "id": new_id(), "document_id": "", "tenant_id": tenant, "kb_id": dataset["id"], "pipeline_id": "",
        "pipeline_title": "", "parser_id": dataset.get("chunk_method", ""), "document_name": dataset.get("name", ""),
        "document_suffix": "", "document_type": "", "source_from": "", "progress": 1.0 if run == "DONE" else 0.0,
        "progress_msg": progress_msg, "process_begin_at": http_date(begin_ms), "process_duration": round(duration, 4),
        "dsl": {}, "task_type": task_type, "operation_status": STATUS_CODES[run], "avatar": "", "status": "1",
        "create_time": ms, "create_date": http_date(ms), "update_time": ms, "update_date": http_date(ms), "_scope": "dataset",
    }
    store.put(KIND, tenant, item, parent=dataset["id"])


class IngestionLogService:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def _dataset(self, tenant: str, dataset_id: str, message: str = "no authorization") -> dict[str, Any]:
        item = self._store.get(DATASET_KIND, tenant, dataset_id)
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, message)
        return item

    def summary(self, tenant: str, dataset_id: str, run_counts: dict[str, int]) -> dict[str, Any]:
        dataset = self._dataset(tenant, dataset_id, f"User '{tenant}' lacks permission for dataset '{dataset_id}'")
        return {"doc_num": int(dataset.get("document_count", 0)), "chunk_num": int(dataset.get("chunk_count", 0)),
                "token_num": int(dataset.get("token_num", 0)), "status": run_counts}

    def list_logs(self, tenant: str, dataset_id: str, params: dict[str, Any], statuses: list[str]) -> dict[str, Any]:
        self._dataset(tenant, dataset_id)
        log_type = params.get("log_type", "dataset")
        if log_type not in ("dataset", "file"):
            raise ApiError(RetCode.DATA_ERROR, 'Invalid "log_type", expected "dataset" or "file"')
        date_from, date_to = params.get("create_date_from"), params.get("create_date_to")
        for value in (date_from, date_to):
            if value and not DATE.match(str(value)):
                raise ApiError(RetCode.ARGUMENT_ERROR, f"Invalid date: {value}; expected YYYY-MM-DD")
        if date_from and date_to and str(date_from)[:10] > str(date_to)[:10]:
            raise ApiError(RetCode.ARGUMENT_ERROR, "create_date_from must not be later than create_date_to")
        wanted = [STATUS_CODES.get(s.upper(), s) for s in statuses if s]
        where: dict[str, list[str]] = {"_scope": ["dataset" if log_type == "dataset" else ""]}
        if wanted:
            where["operation_status"] = wanted
        query = ListQuery(
            KIND, tenant, dataset_id, where=where, name_contains=str(params.get("keywords") or ""),
            order=str(params.get("orderby")) if params.get("orderby") in ("create_time", "update_time") else "create_time",
            desc=str(params.get("desc", "true")).lower() != "false",
            created_from=_day_start(str(date_from)) if date_from else None,
            created_to=_day_start(str(date_to)) + 86_400_000 - 1 if date_to else None,
        )
        page, size = rest_page_number(params.get("page"), 1), rest_page_number(params.get("page_size"), 30)
        return {"total": self._store.count(query), "logs": [public(it) for it in self._store.page(query, (page - 1) * size, size)]}

    def get_log(self, tenant: str, dataset_id: str, log_id: str) -> dict[str, Any]:
        self._dataset(tenant, dataset_id)
        item = self._store.get(KIND, tenant, log_id)
        if item is None or item.get("kb_id") != dataset_id:
            raise ApiError(RetCode.DATA_ERROR, "Log not found")
        return public(item)


def _day_start(day: str) -> int:
    """Midnight (UTC) of a YYYY-MM-DD day, in ms."""
    from datetime import UTC, datetime

    try:
        return int(datetime.strptime(day[:10], "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Invalid date: {day}; expected YYYY-MM-DD") from None

