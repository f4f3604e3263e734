"""Dataset-level indexes: GraphRAG knowledge graph, RAPTOR summaries and mind map.

A run is a task record (RAGFlow's task fields: progress, progress_msg, begin_at, ...) and a queued job; the
worker that parses documents builds it (local thread pool, or the ingest Lambda through SQS). Deleting the
index cancels the run: the worker checks its task still exists before it writes anything.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DATASET_GRAPH as GRAPH_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.domain.kinds import INDEX_TASK as TASK_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import http_date, new_id, now_ms
from ragcore.ports import ChatModel, Embedder, JobQueue, ListQuery, MetadataStore, VectorIndex
from ragcore.services.common import public
from ragcore.services.ingestion.raptor import PROMPT, build_tree, extractive_summary
from ragcore.services.ingestion.term_graph import build_graph, build_mind_map
from ragcore.services.knowledge.chunks.store import RAPTOR_BASE, ChunkStore, chunk_id, current_run, is_current
from ragcore.services.knowledge.ingestion_logs import record_dataset_run
from ragcore.text.tokenize import count_tokens

log = logging.getLogger("ragcore.index_tasks")
INDEX_TYPES = ("graph", "mindmap", "raptor")
TASK_TYPES = {"graph": "graphrag", "raptor": "raptor", "mindmap": "mindmap"}
DISPLAY = {"graph": "Graph", "raptor": "RAPTOR", "mindmap": "Mindmap"}
DISPLAY_TASK = {"graph": "GraphRAG", "raptor": "RAPTOR", "mindmap": "Mindmap"}  # task_type of the ingestion log
RAPTOR_MARK = "raptor"  # raptor_kwd of the summary chunks a RAPTOR run adds


def graph_id(dataset_id: str, index_type: str) -> str:
    """A built graph's item id: one per dataset and index type."""
    return f"{dataset_id}:{index_type}"

WHOLE_DATASET_PAGE = 100000000  # RAGFlow's from_page/to_page of a dataset-wide task


class Cancelled(Exception):
    """The run's task was deleted (its index removed) while it ran."""


