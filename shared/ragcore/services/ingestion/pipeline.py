"""The parse → chunk → embed → index pipeline, run task by task (local worker pool or SQS → Lambda).

A document's parse is a "plan" task that splits it (PDFs by page ranges of task_page_size) into "parse"
tasks. Each task checks, before and after every write batch, that its run is still current (the document
exists and its run id has not moved on because of a stop, a re-parse or a delete); a stale task removes
what it wrote. A repeated task (SQS redelivery, or a function killed mid-task whose message comes back after its
visibility timeout) rewrites the same chunk ids and is counted once: a task's counts go into its document in the
same write as a mark that says so, and the run's into its dataset likewise, so a task resumed after any crash
finishes what is left and counts nothing twice (a document of one task needs no marks: its end, with its counts,
is written only while it is still RUNNING and uncounted, together with its dataset's counts). Vectors the index would not take after its retries fail the
document with the index's reason (never DONE with chunks missing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.domain.kinds import INGESTION_LOG as LOG_KIND
from ragcore.domain.kinds import PARSE_MARK
from ragcore.errors import ProviderError
from ragcore.ids import now_ms
from ragcore.ports import BlobStore, Embedder, JobQueue, MetadataStore, Tally
from ragcore.services.knowledge.chunks.store import TASK_SPAN, ChunkStore, chunk_id, embedding_text, is_current
from ragcore.services.knowledge.chunks.term_stats import TERMSTATS_VERSION
from ragcore.services.knowledge.document_assets import (
    chunk_image_key,
    chunk_images_prefix,
    has_thumbnail,
    store_thumbnail,
)
from ragcore.services.knowledge.documents import progress_line
from ragcore.services.knowledge.ingestion_logs import record_run, run_log
from ragcore.text.tokenize import count_tokens

if TYPE_CHECKING:
    from ragcore.parsing.ocr import OcrEngine

log = logging.getLogger("ragcore.ingestion")

EMBED_BATCH = 32
# A batch with a deadline (a Lambda invocation) starts no task once less than this share of the time it began with
# is left (and never with under a minute): the tasks parsed so far still need embedding and writing, and the ones
# not started go back on the queue as new messages instead of dying with the invocation.
DEADLINE_RESERVE_SHARE = 1 / 3
DEADLINE_RESERVE_MIN_S = 60.0


@dataclass(frozen=True)
class BatchOutcome:
    """What became of a batch of tasks: the positions that raised, and how many were queued again unstarted."""

    failed: list[int]
    deferred: int = 0


class Stale(Exception):
    """The run this task belongs to was stopped, replaced or deleted."""


@dataclass
class Parsed:
    """A parse task's chunks, ready to embed and write; its progress lines and document fields wait for the
    task's next write of the document (one write per stage, not one per line)."""

    task: dict[str, Any]
    doc: dict[str, Any]
    rows: list[dict[str, Any]]
    model: str
    lines: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def tenant(self) -> str:
        return str(self.task["tenant"])

    @property
    def run_id(self) -> int:
        return int(self.task["run_id"])

    @property
    def index(self) -> int:
        return int(self.task.get("index", 0))

    @property
    def span(self) -> str:
        return _span(self.task)

    @property
    def whole(self) -> bool:
        """The document's only task (planned as one range and read right there)."""
        return self.changes.get("_tasks_total") == 1


