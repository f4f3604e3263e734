"""One MetadataStore contract, run against SQLite and DynamoDB (moto)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any


def test_put_get_update_delete(store: Any) -> None:
    assert store.get("doc", "t1", "a") is None
    assert store.put("doc", "t1", {"id": "a", "name": "x", "score": 0.5, "nested": {"n": [1, 2.5]}}, parent="ds1")
    assert store.get("doc", "t1", "a") == {"id": "a", "name": "x", "score": 0.5, "nested": {"n": [1, 2.5]}}
    assert store.get("doc", "t2", "a") is None  # tenants never see each other
    assert store.get("chunk", "t1", "a") is None  # kinds are separate
    assert store.update("doc", "t1", "a", {"name": "y", "extra": None}) == {"id": "a", "name": "y", "score": 0.5,
                                                                           "nested": {"n": [1, 2.5]}, "extra": None}
    assert store.update("doc", "t1", "missing", {"name": "z"}) is None
    assert store.get("doc", "t1", "missing") is None  # update never creates
    assert store.delete("doc", "t1", "a") is True
    assert store.delete("doc", "t1", "a") is False
    assert store.get("doc", "t1", "a") is None


def test_if_absent(store: Any) -> None:
    assert store.put("doc", "t1", {"id": "a", "v": 1}, if_absent=True) is True
    assert store.put("doc", "t1", {"id": "a", "v": 2}, if_absent=True) is False
    assert store.get("doc", "t1", "a")["v"] == 1
    assert store.put("doc", "t1", {"id": "a", "v": 3}) is True
    assert store.get("doc", "t1", "a")["v"] == 3


def test_list_order_parent_and_tenant(store: Any) -> None:
    for i in range(5):
        store.put("doc", "t1", {"id": f"d{i}", "i": i}, parent="ds1" if i % 2 == 0 else "ds2")
    store.put("doc", "t2", {"id": "other"}, parent="ds1")
    store.put("doc", "t1", {"id": "d0", "i": 100}, parent="ds1")  # a rewrite keeps its place
    assert [it["id"] for it in store.list("doc", "t1")] == ["d0", "d1", "d2", "d3", "d4"]
    assert [it["id"] for it in store.list("doc", "t1", parent="ds1")] == ["d0", "d2", "d4"]
    assert [it["id"] for it in store.list("doc", "t2", parent="ds1")] == ["other"]
    assert store.list("chunk", "t1") == []


def test_get_many_keeps_order_skips_missing_and_duplicates(store: Any) -> None:
    for i in range(130):  # more than one DynamoDB batch
        store.put("chunk", "t1", {"id": f"c{i:03d}"}, parent="doc")
    wanted = ["c129", "c000", "nope", "c129", "c064"] + [f"c{i:03d}" for i in range(100, 110)]
    got = store.get_many("chunk", "t1", wanted)
    assert [g["id"] for g in got] == ["c129", "c000", "c064"] + [f"c{i:03d}" for i in range(100, 110)]
    assert store.get_many("chunk", "t2", wanted) == []


def _workers(store: Any) -> int:
    # moto's in-memory DynamoDB is not thread-safe (the real service's ADD and conditions are atomic)
    return 8 if type(store).__name__.startswith("Sqlite") else 1


def test_increment_is_atomic(store: Any) -> None:
    store.put("doc", "t1", {"id": "a", "count": 0})
    with ThreadPoolExecutor(max_workers=_workers(store)) as pool:
        list(pool.map(lambda _: store.increment("doc", "t1", "a", {"count": 1, "tokens": 2}), range(40)))
    item = store.get("doc", "t1", "a")
    assert item["count"] == 40 and item["tokens"] == 80
    assert store.increment("doc", "t1", "missing", {"count": 1}) is None
    assert store.get("doc", "t1", "missing") is None


def test_delete_under(store: Any) -> None:
    for i in range(120):
        store.put("chunk", "t1", {"id": f"c{i}"}, parent="doc1")
    store.put("chunk", "t1", {"id": "keep"}, parent="doc2")
    assert store.delete_under("chunk", "t1", "doc1") == 120
    assert store.list("chunk", "t1", parent="doc1") == []
    assert [c["id"] for c in store.list("chunk", "t1")] == ["keep"]


def test_claims(store: Any) -> None:
    assert store.claim("t1", "name", "docs", "owner1") is True
    assert store.claim("t1", "name", "docs", "owner1") is True  # the owner may claim again
    assert store.claim("t1", "name", "docs", "owner2") is False
    assert store.claim("t2", "name", "docs", "owner2") is True  # per tenant
    store.release("t1", "name", "docs", "owner2")  # not the owner: nothing happens
    assert store.claim("t1", "name", "docs", "owner2") is False
    store.release("t1", "name", "docs", "owner1")
    assert store.claim("t1", "name", "docs", "owner2") is True


def test_concurrent_claims_have_one_winner(store: Any) -> None:
    with ThreadPoolExecutor(max_workers=_workers(store)) as pool:
        wins = list(pool.map(lambda n: store.claim("t1", "name", "same", f"o{n}"), range(16)))
    assert wins.count(True) == 1


def test_put_many(store: Any) -> None:
    store.put("chunk", "t1", {"id": "c1", "v": 0}, parent="doc")
    store.put_many("chunk", "t1", [{"id": f"c{i}", "v": i} for i in range(1, 130)], parent="doc")
    listed = store.list("chunk", "t1", parent="doc")
    assert len(listed) == 129 and listed[0] == {"id": "c1", "v": 1}  # overwritten in place, order kept
    assert store.get("chunk", "t1", "c129") == {"id": "c129", "v": 129}
    store.put_many("chunk", "t1", [])
    assert store.list("chunk", "t2") == []