class IndexTaskService:
    def __init__(
        self,
        store: MetadataStore,
        chunks: ChunkStore,
        index: VectorIndex,
        embedder_for: Callable[[str, str], Embedder],
        queue: Callable[[], JobQueue],
        chat_model: Callable[[str, str], ChatModel | None],
    ) -> None:
        self._store = store
        self._chunks = chunks
        self._index = index
        self._embedder_for = embedder_for
        self._queue = queue
        self._chat_model = chat_model

    # ---- API ----------------------------------------------------------------------------------
    def run(self, tenant: str, dataset_id: str, index_type: str) -> str:
        kind = self._kind(index_type)
        self._dataset(tenant, dataset_id)
        current = self._latest(tenant, dataset_id, kind)
        if current is not None and current["progress"] not in (-1, 1):
            raise ApiError(
                RetCode.DATA_ERROR,
                f"Task {current['id']} in progress with status {current['progress']}. A {DISPLAY[kind]} Task is already running.",
            )
        # RAGFlow names the dataset's first switched-on document in the task record
        docs = [d for d in self._store.page(ListQuery(DOC_KIND, tenant, dataset_id, desc=False), 0, 100)
                if str(d.get("status", "1")) != "0"]
        if not docs:
            raise ApiError(RetCode.DATA_ERROR, f"No documents in Dataset {dataset_id}")
        ms = now_ms()
        task = {
            "id": new_id(), "doc_id": docs[0]["id"], "from_page": WHOLE_DATASET_PAGE, "to_page": WHOLE_DATASET_PAGE,
            "task_type": TASK_TYPES[kind], "priority": 0, "begin_at": None, "process_duration": 0.0, "progress": 0.0,
            "progress_msg": f"{time.strftime('%H:%M:%S')} created task {TASK_TYPES[kind]}", "retry_count": 0,
            "digest": "", "chunk_ids": "", "create_time": ms, "create_date": http_date(ms), "update_time": ms,
            "update_date": http_date(ms), "_dataset_id": dataset_id, "_index_type": kind,
        }
        self._store.put(TASK_KIND, tenant, task, parent=dataset_id)
        self._queue().submit({"type": "index", "tenant": tenant, "dataset_id": dataset_id, "task_id": task["id"]})
        return str(task["id"])

    def trace(self, tenant: str, dataset_id: str, index_type: str) -> dict[str, Any]:
        kind = self._kind(index_type)
        self._dataset(tenant, dataset_id)
        task = self._latest(tenant, dataset_id, kind)
        return public(task) if task else {}

    def delete(self, tenant: str, dataset_id: str, index_type: str, *, wipe: bool = True) -> None:
        """Cancels the run (if any) and, with wipe, removes what the index built."""
        kind = index_type.lower()
        if kind not in INDEX_TYPES:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"Invalid index type '{kind}'")
        self._dataset(tenant, dataset_id)
        for task in self._tasks(tenant, dataset_id, kind):
            self._store.delete(TASK_KIND, tenant, task["id"])
        if wipe:
            self._wipe(tenant, dataset_id, kind)

    def cancel(self, tenant: str, task_id: str) -> None:
        """POST /tasks/<id>/cancel, PATCH /tasks/<id> {"action": "stop"}: RAGFlow's stop of a running task.

        A task still running (0 <= progress < 1) ends at progress -1 with "Task stopped by user." in its log, and
        its worker stops at its next step; a finished task only keeps the stop flag, and an unknown (or another
        tenant's) id changes nothing: RAGFlow answers success in every case."""
        task = self._store.get(TASK_KIND, tenant, task_id) if task_id else None
        if task is None:
            return
        changes: dict[str, Any] = {"_cancelled": True}  # the flag the worker checks: its own writes never clear it
        if 0 <= float(task.get("progress", 0)) < 1:
            ms = now_ms()
            changes.update({"progress": -1, "progress_msg": f"{task.get('progress_msg') or ''}\n{time.strftime('%H:%M:%S')} Task stopped by user.",
                            "update_time": ms, "update_date": http_date(ms)})
        self._store.update(TASK_KIND, tenant, task_id, changes)

    def knowledge_graph(self, tenant: str, dataset_id: str) -> dict[str, Any]:
        if self._store.get(DATASET_KIND, tenant, dataset_id) is None:
            raise ApiError(RetCode.AUTHENTICATION_ERROR, "no authorization")
        out: dict[str, Any] = {"graph": {}, "mind_map": {}}
        for kind, key in (("graph", "graph"), ("mindmap", "mind_map")):
            item = self._store.get(GRAPH_KIND, tenant, graph_id(dataset_id, kind))
            if item is not None:
                out[key] = item["content"]
        return out

    # ---- worker -------------------------------------------------------------------------------
    def handle(self, job: dict[str, Any]) -> None:
        tenant, dataset_id, task_id = job["tenant"], job["dataset_id"], job["task_id"]
        task = self._store.get(TASK_KIND, tenant, task_id)
        dataset = self._store.get(DATASET_KIND, tenant, dataset_id)
        if task is None or dataset is None or task["progress"] in (-1, 1):
            return  # deleted, or a redelivered job of a finished run
        started = time.perf_counter()
        try:
            self._progress(tenant, task_id, 0.1, "Task has been received.", begin=True)
            kind = task["_index_type"]
            chunks = self._source_chunks(tenant, dataset_id)
            if not chunks:
                message = f"{DISPLAY[kind]}: the dataset has no available chunks; parse its documents first."
            elif kind == "raptor":
                message = self._build_raptor(tenant, dataset, task_id, chunks)
            elif kind == "graph":
                message = self._save(tenant, dataset_id, task_id, "graph", build_graph(chunks))
            else:
                names = {d["id"]: d["name"] for batch in self._store.batches(DOC_KIND, tenant, dataset_id) for d in batch}
                grouped: dict[str, list[str]] = {}
                for c in chunks:
                    grouped.setdefault(c["document_id"], []).append(c["content"])
                mind_map = build_mind_map(dataset["name"], [(names.get(d, d), texts) for d, texts in grouped.items()])
                message = self._save(tenant, dataset_id, task_id, "mindmap", mind_map)
            run, message = "DONE", f"{message}\nTask done ({time.perf_counter() - started:.2f}s)"
        except Cancelled:
            log.info("index task %s cancelled", task_id)
            self._stopped(tenant, dataset, task_id, time.perf_counter() - started)
            return
        except Exception as exc:  # a failed build is reported on its task, never lost in a log
            log.exception("index task %s failed", task_id)
            run, message = "FAIL", f"[ERROR] {exc}"
        duration = time.perf_counter() - started
        try:
            self._progress(tenant, task_id, 1.0 if run == "DONE" else -1, message, duration=duration)
        except Cancelled:
            self._stopped(tenant, dataset, task_id, duration)
            return
        record_dataset_run(self._store, tenant, dataset, DISPLAY_TASK[task["_index_type"]], run, message, duration, now_ms())

    # ---- builds -------------------------------------------------------------------------------
    def _build_raptor(self, tenant: str, dataset: dict[str, Any], task_id: str, chunks: list[dict[str, Any]]) -> str:
        vectors = self._index.fetch_vectors(tenant, [c["id"] for c in chunks])
        leaves = [{**c, "vector": vectors[c["id"]]} for c in chunks if c["id"] in vectors]
        embedder = self._embedder_for(str(dataset.get("embedding_model") or ""), tenant)
        # the model parser_config.raptor.llm_id names, else the tenant's default (None: extractive summaries)
        raptor = (dataset.get("parser_config") or {}).get("raptor") or {}
        model = self._chat_model(tenant, str(raptor.get("llm_id") or "") if isinstance(raptor, dict) else "")

        def summarize(texts: list[str]) -> str:
            if model is None:
                return extractive_summary(texts)
            answer, _ = model.complete([{"role": "user", "content": PROMPT.format(cluster_content="\n".join(texts))}])
            return answer.strip()

        def on_level(level: int, n: int) -> None:
            self._progress(tenant, task_id, min(0.9, 0.1 + 0.25 * level), f"Cluster level {level}: {n} summaries.")

        summaries = build_tree(leaves, summarize, embedder.embed, on_level)
        self._check(tenant, task_id)
        self._wipe(tenant, dataset["id"], "raptor")
        docs = {d["id"]: d for batch in self._store.batches(DOC_KIND, tenant, dataset["id"]) for d in batch}
        rows, vecs, ms = [], [], now_ms()
        for n, node in enumerate(summaries):
            # a summary lives with the document most of its members come from, so it is cited, listed and
            # deleted with a real document
            doc_id = Counter(leaves[m]["document_id"] for m in node["members"]).most_common(1)[0][0]
            rows.append({
                "id": chunk_id(doc_id, f"raptor:{task_id}:{n}", node["content"]), "content": node["content"],
                "document_id": doc_id, "dataset_id": dataset["id"], "docnm_kwd": docs[doc_id]["name"] if doc_id in docs else "",
                "important_keywords": [], "questions": [], "tag_kwd": [], "positions": [], "page_num": [],
                "available": True, "image_id": "", "create_time": ms, "order": RAPTOR_BASE + n,
                "raptor_kwd": RAPTOR_MARK, "raptor_level": node["level"], "_run": current_run(docs.get(doc_id, {})),
            })
            vecs.append(node["vector"])
        kept = [(r, v) for r, v in zip(rows, vecs, strict=True) if r["document_id"] in docs]  # deleted meanwhile: skipped
        rows, vecs = [r for r, _ in kept], [v for _, v in kept]
        self._chunks.write(tenant, rows, vecs, docs)
        self._count(tenant, dataset["id"], rows, +1)
        return f"RAPTOR: {len(summaries)} summaries over {len(leaves)} chunks."

    def _save(self, tenant: str, dataset_id: str, task_id: str, kind: str, content: dict[str, Any]) -> str:
        self._check(tenant, task_id)
        self._store.put(GRAPH_KIND, tenant, {"id": graph_id(dataset_id, kind), "content": content}, parent=dataset_id)
        if kind == "graph":
            return f"Knowledge Graph: {len(content.get('nodes', []))} entities, {len(content.get('edges', []))} relations."
        return f"Mindmap: {len(content.get('children', []))} documents."

    def _wipe(self, tenant: str, dataset_id: str, kind: str) -> None:
        if kind != "raptor":
            self._store.delete(GRAPH_KIND, tenant, graph_id(dataset_id, kind))
            return
        rows = [r for docs in self._store.batches(DOC_KIND, tenant, dataset_id) for d in docs
                for batch in self._chunks.batches_of_document(tenant, d["id"]) for r in batch
                if r.get("raptor_kwd") == RAPTOR_MARK and is_current(r, d)]
        self._chunks.delete_ids(tenant, [r["id"] for r in rows])
        self._count(tenant, dataset_id, rows, -1)

    def _count(self, tenant: str, dataset_id: str, rows: list[dict[str, Any]], sign: int) -> None:
        per_doc: dict[str, list[int]] = {}
        for row in rows:
            entry = per_doc.setdefault(row["document_id"], [0, 0])
            entry[0] += 1
            entry[1] += count_tokens(row["content"])
        for doc_id, (n, tokens) in per_doc.items():
            self._store.increment(DOC_KIND, tenant, doc_id, {"chunk_count": sign * n, "token_count": sign * tokens})
            self._store.increment(DATASET_KIND, tenant, dataset_id, {"chunk_count": sign * n, "token_num": sign * tokens})

    # ---- helpers ------------------------------------------------------------------------------
    def _source_chunks(self, tenant: str, dataset_id: str) -> list[dict[str, Any]]:
        """The dataset's enabled, available chunks, RAPTOR's own summaries left out."""
        out: list[dict[str, Any]] = []
        for docs in self._store.batches(DOC_KIND, tenant, dataset_id):
            for doc in docs:
                if str(doc.get("status", "1")) == "0":
                    continue
                for batch in self._chunks.batches_of_document(tenant, doc["id"]):
                    out.extend({"id": row["id"], "content": row.get("content", ""), "document_id": doc["id"]} for row in batch
                               if row.get("available", True) and row.get("raptor_kwd") != RAPTOR_MARK and is_current(row, doc))
        return out

    def _kind(self, index_type: str) -> str:
        kind = (index_type or "").lower()
        if kind not in INDEX_TYPES:
            raise ApiError(RetCode.DATA_ERROR, f"Invalid index type '{kind}'. Must be one of {sorted(INDEX_TYPES)}")
        return kind

    def _dataset(self, tenant: str, dataset_id: str) -> dict[str, Any]:
        item = self._store.get(DATASET_KIND, tenant, dataset_id)
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, "no authorization")
        return item

    def _tasks(self, tenant: str, dataset_id: str, kind: str) -> list[dict[str, Any]]:
        return [t for batch in self._store.batches(TASK_KIND, tenant, dataset_id) for t in batch if t.get("_index_type") == kind]

    def _latest(self, tenant: str, dataset_id: str, kind: str) -> dict[str, Any] | None:
        found = self._store.page(ListQuery(TASK_KIND, tenant, dataset_id, where={"_index_type": [kind]}), 0, 1)
        return found[0] if found else None

    def _check(self, tenant: str, task_id: str) -> None:
        task = self._store.get(TASK_KIND, tenant, task_id)
        if task is None or task.get("_cancelled"):
            raise Cancelled(task_id)

    def _stopped(self, tenant: str, dataset: dict[str, Any], task_id: str, duration: float) -> None:
        """A run stopped by the user (not deleted with its index): it shows progress -1, and the dataset's log says so."""
        task = self._store.get(TASK_KIND, tenant, task_id)
        if task is None:
            return
        if task.get("progress") != -1:  # a progress write of the worker raced the stop
            self._store.update(TASK_KIND, tenant, task_id, {"progress": -1})
        record_dataset_run(self._store, tenant, dataset, DISPLAY_TASK[task["_index_type"]], "CANCEL", "Task stopped by user.",
                           duration, now_ms())

    def _progress(self, tenant: str, task_id: str, progress: float, message: str, *, begin: bool = False,
                  duration: float | None = None) -> None:
        task = self._store.get(TASK_KIND, tenant, task_id)
        if task is None or task.get("_cancelled"):
            raise Cancelled(task_id)
        ms = now_ms()
        lines = "\n".join(f"{time.strftime('%H:%M:%S')} {line}" for line in message.splitlines())
        changes: dict[str, Any] = {"progress": progress, "progress_msg": f"{task['progress_msg']}\n{lines}",
                                   "update_time": ms, "update_date": http_date(ms)}
        if begin:
            changes["begin_at"] = http_date(ms)
            changes["retry_count"] = int(task.get("retry_count", 0)) + 1
        if duration is not None:
            changes["process_duration"] = round(duration, 6)
        self._store.update(TASK_KIND, tenant, task_id, changes)

