"""Helpers for tests that upload and parse documents through the HTTP API."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import Api


def make_dataset(api: Api, name: str = "kb", **extra: Any) -> str:
    res = api.call("POST", "/api/v1/datasets", json={"name": name, **extra})
    assert res["code"] == 0, res
    return str(res["data"]["id"])


def upload(api: Api, dataset_id: str, files: dict[str, bytes], key: str | None = None) -> list[dict[str, Any]]:
    multipart = [("file", (name, data)) for name, data in files.items()]
    res = api.client.post(f"/api/v1/datasets/{dataset_id}/documents", files=multipart, headers=api.headers(key))
    body = res.json()
    assert body["code"] == 0, body
    return list(body["data"])


def parse(api: Api, dataset_id: str, doc_ids: list[str]) -> None:
    res = api.call("POST", f"/api/v1/datasets/{dataset_id}/chunks", json={"document_ids": doc_ids})
    assert res == {"code": 0}, res


def get_doc(api: Api, dataset_id: str, doc_id: str) -> dict[str, Any]:
    res = api.call("GET", f"/api/v1/datasets/{dataset_id}/documents", params={"id": doc_id})
    assert res["code"] == 0, res
    return dict(res["data"]["docs"][0])


def wait_done(api: Api, dataset_id: str, doc_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        doc = get_doc(api, dataset_id, doc_id)
        if doc["run"] in ("DONE", "FAIL", "CANCEL"):
            return doc
        time.sleep(0.05)
    raise AssertionError(f"document {doc_id} still {doc['run']} after {timeout}s: {doc['progress_msg']}")


def ingest(api: Api, dataset_id: str, files: dict[str, bytes]) -> list[dict[str, Any]]:
    docs = upload(api, dataset_id, files)
    parse(api, dataset_id, [d["id"] for d in docs])
    return [wait_done(api, dataset_id, d["id"]) for d in docs]


def retrieve(api: Api, **payload: Any) -> dict[str, Any]:
    res = api.call("POST", "/api/v1/retrieval", json=payload)
    assert res["code"] == 0, res
    return dict(res["data"])


def eventually(check: Any, timeout: float = 20) -> None:
    """Background work (purges after deletes) is done within `timeout`: check() becomes true."""
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "background work did not finish in time"
        time.sleep(0.05)


def stored(kind: str, tenant: str, parent: str) -> int:
    """How many items of a kind the store holds under a parent."""
    from ragcore.bootstrap.container import get_container
    from ragcore.ports import ListQuery

    return get_container().store.count(ListQuery(kind, tenant, parent))
