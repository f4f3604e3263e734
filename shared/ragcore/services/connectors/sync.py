"""A sync run: one connector into one dataset, listed page by page from a saved cursor.

A run is a `sync_log` item (what /connectors/{id}/logs shows) that is also its checkpoint: the phase, the source's
cursor and the counts so far. Each step (a `connector_sync` task on the job queue) lists and applies pages until its
time budget is spent, saves the cursor and queues the next step, so no step nears a Lambda's 15 minutes and a step
that dies is taken up again from the last saved page (the task is delivered again, or the scheduler finds the run's
lease expired). For each listed item, by its fingerprint:

- new: its bytes become a document under an id derived from (dataset, connector, item key), parsed when the link
  says auto_parse; a step repeated after a crash finds that document and does not make another;
- changed: the document's bytes are replaced and it is parsed again, keeping its id (citations stay valid);
- unchanged: nothing is fetched, parsed or embedded, the item is only marked as seen by this run;
- failing: counted with its reason in the log, and the run goes on (a changed item keeps its old fingerprint, so the
  next run tries it again).

After the whole source was listed, if the connector's config says `sync_deleted_files` and its prune_freq has
passed (always on a rebuild), items this run did not see are removed with their documents and chunks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.sources import Source, SourceError, SourceFactory, SourceItem
from ragcore.ids import http_date, now_ms
from ragcore.ports import JobQueue, ListQuery, MetadataStore
from ragcore.services.connectors.model import (
    CONNECTOR_KIND,
    ITEM_KIND,
    LINK_KIND,
    LOG_KIND,
    MAX_FAILURES_SHOWN,
    RUN_SCOPE,
    Status,
    document_id,
    item_id,
    items_parent,
    source_type,
)
from ragcore.services.knowledge.document_parsing import ParseControl
from ragcore.services.knowledge.documents import KIND as DOC_KIND
from ragcore.services.knowledge.documents import DocumentService

log = logging.getLogger("ragcore.connectors")

TASK_TYPE = "connector_sync"
PRUNE_PAGE = 200
ACTIVE = (Status.SCHEDULE, Status.RUNNING)
COUNTS = ("docs_added", "docs_updated", "docs_unchanged", "docs_failed", "docs_removed")


def link_id(connector_id: str, dataset_id: str) -> str:
    return f"{connector_id}-{dataset_id}"


def run_key(connector_id: str, dataset_id: str) -> str:
    return f"{connector_id}:{dataset_id}"


class ConnectorSync:
    def __init__(
        self,
        store: MetadataStore,
        documents: DocumentService,
        parsing: ParseControl,
        sources: SourceFactory,
        credentials: Callable[[dict[str, Any]], Any],
        queue: Callable[[], JobQueue],
        *,
        step_budget_s: float = 60.0,
        lease_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._documents = documents
        self._parsing = parsing  # an item's document (re)parsed when its link auto-parses
        self._sources = sources
        self._credentials = credentials  # connector item → its decrypted credentials
        self._queue = queue
        self._budget = step_budget_s
        self._lease = lease_s
        self._clock = clock

    # ---- entry ------------------------------------------------------------------------------------------------
    def handle(self, task: dict[str, Any]) -> None:
        """One step of a run (a `connector_sync` task)."""
        tenant, run_id = str(task["tenant"]), str(task["run_id"])
        run = self._store.get(LOG_KIND, tenant, run_id)
        if run is None or run.get("status") not in ACTIVE:
            return
        connector_id, dataset_id = str(run["connector_id"]), str(run["kb_id"])
        connector = self._store.get(CONNECTOR_KIND, tenant, connector_id)
        link = self._store.get(LINK_KIND, tenant, link_id(connector_id, dataset_id))
        dataset = self._store.get(DATASET_KIND, tenant, dataset_id)
        if connector is None or link is None or dataset is None:
            self._end(tenant, run, Status.CANCEL, "The connector, the dataset or their link is gone.")
            return
        if not self._store.claim(tenant, RUN_SCOPE, run_key(connector_id, dataset_id), run_id):
            self._end(tenant, run, Status.CANCEL, "Another run of this connector into this dataset is going on.", release=False)
            return
        timeout_s = int(connector.get("timeout_secs") or 0)
        if timeout_s and run.get("_started_ms") and now_ms() - int(run["_started_ms"]) > timeout_s * 1000:
            self._end(tenant, run, Status.FAIL, f"Task timeout after {timeout_s} seconds")
            return
        if run.get("status") == Status.SCHEDULE:
            run = self._start(tenant, run, connector_id)
        try:
            source = self._sources(str(connector["source"]), {**(connector.get("config") or {}),
                                                              "credentials": self._credentials(connector)})
        except SourceError as exc:
            self._end(tenant, run, Status.FAIL, str(exc))
            return
        self._steps(tenant, run, connector, link, dataset, source)

    def _steps(self, tenant: str, run: dict[str, Any], connector: dict[str, Any], link: dict[str, Any],
               dataset: dict[str, Any], source: Source) -> None:
        deadline = self._clock() + self._budget
        while True:
            phase = run.get("_phase") or "list"
            try:
                if phase == "list":
                    changes = self._list_step(tenant, run, connector, link, dataset, source, deadline)
                elif phase == "prune":
                    changes = self._prune_step(tenant, run)
                else:
                    self._finish(tenant, run, link)
                    return
            except SourceError as exc:
                self._end(tenant, run, Status.FAIL, f"Listing the source failed: {exc}")
                return
            current = self._store.get(LOG_KIND, tenant, run["id"])
            if current is None or current.get("status") != Status.RUNNING:
                return  # cancelled (or removed) while this page was applied: stop here
            changes["_lease_until"] = self._clock() + self._lease
            changes["update_time"], changes["update_date"] = now_ms(), http_date(now_ms())
            run = self._store.update(LOG_KIND, tenant, run["id"], changes) or {**current, **changes}
            if self._clock() >= deadline and (run.get("_phase") or "list") != "done":
                self._queue().submit({"type": TASK_TYPE, "tenant": tenant, "run_id": run["id"]})
                return

    # ---- phases -------------------------------------------------------------------------------------------------
    def _list_step(self, tenant: str, run: dict[str, Any], connector: dict[str, Any], link: dict[str, Any],
                   dataset: dict[str, Any], source: Source, deadline: float) -> dict[str, Any]:
        """One listing page applied; a page that outlasts the step's budget is left part-way (`_skip` items done) and
        listed again by the next step, which goes on after them."""
        listing = source.list_page(run.get("_cursor"))
        skip = int(run.get("_skip") or 0)
        unique = list({it.key: it for it in listing.items}.values())
        counts, applied = self._apply(tenant, run, connector, link, dataset, source, unique[skip:], deadline)
        changes: dict[str, Any] = {k: int(run.get(k) or 0) + counts.get(k, 0) for k in COUNTS}
        changes["failures"] = (list(run.get("failures") or []) + counts.get("failures", []))[:MAX_FAILURES_SHOWN]
        changes["_pages"] = int(run.get("_pages") or 0) + 1
        changes.update(_ragflow_counts(run, changes))
        if skip + applied < len(unique):
            changes["_skip"] = skip + applied
            return changes
        changes["_skip"] = 0
        changes["_cursor"] = listing.cursor
        if listing.cursor is None:
            changes["_phase"] = "prune" if self._prune_due(run, connector, link) else "finish"
            changes["_prune_offset"] = 0
        return changes

    def _apply(self, tenant: str, run: dict[str, Any], connector: dict[str, Any], link: dict[str, Any],
               dataset: dict[str, Any], source: Source, unique: list[SourceItem],
               deadline: float) -> tuple[dict[str, Any], int]:
        """The items (unique keys) in order until the deadline passes: (counts, how many were applied)."""
        connector_id, dataset_id, run_id = connector["id"], dataset["id"], run["id"]
        parent = items_parent(connector_id, dataset_id)
        ids = [item_id(dataset_id, connector_id, it.key) for it in unique]
        known = {m["id"]: m for m in self._store.get_many(ITEM_KIND, tenant, ids)}
        docs = {d["id"]: d for d in self._store.get_many(DOC_KIND, tenant, [str(m["document_id"]) for m in known.values()])}
        reindex = bool(run.get("_reindex"))
        counts: dict[str, Any] = {"failures": []}
        seen: list[dict[str, Any]] = []
        applied = 0
        for item, iid in zip(unique, ids, strict=True):
            if applied and self._clock() >= deadline:
                break
            applied += 1
            mapped = known.get(iid)
            doc = docs.get(str(mapped["document_id"])) if mapped else None
            if mapped and doc is not None and not reindex and mapped.get("fingerprint") == item.fingerprint:
                counts["docs_unchanged"] = counts.get("docs_unchanged", 0) + 1
                seen.append({**mapped, "_seen": run_id})
                continue
            try:
                outcome = self._ingest(tenant, connector, link, dataset, source, item, doc)
            except Exception as exc:  # one failing item is logged and skipped; the run goes on
                if not isinstance(exc, SourceError):
                    log.exception("connector %s: item %r failed", connector_id, item.key)
                counts["docs_failed"] = counts.get("docs_failed", 0) + 1
                counts["failures"].append({"key": item.key, "name": item.name, "reason": _reason(exc)})
                if mapped:  # still at the source: kept (with its old fingerprint, so the next run tries again)
                    seen.append({**mapped, "_seen": run_id})
                continue
            counts[outcome] = counts.get(outcome, 0) + 1
            seen.append({"id": iid, "key": item.key, "name": item.name, "fingerprint": item.fingerprint,
                         "document_id": document_id(dataset_id, connector_id, item.key), "_seen": run_id,
                         "create_time": mapped.get("create_time") if mapped else now_ms()})
        if seen:
            self._store.put_many(ITEM_KIND, tenant, seen, parent=parent)
        return counts, applied

    def _ingest(self, tenant: str, connector: dict[str, Any], link: dict[str, Any], dataset: dict[str, Any],
                source: Source, item: SourceItem, doc: dict[str, Any] | None) -> str:
        """A new or changed item into its document; returns the count it adds to."""
        data = source.fetch(item)
        doc_id = document_id(dataset["id"], connector["id"], item.key)
        if doc is None:  # a document a crashed step already made is found by its id
            doc = self._store.get(DOC_KIND, tenant, doc_id)
        outcome = "docs_updated" if doc is not None else "docs_added"
        if doc is not None and doc.get("dataset_id") == dataset["id"]:
            doc = self._documents.replace_content(tenant, doc, data)
        else:
            self._documents.create_from_bytes(
                tenant, dataset["id"], item.name, data, document_id=doc_id, source=f"{connector['source']}:{item.key}",
                source_type=source_type(str(connector["source"]), connector["id"]),
            )
            doc = self._store.get(DOC_KIND, tenant, doc_id)
        if doc is not None and str(link.get("auto_parse", "1")) != "0":
            self._parsing.queue_parse(tenant, dataset, doc)
        return outcome

    def _prune_due(self, run: dict[str, Any], connector: dict[str, Any], link: dict[str, Any]) -> bool:
        if run.get("_reindex"):
            return True  # a rebuild leaves exactly what the source holds
        if not (connector.get("config") or {}).get("sync_deleted_files"):
            return False
        every_ms = int(connector.get("prune_freq") or 0) * 60_000
        return now_ms() - int(link.get("last_prune_ms") or 0) >= every_ms

    def _prune_step(self, tenant: str, run: dict[str, Any]) -> dict[str, Any]:
        """One page of the run's items in creation order: those this run did not see are gone from the source."""
        parent = items_parent(str(run["connector_id"]), str(run["kb_id"]))
        offset = int(run.get("_prune_offset") or 0)
        page = self._store.page(ListQuery(ITEM_KIND, tenant, parent, order="create_time", desc=False), offset, PRUNE_PAGE)
        stale = [m for m in page if m.get("_seen") != run["id"]]
        for mapped in stale:
            doc = self._store.get(DOC_KIND, tenant, str(mapped["document_id"]))
            if doc is not None and doc.get("dataset_id") == run["kb_id"]:
                self._documents.delete_one(tenant, doc)
            self._store.delete(ITEM_KIND, tenant, mapped["id"])
        changes: dict[str, Any] = {"_prune_offset": offset + len(page) - len(stale), "_pruned": True,
                                   "docs_removed": int(run.get("docs_removed") or 0) + len(stale)}
        changes["docs_removed_from_index"] = changes["docs_removed"]
        if len(page) < PRUNE_PAGE:
            changes["_phase"] = "finish"
        return changes

    # ---- run state ----------------------------------------------------------------------------------------------
    def _start(self, tenant: str, run: dict[str, Any], connector_id: str) -> dict[str, Any]:
        ms = now_ms()
        changes = {"status": Status.RUNNING, "time_started": http_date(ms), "_started_ms": ms,
                   "_lease_until": self._clock() + self._lease}
        self._store.update(CONNECTOR_KIND, tenant, connector_id, {"status": Status.RUNNING})
        return self._store.update(LOG_KIND, tenant, run["id"], changes) or {**run, **changes}

    def _finish(self, tenant: str, run: dict[str, Any], link: dict[str, Any]) -> None:
        ms = now_ms()
        parent = items_parent(str(run["connector_id"]), str(run["kb_id"]))
        self._store.update(LOG_KIND, tenant, run["id"], {
            "status": Status.DONE, "_phase": "done", "time_ended": http_date(ms), "_ended_ms": ms,
            "update_time": ms, "update_date": http_date(ms),
            # RAGFlow's running total: the source's items this dataset holds now
            "total_docs_indexed": self._store.count(ListQuery(ITEM_KIND, tenant, parent)),
        })
        changes: dict[str, Any] = {"active_run": None, "last_run": run["id"], "last_done_ms": ms}
        if run.get("_pruned"):
            changes["last_prune_ms"] = ms
        self._store.update(LINK_KIND, tenant, link["id"], changes)
        self._after_run(tenant, run)

    def _end(self, tenant: str, run: dict[str, Any], status: str, reason: str, *, release: bool = True) -> None:
        """A run that stops before its end: failed (the reason in its log) or cancelled."""
        ms = now_ms()
        changes: dict[str, Any] = {"status": status, "_phase": "done", "time_ended": http_date(ms), "_ended_ms": ms,
                                   "update_time": ms, "update_date": http_date(ms)}
        if status == Status.FAIL:
            changes["error_msg"] = "\n".join(filter(None, [str(run.get("error_msg") or ""), reason]))
            changes["error_count"] = int(run.get("error_count") or 0) + 1
        else:
            changes["error_msg"] = "\n".join(filter(None, [str(run.get("error_msg") or ""), reason]))
        self._store.update(LOG_KIND, tenant, run["id"], changes)
        link = self._store.get(LINK_KIND, tenant, link_id(str(run["connector_id"]), str(run["kb_id"])))
        if link is not None and link.get("active_run") == run["id"]:
            self._store.update(LINK_KIND, tenant, link["id"], {"active_run": None})
        if release:
            self._after_run(tenant, run)

    def _after_run(self, tenant: str, run: dict[str, Any]) -> None:
        self._store.release(tenant, RUN_SCOPE, run_key(str(run["connector_id"]), str(run["kb_id"])), run["id"])
        connector = self._store.get(CONNECTOR_KIND, tenant, str(run["connector_id"]))
        if connector is not None and connector.get("status") != Status.CANCEL:
            # periodic connectors go back to SCHEDULE (RAGFlow schedules the next run as one ends, failed or not)
            self._store.update(CONNECTOR_KIND, tenant, connector["id"], {"status": Status.SCHEDULE})


def _ragflow_counts(run: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """RAGFlow's SyncLogs counters, kept beside ours: documents (re)indexed, failures."""
    indexed = int(changes.get("docs_added", 0)) + int(changes.get("docs_updated", 0))
    return {"new_docs_indexed": indexed, "total_docs_indexed": indexed, "error_count": int(changes.get("docs_failed", 0)),
            "error_msg": "\n".join(f"{f['name']}: {f['reason']}" for f in changes.get("failures") or [])}


def _reason(exc: Exception) -> str:
    if isinstance(exc, SourceError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