@dataclass
class PendingWrites:
    """A write group's document changes and run logs, written together once its counts are in: one store write for
    the lot instead of several per document (the logs first: a client that sees DONE finds its log).

    `ends` are whole documents (one task) whose end carries the task's counts: each is written only while its run is
    still current and uncounted, and its dataset's counts go in the same write, so the document itself is the mark
    that a redelivered task finds (no mark items, no second write of the document)."""

    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ends: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # id → (run id, changes)
    logs: list[dict[str, Any]] = field(default_factory=list)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self.docs or doc_id in self.ends

    def flush(self, store: MetadataStore, tenant: str) -> None:
        by_dataset: dict[str, list[dict[str, Any]]] = {}
        for item in self.logs:
            by_dataset.setdefault(str(item["kb_id"]), []).append(item)
        for dataset_id, logs in by_dataset.items():
            store.put_many(LOG_KIND, tenant, logs, parent=dataset_id)
        if self.docs:
            store.update_many(DOC_KIND, tenant, self.docs)
        if self.ends:
            runs = {doc_id: run_id for doc_id, (run_id, _) in self.ends.items()}
            ended = store.update_many(
                DOC_KIND, tenant, {doc_id: changes for doc_id, (_, changes) in self.ends.items()},
                when=lambda doc: _uncounted(doc, runs[doc["id"]]),
                tally=lambda doc: Tally(DATASET_KIND, str(doc["dataset_id"]),
                                        {"chunk_count": int(doc["chunk_count"]), "token_num": int(doc["token_count"])}))
            missed = [doc_id for doc_id in self.ends if doc_id not in ended]
            if missed:  # stopped, re-parsed or deleted meanwhile: a DONE log this run did not earn goes
                done = {d["id"] for d in store.get_many(DOC_KIND, tenant, missed)
                        if d.get("run") == "DONE" and int(d.get("_run_id", 0)) == runs[d["id"]]}
                for item in self.logs:
                    if item["document_id"] in missed and item["document_id"] not in done:
                        store.delete(LOG_KIND, tenant, item["id"])
        self.docs, self.ends, self.logs = {}, {}, []


def _uncounted(doc: dict[str, Any], run_id: int) -> bool:
    return int(doc.get("_run_id", 0)) == run_id and doc.get("run") == "RUNNING" and not int(doc.get("_tasks_done") or 0)


