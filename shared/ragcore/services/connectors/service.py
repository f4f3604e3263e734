"""RAGFlow's connector API (api/apps/restful_apis/connector_api.py) over the store: connectors, their links to
datasets, their runs' logs, rebuild and test, and the scheduler that starts runs when they are due.

Credentials (`config.credentials`) are stored only encrypted, with the cipher of the tenants' provider keys, and
shown only masked; a client that sends the masked values back keeps the stored ones. Another tenant's connector
answers exactly like one that does not exist (RAGFlow's "no authorization").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.sources import SourceError, SourceFactory
from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.ids import new_id, now_ms
from ragcore.ports import Cipher, JobQueue, ListQuery, MetadataStore
from ragcore.services.common import public, rest_api_page, stamp_new, stamp_update
from ragcore.services.connectors.model import (
    CONNECTOR_KIND,
    DEFAULT_PRUNE_MIN,
    DEFAULT_REFRESH_MIN,
    DEFAULT_TIMEOUT_S,
    DUE_KIND,
    DUE_TENANT,
    ITEM_KIND,
    LINK_KIND,
    LOG_KIND,
    MAX_LOGS,
    RAGFLOW_SOURCES,
    RUN_SCOPE,
    SOURCES,
    Status,
    due_key,
    items_parent,
    masked,
    merged_secret,
    split_config,
)
from ragcore.services.connectors.sync import ACTIVE, TASK_TYPE, link_id, run_key

log = logging.getLogger("ragcore.connectors")

NO_AUTHORIZATION = "no authorization"
MAX_CONNECTORS = 1000  # a tenant's connectors listed at once (RAGFlow's list has no paging)
MAX_LINKS = 1000
TICK_PAGE = 10  # due-index entries read at a time: an idle tick reads this many


def no_authorization() -> ApiError:
    return ApiError(RetCode.AUTHENTICATION_ERROR, NO_AUTHORIZATION, data=False)


def _int_field(body: dict[str, Any], name: str, default: int, minimum: int = 0) -> int:
    raw = body.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(RetCode.ARGUMENT_ERROR, f"`{name}` should be an integer, got {raw!r}") from None
    if isinstance(raw, bool) or value < minimum:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"`{name}` should be an integer of at least {minimum}, got {raw!r}")
    return value


class ConnectorService:
    def __init__(
        self,
        store: MetadataStore,
        *,
        cipher: Callable[[], Cipher],
        sources: SourceFactory,
        queue: Callable[[], JobQueue],
        lease_s: float = 300.0,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._sources = sources
        self._queue = queue
        self._lease_s = lease_s

    # ---- credentials --------------------------------------------------------------------------------------------
    def credentials(self, connector: dict[str, Any]) -> Any:
        token = connector.get("_credentials")
        return json.loads(self._cipher().decrypt(token)) if token else {}

    def _sealed(self, credentials: Any) -> str | None:
        return None if credentials in (None, {}, "") else self._cipher().encrypt(json.dumps(credentials))

    def view(self, connector: dict[str, Any]) -> dict[str, Any]:
        out = public(connector)
        config = dict(connector.get("config") or {})
        if connector.get("_credentials"):
            config["credentials"] = masked(self.credentials(connector))
        out["config"] = config
        return out

    # ---- reads --------------------------------------------------------------------------------------------------
    def owned(self, tenant: str, connector_id: str) -> dict[str, Any]:
        found = self._store.get(CONNECTOR_KIND, tenant, connector_id) if isinstance(connector_id, str) and connector_id else None
        if found is None:
            raise no_authorization()
        return found

    def get(self, tenant: str, connector_id: str) -> dict[str, Any]:
        return self.view(self.owned(tenant, connector_id))

    def list_connectors(self, tenant: str) -> list[dict[str, Any]]:
        items = self._store.page(ListQuery(CONNECTOR_KIND, tenant, order="create_time", desc=False), 0, MAX_CONNECTORS)
        return [{k: it.get(k) for k in ("id", "name", "source", "status")} for it in items]

    def logs(self, tenant: str, connector_id: str, params: dict[str, Any]) -> dict[str, Any]:
        connector = self.owned(tenant, connector_id)
        page, size = rest_api_page(params)
        query = ListQuery(LOG_KIND, tenant, connector_id, order="create_time", desc=True)
        rows = self._store.page(query, (page - 1) * size, size)
        extra = {"refresh_freq": connector.get("refresh_freq"), "prune_freq": connector.get("prune_freq")}
        return {"total": self._store.count(query), "logs": [{**public(r), **extra} for r in rows]}

    # ---- writes -------------------------------------------------------------------------------------------------
    def create(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "name", "source", "config")
        name, source, config = body["name"], body["source"], body["config"]
        if not isinstance(name, str) or not name.strip() or len(name) > 128:
            raise ApiError(RetCode.ARGUMENT_ERROR, "`name` should be a string of 1 to 128 characters.")
        self._check_source(source)
        if not isinstance(config, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "config must be an object.")
        rest, secret = split_config(config)
        item = stamp_new({
            "id": new_id(), "tenant_id": tenant, "name": name.strip(), "source": source, "input_type": "poll",
            "config": rest, "refresh_freq": _int_field(body, "refresh_freq", DEFAULT_REFRESH_MIN),
            "prune_freq": _int_field(body, "prune_freq", DEFAULT_PRUNE_MIN),
            "timeout_secs": _int_field(body, "timeout_secs", DEFAULT_TIMEOUT_S), "indexing_start": None,
            "status": Status.UNSTART, "_credentials": self._sealed(secret),
        })
        self._store.put(CONNECTOR_KIND, tenant, item)
        return self.view(item)

    def _check_source(self, source: Any) -> None:
        if not isinstance(source, str) or source not in SOURCES:
            raise ApiError(RetCode.ARGUMENT_ERROR,
                           f"Source {source!r} is not supported here; supported sources: {', '.join(SOURCES)}.")

    def update(self, tenant: str, connector_id: str, body: dict[str, Any]) -> dict[str, Any]:
        connector = self.owned(tenant, connector_id)
        if isinstance(body.get("data"), dict):
            body = body["data"]
        changes: dict[str, Any] = {}
        for name, default in (("prune_freq", DEFAULT_PRUNE_MIN), ("refresh_freq", DEFAULT_REFRESH_MIN),
                              ("timeout_secs", DEFAULT_TIMEOUT_S)):
            if name in body:
                changes[name] = _int_field(body, name, default)
        if "config" in body:
            if not isinstance(body["config"], dict):
                raise ApiError(RetCode.ARGUMENT_ERROR, "config must be an object.")
            rest, secret = split_config(body["config"])
            changes["config"] = rest
            changes["_credentials"] = self._sealed(merged_secret(secret, self.credentials(connector)))
        status = body.get("status")  # any other status is ignored, as RAGFlow's handler does (a client may send back
        # the whole connector it read)
        if changes:
            connector = self._store.update(CONNECTOR_KIND, tenant, connector_id, stamp_update(changes)) or connector
        if body.get("reschedule"):
            self.cancel(tenant, connector)
            self.schedule(tenant, self.owned(tenant, connector_id))
        elif status in (Status.CANCEL, "CANCEL"):
            self.cancel(tenant, connector)
        elif status in (Status.SCHEDULE, "SCHEDULE"):
            self.schedule(tenant, connector)
        elif "refresh_freq" in changes and connector.get("status") != Status.CANCEL and self._due(connector_id):
            self._set_due(tenant, connector_id, now_ms() + max(int(changes["refresh_freq"]), 1) * 60_000)
        return self.get(tenant, connector_id)

    def delete(self, tenant: str, connector_id: str) -> bool:
        connector = self.owned(tenant, connector_id)
        self.cancel(tenant, connector)
        for link in self._links(tenant, connector_id):
            self._store.delete_under(ITEM_KIND, tenant, items_parent(connector_id, str(link["kb_id"])))
            self._store.delete(LINK_KIND, tenant, link["id"])
        self._store.delete_under(LOG_KIND, tenant, connector_id)
        self._store.delete(CONNECTOR_KIND, tenant, connector_id)
        return True

    # ---- runs ---------------------------------------------------------------------------------------------------
    def _links(self, tenant: str, connector_id: str) -> list[dict[str, Any]]:
        return self._store.page(ListQuery(LINK_KIND, tenant, connector_id, order="create_time", desc=False), 0, MAX_LINKS)

    def schedule(self, tenant: str, connector: dict[str, Any], *, reindex: bool = False,
                 only: str | None = None) -> None:
        """Runs now for each linked dataset (RAGFlow's schedule_tasks, run_immediately), then every refresh_freq."""
        self._store.update(CONNECTOR_KIND, tenant, connector["id"], {"status": Status.SCHEDULE})
        for link in self._links(tenant, connector["id"]):
            if only is None or link["kb_id"] == only:
                self._start_run(tenant, connector, link, reindex=reindex)
        self._set_due(tenant, connector["id"], now_ms() + max(int(connector.get("refresh_freq") or 0), 1) * 60_000)

    def cancel(self, tenant: str, connector: dict[str, Any], *, only: str | None = None) -> None:
        """Stops its runs (each stops after the page it is applying) and its schedule (RAGFlow's cancel_tasks)."""
        for link in self._links(tenant, connector["id"]):
            if only is None or link["kb_id"] == only:
                self._cancel_run(tenant, link)
        if only is None:
            self._store.update(CONNECTOR_KIND, tenant, connector["id"], {"status": Status.CANCEL})
            self._store.delete(DUE_KIND, DUE_TENANT, connector["id"])

    def _cancel_run(self, tenant: str, link: dict[str, Any]) -> None:
        run_id = link.get("active_run")
        if not run_id:
            return
        run = self._store.get(LOG_KIND, tenant, str(run_id))
        if run is not None and run.get("status") in ACTIVE:
            self._store.update(LOG_KIND, tenant, run["id"], stamp_update({"status": Status.CANCEL, "_phase": "done"}))
        self._store.release(tenant, RUN_SCOPE, run_key(str(link["connector_id"]), str(link["kb_id"])), str(run_id))
        self._store.update(LINK_KIND, tenant, link["id"], {"active_run": None})

    def _start_run(self, tenant: str, connector: dict[str, Any], link: dict[str, Any], *, reindex: bool = False) -> str | None:
        dataset = self._store.get(DATASET_KIND, tenant, str(link["kb_id"]))
        if dataset is None:  # the dataset was deleted: its link and what was kept of its items go too
            self._store.delete_under(ITEM_KIND, tenant, items_parent(str(link["connector_id"]), str(link["kb_id"])))
            self._store.delete(LINK_KIND, tenant, link["id"])
            return None
        active = self._store.get(LOG_KIND, tenant, str(link["active_run"])) if link.get("active_run") else None
        if active is not None and active.get("status") in ACTIVE:
            if reindex:
                self._cancel_run(tenant, link)
            else:
                if float(active.get("_lease_until") or 0) < self._now_s():  # its worker died: take it up again
                    self._resume(tenant, active)
                return str(active["id"])
        run_id = new_id()
        self._store.put(LOG_KIND, tenant, stamp_new({
            "id": run_id, "connector_id": connector["id"], "kb_id": dataset["id"], "kb_name": dataset.get("name", ""),
            "task_type": "sync", "status": Status.SCHEDULE, "from_beginning": "1" if reindex else "0",
            "new_docs_indexed": 0, "total_docs_indexed": 0, "docs_removed_from_index": 0, "error_msg": "",
            "error_count": 0, "full_exception_trace": "", "time_started": None, "time_ended": None,
            "poll_range_start": None, "poll_range_end": None, "docs_added": 0, "docs_updated": 0,
            "docs_unchanged": 0, "docs_failed": 0, "docs_removed": 0, "failures": [],
            "_phase": "list", "_cursor": None, "_reindex": reindex, "_lease_until": self._now_s() + self._lease_s,
        }), parent=connector["id"])
        self._store.update(LINK_KIND, tenant, link["id"], {"active_run": run_id})
        self._trim_logs(tenant, connector["id"])
        self._queue().submit({"type": TASK_TYPE, "tenant": tenant, "run_id": run_id})
        return run_id

    def _resume(self, tenant: str, run: dict[str, Any]) -> None:
        self._store.update(LOG_KIND, tenant, run["id"], {"_lease_until": self._now_s() + self._lease_s})
        self._queue().submit({"type": TASK_TYPE, "tenant": tenant, "run_id": run["id"]})

    def _trim_logs(self, tenant: str, connector_id: str) -> None:
        oldest = ListQuery(LOG_KIND, tenant, connector_id, order="create_time", desc=False)
        extra = self._store.count(oldest) - MAX_LOGS * max(len(self._links(tenant, connector_id)), 1)
        if extra > 0:
            for row in self._store.page(oldest, 0, extra):
                if row.get("status") not in ACTIVE:
                    self._store.delete(LOG_KIND, tenant, row["id"])

    def rebuild(self, tenant: str, connector_id: str, body: dict[str, Any]) -> bool:
        """Everything of the connector into the dataset again, under the same document ids; what the source no
        longer holds is removed."""
        connector = self.owned(tenant, connector_id)
        if "kb_id" not in body:
            raise ApiError(RetCode.ARGUMENT_ERROR, "required argument is missing: kb_id")
        kb_id = body["kb_id"]
        link = self._store.get(LINK_KIND, tenant, link_id(connector_id, kb_id)) if isinstance(kb_id, str) else None
        if link is None or self._store.get(DATASET_KIND, tenant, kb_id) is None:
            raise ApiError(RetCode.SERVER_ERROR, f"The connector is not linked to dataset {kb_id}.", data=False)
        if connector.get("status") == Status.CANCEL:
            self._store.update(CONNECTOR_KIND, tenant, connector_id, {"status": Status.SCHEDULE})
        self._start_run(tenant, connector, link, reindex=True)
        if not self._due(connector_id):
            self._set_due(tenant, connector_id, now_ms() + max(int(connector.get("refresh_freq") or 0), 1) * 60_000)
        return True

    def test(self, tenant: str, connector_id: str, body: dict[str, Any]) -> bool:
        """RAGFlow's test_connector: the request's source and config, checked against the source (credentials,
        reachability); connector_id may name a source kind for a connector not saved yet."""
        require_arguments(body, "source")  # RAGFlow's @validate_request runs before anything else
        unsaved = connector_id in RAGFLOW_SOURCES
        saved = None if unsaved else self.owned(tenant, connector_id)
        source, config = body["source"], body.get("config") or {}
        if not isinstance(config, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "config must be an object.")
        if not isinstance(source, str) or source not in SOURCES:
            raise ApiError(RetCode.DATA_ERROR, f"Source {source!r} is not supported here; supported sources: {', '.join(SOURCES)}.",
                           data=False)
        rest, secret = split_config(config)
        if saved is not None:
            secret = merged_secret(secret, self.credentials(saved))
        try:
            self._sources(source, {**rest, "credentials": secret or {}}).check()
        except SourceError as exc:
            raise ApiError(RetCode.DATA_ERROR, str(exc), data=False) from None
        except Exception:
            log.exception("connector validation failed for %s", connector_id)
            raise ApiError(RetCode.SERVER_ERROR, "Connector validation failed, please check logs.", data=False) from None
        return True

    # ---- datasets' `connectors` -------------------------------------------------------------------------------
    def link_dataset(self, tenant: str, dataset_id: str, refs: Any, previous: list[dict[str, Any]], *,
                     apply: bool) -> list[dict[str, Any]]:
        """A dataset's `connectors` (create/update): each {"id", "auto_parse"} is linked (a new link starts its first
        run), links no longer listed are removed (their documents stay, as in RAGFlow). apply=False only checks."""
        if not isinstance(refs, list) or not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in refs):
            raise ApiError(RetCode.ARGUMENT_ERROR, 'connectors should be a list of {"id": <connector id>, "auto_parse": "1"}')
        wanted = {r["id"]: "0" if str(r.get("auto_parse", "1")) == "0" else "1" for r in refs}
        found = {c["id"]: c for c in self._store.get_many(CONNECTOR_KIND, tenant, list(wanted))}
        missing = [cid for cid in wanted if cid not in found]
        if missing:
            raise ApiError(RetCode.DATA_ERROR, f"Can't find this Connector! ({missing[0]})")
        if not apply:
            return [{"id": cid, "auto_parse": auto} for cid, auto in wanted.items()]
        for cid, auto in wanted.items():
            connector = found[cid]
            link = self._store.get(LINK_KIND, tenant, link_id(cid, dataset_id))
            if link is not None:
                if link.get("auto_parse") != auto:
                    self._store.update(LINK_KIND, tenant, link["id"], {"auto_parse": auto})
                continue
            link = stamp_new({"id": link_id(cid, dataset_id), "connector_id": cid, "kb_id": dataset_id,
                              "auto_parse": auto, "active_run": None})
            self._store.put(LINK_KIND, tenant, link, parent=cid)
            if connector.get("status") == Status.CANCEL:
                continue  # linked, but a cancelled connector waits for SCHEDULE
            self._store.update(CONNECTOR_KIND, tenant, cid, {"status": Status.SCHEDULE})
            self._start_run(tenant, connector, link, reindex=True)
            if not self._due(cid):
                self._set_due(tenant, cid, now_ms() + max(int(connector.get("refresh_freq") or 0), 1) * 60_000)
        for ref in previous:
            cid = str(ref.get("id"))
            if cid in wanted:
                continue
            link = self._store.get(LINK_KIND, tenant, link_id(cid, dataset_id))
            if link is not None:
                self._cancel_run(tenant, link)
                self._store.delete(LINK_KIND, tenant, link["id"])
        return [{"id": cid, "auto_parse": auto} for cid, auto in wanted.items()]

    def dataset_connectors(self, tenant: str, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """GET /datasets/{id} `connectors`: RAGFlow's Connector2Kb join (id, source, name, auto_parse, status)."""
        ids = [str(r.get("id")) for r in refs if isinstance(r, dict)]
        found = {c["id"]: c for c in self._store.get_many(CONNECTOR_KIND, tenant, ids)}
        return [{"id": cid, "source": found[cid]["source"], "name": found[cid]["name"],
                 "auto_parse": str(ref.get("auto_parse", "1")), "status": found[cid].get("status")}
                for cid, ref in zip(ids, refs, strict=False) if cid in found]

    # ---- the due index (the scheduler) --------------------------------------------------------------------------
    def _due(self, connector_id: str) -> dict[str, Any] | None:
        return self._store.get(DUE_KIND, DUE_TENANT, connector_id)

    def _set_due(self, tenant: str, connector_id: str, due_ms: int) -> None:
        self._store.put(DUE_KIND, DUE_TENANT, {"id": connector_id, "tenant": tenant, "due_ms": due_ms,
                                               "due": due_key(due_ms, connector_id)})

    def tick(self, *, limit: int = 50) -> int:
        """Start the runs that are due: the head of the due index in due order (a few items at a time, never a scan
        of all connectors), each due connector moved on by its refresh_freq. A run whose worker died (its lease
        expired) is taken up again from its checkpoint instead of a new one starting. Returns how many connectors
        were due (at most limit)."""
        now = now_ms()
        handled = 0
        while handled < limit:
            head = self._store.page(ListQuery(DUE_KIND, DUE_TENANT, order="name", desc=False), 0, min(TICK_PAGE, limit - handled))
            due = [e for e in head if int(e.get("due_ms") or 0) <= now]
            for entry in due:
                handled += 1
                self._start_due(str(entry["tenant"]), str(entry["id"]), now)
            if len(due) < len(head) or not head:
                return handled
        return handled

    def _start_due(self, tenant: str, connector_id: str, now: int) -> None:
        connector = self._store.get(CONNECTOR_KIND, tenant, connector_id)
        if connector is None or connector.get("status") == Status.CANCEL:
            self._store.delete(DUE_KIND, DUE_TENANT, connector_id)
            return
        try:
            for link in self._links(tenant, connector_id):
                self._start_run(tenant, connector, link)
        except Exception:  # one connector's trouble must not hold the others back
            log.exception("scheduling connector %s failed", connector_id)
        self._set_due(tenant, connector_id, now + max(int(connector.get("refresh_freq") or 0), 1) * 60_000)

    def _now_s(self) -> float:
        return now_ms() / 1000
