"""Helpers of the connector tests: create, link, wait for runs, read what a dataset holds."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import Api


def create_connector(api: Api, source: str, config: dict[str, Any], key: str | None = None, **extra: Any) -> dict[str, Any]:
    res = api.call("POST", "/api/v1/connectors", key=key, json={"name": f"{source} docs", "source": source, "config": config, **extra})
    assert res["code"] == 0, res
    return dict(res["data"])


def link(api: Api, dataset_id: str, connector_id: str, auto_parse: str = "1", key: str | None = None) -> dict[str, Any]:
    res = api.call("PUT", f"/api/v1/datasets/{dataset_id}", key=key,
                   json={"connectors": [{"id": connector_id, "auto_parse": auto_parse}]})
    assert res["code"] == 0, res
    return dict(res["data"])


def logs(api: Api, connector_id: str, key: str | None = None) -> list[dict[str, Any]]:
    res = api.call("GET", f"/api/v1/connectors/{connector_id}/logs", key=key)
    assert res["code"] == 0, res
    return list(res["data"]["logs"])


def wait_run(api: Api, connector_id: str, runs: int = 1, key: str | None = None, timeout: float = 60) -> dict[str, Any]:
    """The newest run, once `runs` runs have ended (DONE, FAIL or CANCEL) and every document they made is parsed."""
    deadline = time.time() + timeout
    last: list[dict[str, Any]] = []
    while time.time() < deadline:
        last = logs(api, connector_id, key)
        ended = [r for r in last if r["status"] in ("2", "3", "4")]
        if len(ended) >= runs and last[0]["status"] in ("2", "3", "4"):
            return last[0]
        time.sleep(0.05)
    raise AssertionError(f"runs not ended in {timeout}s: {last[:2]}")


def docs(api: Api, dataset_id: str, key: str | None = None) -> list[dict[str, Any]]:
    res = api.call("GET", f"/api/v1/datasets/{dataset_id}/documents", key=key, params={"page_size": 100, "orderby": "name", "desc": "false"})
    assert res["code"] == 0, res
    return list(res["data"]["docs"])


def wait_parsed(api: Api, dataset_id: str, count: int, key: str | None = None, timeout: float = 90) -> list[dict[str, Any]]:
    deadline = time.time() + timeout
    found: list[dict[str, Any]] = []
    while time.time() < deadline:
        found = docs(api, dataset_id, key)
        if len(found) == count and all(d["run"] in ("DONE", "FAIL") for d in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} parsed documents, have {[(d['name'], d['run']) for d in found]}")


def schedule(api: Api, connector_id: str, key: str | None = None) -> None:
    res = api.call("PATCH", f"/api/v1/connectors/{connector_id}", key=key, json={"status": "SCHEDULE"})
    assert res["code"] == 0, res


def force_due(connector_id: str) -> None:
    """Make the connector due now in the scheduler's index (as if its refresh_freq had passed)."""
    from ragcore import bootstrap
    from ragcore.services.connectors.model import DUE_KIND, DUE_TENANT, due_key

    store = bootstrap.connectors()._store
    entry = store.get(DUE_KIND, DUE_TENANT, connector_id)
    assert entry is not None, "the connector is not scheduled"
    store.put(DUE_KIND, DUE_TENANT, {**entry, "due_ms": 0, "due": due_key(0, connector_id)})
