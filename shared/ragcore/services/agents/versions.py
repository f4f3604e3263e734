"""An agent's DSL history: a version on each save with a DSL, as RAGFlow keeps it.

A save whose DSL equals the latest version's refreshes that version (its title stays); a save that un-releases a
released DSL starts a new version so the released one is kept. After every save only the 20 newest unreleased
versions remain; released ones are never pruned.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import ListQuery, MetadataStore
from ragcore.services.common import stamp_new, stamp_update

VERSION = kinds.AGENT_VERSION
KEEP_UNRELEASED = 20
# RAGFlow's list selects these columns only (no DSL, no description)
LISTED = ("id", "create_time", "title", "create_date", "update_date", "user_canvas_id", "update_time", "release")


def version_title(owner: str, agent_title: str) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return f"{owner.strip() or 'tenant'}_{agent_title.strip() or 'agent'}_{stamp}"


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


class AgentVersions:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def _query(self, tenant: str, agent_id: str, **kw: Any) -> ListQuery:
        return ListQuery(VERSION, tenant, agent_id, **kw)

    def save(self, tenant: str, agent_id: str, dsl: dict[str, Any], title: str, release: bool) -> None:
        latest = next(iter(self._store.page(self._query(tenant, agent_id, order="create_time", desc=True), 0, 1)), None)
        if latest is not None and _same(latest.get("dsl"), dsl) and not (latest.get("release") and not release):
            self._store.update(VERSION, tenant, latest["id"], stamp_update({"dsl": dsl, "release": release}))
        else:
            self._store.put(VERSION, tenant, stamp_new({
                "id": new_id(), "user_canvas_id": agent_id, "title": title, "description": None, "dsl": dsl,
                "release": release,
            }), parent=agent_id)
        self._prune(tenant, agent_id)

    def _prune(self, tenant: str, agent_id: str) -> None:
        stale = self._query(tenant, agent_id, order="create_time", desc=True, where={"release": [False]})
        for item in self._store.page(stale, KEEP_UNRELEASED, 100):  # saves one at a time: at most one over
            self._store.delete(VERSION, tenant, item["id"])

    def last_published(self, tenant: str, agent_id: str) -> int | None:
        query = self._query(tenant, agent_id, order="update_time", desc=True, where={"release": [True]})
        latest = next(iter(self._store.page(query, 0, 1)), None)
        return int(latest["update_time"]) if latest else None

    def listing(self, tenant: str, agent_id: str) -> list[dict[str, Any]]:
        # the whole history is the answer (RAGFlow does not page it); its size is bounded by the pruning above
        # and by releases, and the store orders it
        query = self._query(tenant, agent_id, order="update_time", desc=True)
        return [{k: v.get(k) for k in LISTED} for v in self._store.page(query, 0, max(self._store.count(query), 1))]

    def get(self, tenant: str, agent_id: str, version_id: str) -> dict[str, Any]:
        item = self._store.get(VERSION, tenant, version_id) if isinstance(version_id, str) else None
        if item is None or item.get("user_canvas_id") != agent_id:
            raise ApiError(RetCode.DATA_ERROR, "Version not found.")
        return {k: v for k, v in item.items() if not k.startswith("_")}