class IngestionService:
    def __init__(
        self,
        store: MetadataStore,
        blobs: BlobStore,
        chunks: ChunkStore,
        embedder_for: Callable[[str, str], Embedder],
        queue: Callable[[], JobQueue],
        *,
        lease_s: float,
        index_jobs: Callable[[dict[str, Any]], None] | None = None,
        purges: Callable[[dict[str, Any]], None] | None = None,
        ocr: Callable[[], OcrEngine | None] = lambda: None,
        vision_for: Callable[[str], Callable[[bytes], str] | None] = lambda tenant: None,
        connector_jobs: Callable[[dict[str, Any]], None] | None = None,
        channel_jobs: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._connector_jobs = connector_jobs  # a step of a connector's sync run shares this worker too
        self._channel_jobs = channel_jobs  # and so does a chat channel's answer to a delivery
        self._ocr = ocr  # reads images and scanned pages: in this process, or the OCR function on AWS
        self._vision_for = vision_for  # tenant → its default image-to-text model (the picture method)
        self._index_jobs = index_jobs  # dataset-level builds (GraphRAG, RAPTOR, mind map) share this worker
        self._purges = purges  # removal of what deletes and resets left unreachable, in the background
        self._store = store
        self._blobs = blobs
        self._chunks = chunks
        self._embedder_for = embedder_for
        self._queue = queue
        self._lease_s = lease_s

    # ---- entry --------------------------------------------------------------------------------
    def handle(self, task: dict[str, Any]) -> None:
        """One task (a queue that hands tasks over one at a time)."""
        if task.get("type") in ("plan", "parse"):
            if self.handle_batch([task]):
                raise RuntimeError(f"the {task['type']} task of document {task.get('document_id')} failed")
            return
        self._handle_other(task)

    def handle_batch(self, tasks: list[dict[str, Any]]) -> list[int]:
        """The positions of the tasks that raised, of a batch the local pool drained (see `run_batch`)."""
        return self.run_batch(tasks).failed

    def run_batch(self, tasks: list[dict[str, Any]], *, time_left: Callable[[], float] | None = None) -> BatchOutcome:
        """Tasks the queue handed over together (the local pool drains them, SQS delivers them in a batch).

        Small documents' chunks are embedded together and written together — an embedding call and a write per
        batch instead of per document — while each document keeps its own progress, state and failure: a file
        that cannot be parsed fails alone. `failed`: the positions of the tasks that raised (to be retried: SQS's
        partial batch failures); a document that failed for a reason of its own is FAIL, not retried.

        `time_left` (seconds, a Lambda's remaining time): tasks not started when the reserve is reached are queued
        again as new messages (`deferred`, not failed), so a large batch never runs into the invocation's timeout.
        """
        failed: list[int] = []
        ready: list[tuple[int, Parsed]] = []
        seen: set[tuple[Any, ...]] = set()
        reserve = None if time_left is None else max(DEADLINE_RESERVE_MIN_S, time_left() * DEADLINE_RESERVE_SHARE)
        deferred = 0
        for position, task in enumerate(tasks):
            key = (task.get("type"), task.get("tenant"), task.get("document_id"), task.get("run_id"), task.get("index"))
            if task.get("type") in ("plan", "parse") and key in seen:
                continue  # SQS delivered it twice in one batch: once is the work
            seen.add(key)
            if reserve is not None and time_left is not None and time_left() < reserve:
                try:
                    self._queue().submit(task)
                    deferred += 1
                except Exception:  # not queued again: the message itself comes back
                    log.exception("a deferred task could not be queued again")
                    failed.append(position)
                continue
            try:
                kind = task.get("type")
                if kind == "plan":
                    parsed = self._plan(task)
                elif kind == "parse":
                    parsed = self._read(task)
                else:
                    self._handle_other(task)
                    continue
                if parsed is None:
                    continue
                if len(parsed.rows) > EMBED_BATCH:  # a large document streams its chunks, renewing its lease
                    self._embed_streamed(parsed)
                else:
                    ready.append((position, parsed))
            except Stale:
                log.info("task of a stale run skipped: %s", {k: task.get(k) for k in ("document_id", "run_id", "index")})
            except Exception:  # one task's failure is its own: the others go on
                log.exception("task failed: %s", {k: task.get(k) for k in ("type", "document_id", "index")})
                failed.append(position)
        for positions in self._embed_together(ready):
            failed.extend(positions)
        if deferred:
            log.info("%d of %d tasks queued again: the invocation's time is running out", deferred, len(tasks))
        return BatchOutcome(failed=sorted(failed), deferred=deferred)

    def _handle_other(self, task: dict[str, Any]) -> None:
        kind = task.get("type")
        try:
            if kind == "index" and self._index_jobs is not None:
                self._index_jobs(task)
            elif kind == "connector_sync" and self._connector_jobs is not None:
                self._connector_jobs(task)
            elif kind == "channel_reply" and self._channel_jobs is not None:
                self._channel_jobs(task)
            elif kind == "count_terms":  # a dataset from before keyword statistics were kept
                self._count_terms(task["tenant"], str(task["dataset_id"]))
            elif kind == "purge_children":  # what a deleted chat, agent or memory held
                self._store.delete_under(str(task["kind"]), task["tenant"], str(task["parent"]))
            elif str(kind).startswith("purge_") and self._purges is not None:
                self._purges(task)
            else:
                log.warning("unknown task type %r", kind)
        except Stale:
            log.info("task of a stale run skipped: %s", {k: task.get(k) for k in ("document_id", "run_id", "index")})

    def _count_terms(self, tenant: str, dataset_id: str) -> None:
        def current_chunks() -> Iterator[list[dict[str, Any]]]:
            for documents in self._store.batches(DOC_KIND, tenant, dataset_id):
                for doc in documents:
                    for batch in self._chunks.batches_of_document(tenant, doc["id"]):
                        yield [row for row in batch if is_current(row, doc)]

        self._chunks.stats.recount(tenant, dataset_id, current_chunks())
        self._store.update(DATASET_KIND, tenant, dataset_id, {"_termstats": TERMSTATS_VERSION})

    # ---- plan ---------------------------------------------------------------------------------
    def _plan(self, task: dict[str, Any]) -> Parsed | None:
        """Splits a document into parse tasks (PDFs by page ranges); a document of one range is read right here,
        without a second task, a second read of its bytes and a second write of its row."""
        tenant, doc_id, run_id = task["tenant"], task["document_id"], int(task["run_id"])
        doc = self._current(tenant, doc_id, run_id)
        data = self._blobs.get(doc["_blob"])
        if data is None:
            self._fail(tenant, doc, run_id, "The uploaded file is missing from storage.")
            return None
        ranges: list[tuple[int, int | None]] = [(0, None)]
        if doc.get("suffix") == "pdf" and doc.get("chunk_method") not in ("one",):
            try:
                from ragcore.parsing import ParseError, page_count

                pages = page_count(doc["name"], data)
            except ParseError as exc:
                self._fail(tenant, doc, run_id, str(exc))
                return None
            size = int((doc.get("parser_config") or {}).get("task_page_size") or 12)
            ranges = [(start, min(start + size, pages)) for start in range(0, max(pages, 1), size)]
        changes: dict[str, Any] = {"_tasks_total": len(ranges)}
        if doc.get("_had_images", True):  # an earlier run's chunk pictures (unknown for rows older than the flag)
            self._blobs.delete_prefix(chunk_images_prefix(doc["_blob"]))
            changes["_had_images"] = False
        if not doc.get("thumbnail") and has_thumbnail(doc.get("suffix") or ""):
            # bytes that came by presigned URL, or an upload where no renderer was at hand
            changes["thumbnail"] = store_thumbnail(self._blobs, doc["_blob"], doc_id, doc.get("suffix") or "", data)
        planned = f"Planned {len(ranges)} task(s)."
        parse_tasks = [{
            "type": "parse", "tenant": tenant, "dataset_id": doc["dataset_id"], "document_id": doc_id,
            "run_id": run_id, "index": index, "page_from": start, "page_to": end,
        } for index, (start, end) in enumerate(ranges)]
        if len(parse_tasks) == 1:
            return self._read(parse_tasks[0], doc=doc, data=data, lines=[planned], changes=changes)
        changes.update({"_lease_until": time.time() + self._lease_s, "progress_msg": _append(doc, planned)})
        self._store.update(DOC_KIND, tenant, doc_id, changes)
        queue = self._queue()
        for parse_task in parse_tasks:
            queue.submit(parse_task)
        return None

    # ---- parse one range ----------------------------------------------------------------------
    def _read(self, task: dict[str, Any], *, doc: dict[str, Any] | None = None, data: bytes | None = None,
              lines: list[str] | None = None, changes: dict[str, Any] | None = None) -> Parsed | None:
        """Parse and chunk one task's range; None when the document failed (it is FAIL, with the reason)."""
        from ragcore.chunking import chunk_document
        from ragcore.parsing import ParseError, parse_document

        tenant, doc_id, run_id = task["tenant"], task["document_id"], int(task["run_id"])
        index = int(task.get("index", 0))
        if doc is None:
            doc = self._current(tenant, doc_id, run_id)
        span = _span(task)
        if data is None:
            data = self._blobs.get(doc["_blob"])
        if data is None:
            self._fail(tenant, doc, run_id, "The uploaded file is missing from storage.")
            return None
        started = time.perf_counter()
        failed: list[int] = []  # pages that could not be read (the rest of the range still counts)
        no_model = False  # DeepDOC asked for where this process lacks the layout model (a Lambda without its layer)
        pictures: dict[int, Any] = {}
        notes: list[str] = list(lines or [])
        try:
            if doc.get("type") == "virtual" and not data:
                drafts = []
            else:
                parsed = parse_document(
                    doc["name"], data, page_from=int(task.get("page_from") or 0), page_to=task.get("page_to"),
                    html4excel=bool((doc.get("parser_config") or {}).get("html4excel")),
                    layout_recognize=(doc.get("parser_config") or {}).get("layout_recognize"), ocr=self._ocr(),
                )
                failed = list(parsed.meta.get("failed_pages") or [])
                no_model = parsed.meta.get("layout_model") is False
                method = doc.get("chunk_method") or "naive"
                drafts = chunk_document(parsed, method, doc.get("parser_config") or {}, filename=doc["name"],
                                        describe_image=self._vision_for(tenant) if method == "picture" else None)
                pictures = parsed.page_images
                notes.extend(f"Page {page}: {reason}; the other pages are kept."
                             for page, reason in sorted((parsed.meta.get("page_errors") or {}).items()))
        except ParseError as exc:
            self._fail(tenant, doc, run_id, f"{span}: {exc}")
            return None
        except Exception as exc:  # a parser bug must fail this document only, with a reason
            log.exception("parser crashed on %s", doc_id)
            self._fail(tenant, doc, run_id, f"{span}: the file could not be parsed ({type(exc).__name__}: {exc}).")
            return None
        parse_s = time.perf_counter() - started
        skipped = f" Page(s) {', '.join(map(str, failed))} could not be read and were skipped." if failed else ""
        if no_model:
            skipped += " No layout model here: DeepDOC read the text's geometry only (ruled tables, no unruled ones)."
        notes.append(f"{span}: Finish parsing ({parse_s:.2f}s); {len(drafts)} chunks.{skipped}")
        rows = [self._row(doc, index, n, d, run_id) for n, d in enumerate(drafts)]
        if pictures and rows:
            self._store_chunk_images(doc, rows, pictures)
            if any(r["image_id"] for r in rows):
                changes = {**(changes or {}), "_had_images": True}
        return Parsed(task, doc, rows, self._embedding_model(tenant, doc["dataset_id"]), notes, dict(changes or {}))

    def _embedding_model(self, tenant: str, dataset_id: str) -> str:
        dataset = self._store.get(DATASET_KIND, tenant, dataset_id)
        return str((dataset or {}).get("embedding_model") or "")

    def _embed_streamed(self, parsed: Parsed) -> None:
        """A large range: its chunks embedded and written a batch at a time, the lease renewed between batches."""
        tenant, doc, run_id = parsed.tenant, parsed.doc, parsed.run_id
        self._note(tenant, doc["id"], run_id, parsed.lines, parsed.changes)
        written: list[str] = []
        tokens = 0
        embed_s = 0.0
        try:
            embedder = self._embedder_for(parsed.model, tenant)
            for start in range(0, len(parsed.rows), EMBED_BATCH):
                self._current(tenant, doc["id"], run_id, renew=True)
                rows = parsed.rows[start : start + EMBED_BATCH]
                t0 = time.perf_counter()
                vectors = embedder.embed([embedding_text(r) for r in rows])
                embed_s += time.perf_counter() - t0
                self._chunks.write(tenant, rows, vectors, {doc["id"]: doc})
                written.extend(r["id"] for r in rows)
                tokens += sum(count_tokens(r["content"]) for r in rows)
                try:
                    self._current(tenant, doc["id"], run_id)
                except Stale:
                    self._chunks.delete_ids(tenant, written)
                    raise
        except ProviderError as exc:  # the embedder or the index gave up: the document fails (its chunks go with it)
            self._fail(tenant, doc, run_id, f"{parsed.span}: {exc}")
            return
        self._finish_task(tenant, doc, run_id, parsed.index, len(written), tokens,
                          [f"{parsed.span}: Embedding chunks ({embed_s:.2f}s); indexing done."])

    def _embed_together(self, ready: list[tuple[int, Parsed]]) -> Iterator[list[int]]:
        """Small ranges of many documents: one embedding call and one chunk write per tenant and model. Yields
        the positions of tasks that raised."""
        groups: dict[tuple[str, str], list[tuple[int, Parsed]]] = {}
        for position, parsed in ready:
            groups.setdefault((parsed.tenant, parsed.model), []).append((position, parsed))
        for (tenant, model), group in groups.items():
            try:
                self._write_group(tenant, model, [p for _, p in group])
            except Exception:
                log.exception("a batch of %d documents failed", len(group))
                yield [position for position, _ in group]

    def _write_group(self, tenant: str, model: str, group: list[Parsed]) -> None:
        rows = [row for parsed in group for row in parsed.rows]
        embed_s = 0.0
        vectors: list[list[float]] = []
        if rows:
            try:
                t0 = time.perf_counter()
                vectors = self._embedder_for(model, tenant).embed([embedding_text(r) for r in rows])
                embed_s = time.perf_counter() - t0
            except ProviderError as exc:
                for parsed in group:
                    self._fail(tenant, parsed.doc, parsed.run_id, f"{parsed.span}: {exc}")
                return
        live = self._running(tenant, group)  # stopped, replaced or deleted meanwhile: nothing of theirs is written
        keep = [p for p in group if p.doc["id"] in live]
        by_id = {row["id"]: vec for row, vec in zip(rows, vectors, strict=True)}
        kept_rows = [row for p in keep for row in p.rows]
        if kept_rows:
            try:
                self._chunks.write(tenant, kept_rows, [by_id[r["id"]] for r in kept_rows], live)
            except ProviderError as exc:  # the index would not take the vectors: FAIL with its reason, not DONE short
                for parsed in keep:
                    self._fail(tenant, parsed.doc, parsed.run_id, f"{parsed.span}: {exc}")
                return
        still = self._running(tenant, keep)
        pending = PendingWrites()  # the documents' run logs and new states, written together after their counts
        for parsed in keep:
            if parsed.doc["id"] not in still:  # stopped while being written: what it wrote goes
                self._chunks.delete_ids(tenant, [r["id"] for r in parsed.rows])
                continue
            share = embed_s * len(parsed.rows) / max(len(rows), 1)
            tokens = sum(count_tokens(r["content"]) for r in parsed.rows)
            if parsed.doc["id"] in pending:  # a second range of one document: it builds on the first one's state
                pending.flush(self._store, tenant)
            current = live[parsed.doc["id"]]
            lines = [*parsed.lines, f"{parsed.span}: Embedding chunks ({share:.2f}s); indexing done."]
            if parsed.whole and _uncounted(current, parsed.run_id):
                self._finish_whole(tenant, current, parsed, len(parsed.rows), tokens, lines, pending)
            else:
                self._finish_task(tenant, current, parsed.run_id, parsed.index, len(parsed.rows), tokens, lines,
                                  parsed.changes, pending)
        pending.flush(self._store, tenant)

    def _running(self, tenant: str, group: list[Parsed]) -> dict[str, dict[str, Any]]:
        """The group's documents still in the run their tasks belong to, by id (one read for the group)."""
        runs = {p.doc["id"]: p.run_id for p in group}
        found = self._store.get_many(DOC_KIND, tenant, list(runs))
        return {d["id"]: d for d in found if int(d.get("_run_id", 0)) == runs[d["id"]] and d.get("run") == "RUNNING"}

    def _store_chunk_images(self, doc: dict[str, Any], rows: list[dict[str, Any]], pictures: dict[int, Any]) -> None:
        """A picture of each chunk's region, cut from its rendered page, served as RAGFlow's img_id."""
        from ragcore.parsing.regions import crop, has_layout

        for row in rows:
            if not has_layout(row["positions"]):
                continue
            picture = crop(pictures, row["positions"])
            if picture is not None:
                self._blobs.put(chunk_image_key(doc["_blob"], row["id"]), picture, "image/jpeg")
                row["image_id"] = f"{doc['dataset_id']}-{row['id']}"

    def _row(self, doc: dict[str, Any], task_index: int, n: int, draft: Any, run_id: int) -> dict[str, Any]:
        content = draft.content
        return {
            "id": chunk_id(doc["id"], f"{task_index}:{n}", content),
            "content": content,
            "document_id": doc["id"],
            "dataset_id": doc["dataset_id"],
            "docnm_kwd": doc["name"],
            "important_keywords": list(getattr(draft, "important_keywords", []) or []),
            "questions": list(getattr(draft, "questions", []) or []),
            "tag_kwd": list(getattr(draft, "tags", []) or []),
            "parent": getattr(draft, "parent", "") or "",
            "positions": list(getattr(draft, "positions", []) or []),
            "page_num": list(getattr(draft, "page_num", []) or []),
            "available": True,
            "image_id": "",
            "create_time": now_ms(),
            "order": task_index * TASK_SPAN + n,
            "_run": run_id,
        }

    # ---- bookkeeping --------------------------------------------------------------------------
    def _current(self, tenant: str, doc_id: str, run_id: int, *, renew: bool = False) -> dict[str, Any]:
        doc = self._store.get(DOC_KIND, tenant, doc_id)
        if doc is None or int(doc.get("_run_id", 0)) != run_id or doc.get("run") != "RUNNING":
            raise Stale()
        if renew:
            self._store.update(DOC_KIND, tenant, doc_id, {"_lease_until": time.time() + self._lease_s})
        return doc

    def _note(self, tenant: str, doc_id: str, run_id: int, lines: list[str], changes: dict[str, Any] | None = None) -> None:
        doc = self._current(tenant, doc_id, run_id)
        self._store.update(DOC_KIND, tenant, doc_id, {**(changes or {}), "progress_msg": _append(doc, *lines),
                                                      "_lease_until": time.time() + self._lease_s})

    def _finish_task(self, tenant: str, doc: dict[str, Any], run_id: int, index: int, chunks: int, tokens: int,
                     lines: list[str], changes: dict[str, Any] | None = None,
                     pending: PendingWrites | None = None) -> None:
        """The task's counts, and the document's progress or end; with `pending`, the document's changes are left
        there for the caller to write together with its batch's others (one store write for the lot)."""
        # the task's counts go into the document in one write with the task's mark (both or neither): a delivery
        # of a task already counted finds the mark and only finishes what a crash may have left (the run's end)
        counts = Tally(DOC_KIND, doc["id"], {"_tasks_done": 1, "chunk_count": chunks, "token_count": tokens})
        fresh = self._store.put(PARSE_MARK, tenant, {"id": f"{doc['id']}:{run_id}:{index}"}, parent=doc["id"],
                                if_absent=True, tally=counts)
        updated = self._store.get(DOC_KIND, tenant, doc["id"])
        if updated is None or int(updated.get("_run_id", 0)) != run_id or updated.get("run") != "RUNNING":
            return
        total = max(int(updated.get("_tasks_total") or 1), 1)
        done = int(updated.get("_tasks_done") or 0)
        if not fresh and done < total:
            return  # counted before, and the run goes on: nothing of this delivery's to add
        changes = {**(changes or {}), "progress_msg": _append(updated, *lines),
                   "progress": round(min(done / total, 1.0) * 0.99, 4)}
        if done >= total:
            duration = (now_ms() - int(updated.get("_begin_ms") or now_ms())) / 1000
            changes.update({
                "run": "DONE", "progress": 1.0, "process_duration": round(duration, 4),
                "progress_msg": _append(updated, *lines) + "\n" + progress_line(
                    f"Task done ({duration:.2f}s): {updated['chunk_count']} chunks, {updated['token_count']} tokens."
                ),
            })
            # the run's counts go into the dataset once, with the run's mark
            self._store.put(PARSE_MARK, tenant, {"id": f"{doc['id']}:{run_id}:done"}, parent=doc["id"], if_absent=True,
                            tally=Tally(DATASET_KIND, doc["dataset_id"], {"chunk_count": int(updated["chunk_count"]),
                                                                          "token_num": int(updated["token_count"])}))
        if changes.get("run") == "DONE":  # the log first: a client that sees DONE finds its log
            if pending is not None:
                pending.logs.append(run_log(tenant, updated, "DONE", str(changes["progress_msg"]),
                                            float(changes["process_duration"])))
            else:
                record_run(self._store, tenant, updated, "DONE", str(changes["progress_msg"]),
                           float(changes["process_duration"]))
            if updated.get("_purge_earlier", True):  # what earlier runs wrote and this one did not rewrite
                changes["_purge_earlier"] = False
                self._queue().submit({"type": "purge_chunks", "tenant": tenant, "dataset_id": doc["dataset_id"],
                                      "document_id": doc["id"], "run_id": run_id})
        if pending is not None:
            pending.docs[doc["id"]] = changes
        else:
            self._store.update(DOC_KIND, tenant, doc["id"], changes)

    def _finish_whole(self, tenant: str, doc: dict[str, Any], parsed: Parsed, chunks: int, tokens: int,
                      lines: list[str], pending: PendingWrites) -> None:
        """A one-task document's end, left in `pending`: its counts, DONE and its log, written with its batch."""
        duration = (now_ms() - int(doc.get("_begin_ms") or now_ms())) / 1000
        message = _append(doc, *lines) + "\n" + progress_line(
            f"Task done ({duration:.2f}s): {chunks} chunks, {tokens} tokens.")
        changes = {**parsed.changes, "_tasks_done": 1, "chunk_count": chunks, "token_count": tokens, "run": "DONE",
                   "progress": 1.0, "process_duration": round(duration, 4), "progress_msg": message}
        pending.logs.append(run_log(tenant, doc, "DONE", message, duration))
        if doc.get("_purge_earlier", True):  # what earlier runs wrote and this one did not rewrite
            changes["_purge_earlier"] = False
            self._queue().submit({"type": "purge_chunks", "tenant": tenant, "dataset_id": doc["dataset_id"],
                                  "document_id": doc["id"], "run_id": parsed.run_id})
        pending.ends[doc["id"]] = (parsed.run_id, changes)

    def _fail(self, tenant: str, doc: dict[str, Any], run_id: int, reason: str) -> None:
        current = self._store.get(DOC_KIND, tenant, doc["id"])
        if current is None or int(current.get("_run_id", 0)) != run_id:
            return
        duration = (now_ms() - int(current.get("_begin_ms") or now_ms())) / 1000
        record_run(self._store, tenant, current, "FAIL", _append(current, f"[ERROR] {reason}"), duration)
        # a new run id stops the document's other tasks; they remove what they wrote
        self._store.update(
            DOC_KIND, tenant, doc["id"],
            {"run": "FAIL", "progress": 0.0, "progress_msg": _append(current, f"[ERROR] {reason}"),
             "_run_id": run_id + 1, "chunk_count": 0, "token_count": 0},
        )
        try:
            self._chunks.delete_document(tenant, doc["id"])
        except ProviderError:  # the index is down too: the chunks (unreachable already) go in the background
            self._queue().submit({"type": "purge_chunks", "tenant": tenant, "dataset_id": doc["dataset_id"],
                                  "document_id": doc["id"], "run_id": run_id + 1})
        if current.get("chunk_count") and current.get("run") == "DONE":
            self._store.increment(DATASET_KIND, tenant, doc["dataset_id"], {"chunk_count": -int(current["chunk_count"])})


def _append(doc: dict[str, Any], *lines: str) -> str:
    previous = doc.get("progress_msg") or ""
    added = "\n".join(progress_line(line) for line in lines)
    return (previous + "\n" if previous and added else previous) + added


def _span(task: dict[str, Any]) -> str:
    start = int(task.get("page_from") or 0)
    end = task.get("page_to")
    return f"Page({start + 1}~{end if end is not None else 100000001})"
