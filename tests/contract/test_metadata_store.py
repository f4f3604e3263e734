"""One MetadataStore contract, run against SQLite and DynamoDB (moto)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from ragcore.ports import ListQuery


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


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [it["id"] for it in items]


def test_pages_by_parent_and_tenant_in_creation_order(store: Any) -> None:
    for i in range(5):
        store.put("doc", "t1", {"id": f"d{i}", "i": i}, parent="ds1" if i % 2 == 0 else "ds2")
    store.put("doc", "t2", {"id": "other"}, parent="ds1")
    store.put("doc", "t1", {"id": "d0", "i": 100}, parent="ds1")  # a rewrite keeps its place
    q = ListQuery("doc", "t1", "ds1", desc=False)
    assert _ids(store.page(q, 0, 10)) == ["d0", "d2", "d4"]
    assert _ids(store.page(ListQuery("doc", "t1", "ds1"), 0, 10)) == ["d4", "d2", "d0"]
    assert _ids(store.page(q, 1, 1)) == ["d2"] and store.page(q, 3, 10) == []
    assert store.count(q) == 3 and store.count(ListQuery("doc", "t1", "ds2")) == 2
    assert _ids(store.page(ListQuery("doc", "t2", "ds1"), 0, 10)) == ["other"]
    assert store.page(ListQuery("chunk", "t1", "ds1"), 0, 10) == [] and store.count(ListQuery("chunk", "t1", "ds1")) == 0
    assert [b for batch in store.batches("doc", "t1", "ds1", size=2) for b in _ids(batch)] == ["d0", "d2", "d4"]


def test_update_order_name_order_and_filters(store: Any) -> None:
    for i, (name, run) in enumerate([("b.pdf", "DONE"), ("A.txt", "FAIL"), ("c.pdf", "DONE"), ("d.md", "UNSTART")]):
        store.put("document", "t1", {"id": f"d{i}", "name": name, "run": run, "suffix": name.rsplit(".", 1)[1],
                                     "create_time": 100 + i, "update_time": 100 + i, "tags": ["x", f"t{i}"]}, parent="ds")
    store.update("document", "t1", "d0", {"update_time": 500})
    assert _ids(store.page(ListQuery("document", "t1", "ds", order="update_time"), 0, 10)) == ["d0", "d3", "d2", "d1"]
    assert _ids(store.page(ListQuery("document", "t1", "ds", order="create_time"), 0, 10)) == ["d3", "d2", "d1", "d0"]
    assert _ids(store.page(ListQuery("document", "t1", "ds", order="name", desc=False), 0, 10)) == ["d1", "d0", "d2", "d3"]
    assert _ids(store.page(ListQuery("document", "t1", "ds", order="name", desc=False), 1, 2)) == ["d0", "d2"]
    done = ListQuery("document", "t1", "ds", where={"run": ["DONE"]}, desc=False)
    assert _ids(store.page(done, 0, 10)) == ["d0", "d2"] and store.count(done) == 2
    either = ListQuery("document", "t1", "ds", where={"run": ["DONE", "FAIL"]}, desc=False)
    assert _ids(store.page(either, 0, 10)) == ["d0", "d1", "d2"] and store.count(either) == 3
    assert _ids(store.page(either, 1, 1)) == ["d1"]
    both = ListQuery("document", "t1", "ds", where={"run": ["DONE"], "suffix": ["pdf"]}, order="update_time")
    assert _ids(store.page(both, 0, 10)) == ["d0", "d2"] and store.count(both) == 2
    tagged = ListQuery("document", "t1", "ds", where={"tags": ["t3", "t1"]}, desc=False)  # an unindexed list field
    assert _ids(store.page(tagged, 0, 10)) == ["d1", "d3"] and store.count(tagged) == 2
    named = ListQuery("document", "t1", "ds", name_contains=".PD", desc=False)
    assert _ids(store.page(named, 0, 10)) == ["d0", "d2"] and store.count(named) == 2
    assert store.count(ListQuery("document", "t1", "ds", name_contains="%")) == 0  # LIKE wildcards are literal
    timed = ListQuery("document", "t1", "ds", created_from=101, created_to=102, desc=False)
    assert _ids(store.page(timed, 0, 10)) == ["d1", "d2"] and store.count(timed) == 2
    store.update("document", "t1", "d3", {"run": "DONE"})  # a slot change moves it between views and counts
    assert store.count(done) == 3 and store.count(ListQuery("document", "t1", "ds", where={"run": ["UNSTART"]})) == 0
    store.delete("document", "t1", "d0")
    assert store.count(done) == 2 and store.count(ListQuery("document", "t1", "ds")) == 3


def test_every_page_of_a_collection_with_holes_matches_the_order(store: Any) -> None:
    """Offsets deep into a collection, in both orders and through filtered views, after deletes, moves and
    slot changes: each page is exactly that slice of the collection in order."""
    n = 300
    store.put_many("document", "t1", [{"id": f"d{i:03d}", "run": "DONE" if i % 3 else "FAIL", "update_time": i}
                                       for i in range(n)], parent="ds")
    alive = {f"d{i:03d}": {"run": "DONE" if i % 3 else "FAIL", "update_time": i, "seq": i} for i in range(n)}
    for i in range(0, n, 7):
        store.delete("document", "t1", f"d{i:03d}")
        alive.pop(f"d{i:03d}")
    for i in range(1, n, 11):  # later updates move to the end of the update order
        if f"d{i:03d}" in alive:
            store.update("document", "t1", f"d{i:03d}", {"update_time": 1000 + i, "run": "UNSTART"})
            alive[f"d{i:03d}"].update(update_time=1000 + i, run="UNSTART")
    cases = {
        ("create_time", None): sorted(alive, key=lambda k: alive[k]["seq"]),
        ("update_time", None): sorted(alive, key=lambda k: alive[k]["update_time"]),
        ("create_time", "DONE"): sorted((k for k in alive if alive[k]["run"] == "DONE"), key=lambda k: alive[k]["seq"]),
        ("update_time", "UNSTART"): sorted((k for k in alive if alive[k]["run"] == "UNSTART"), key=lambda k: alive[k]["update_time"]),
    }
    for (order, run), expected in cases.items():
        for desc in (False, True):
            want = expected[::-1] if desc else expected
            q = ListQuery("document", "t1", "ds", order=order, desc=desc, where={"run": [run]} if run else {})
            assert store.count(q) == len(want)
            for size in (7, 30):
                for offset in range(0, len(want) + size, 3 * size):
                    assert _ids(store.page(q, offset, size)) == want[offset : offset + size], (order, run, desc, offset, size)


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


def test_increment_many_adds_and_creates_counters(store: Any) -> None:
    store.put("termstats", "t1", {"id": "ds:1", "t_a": 2}, parent="ds")
    with ThreadPoolExecutor(max_workers=_workers(store)) as pool:
        list(pool.map(lambda _: store.increment_many("termstats", "t1", {"ds:1": {"t_a": 1, "t_b": -1},
                                                                          "ds:2": {"t_c": 3}}, parent="ds"), range(20)))
    assert store.get("termstats", "t1", "ds:1") == {"id": "ds:1", "t_a": 22, "t_b": -20}
    assert store.get("termstats", "t1", "ds:2") == {"id": "ds:2", "t_c": 60}  # created by the first writer
    assert store.get("termstats", "t2", "ds:1") is None  # per tenant
    store.increment_many("termstats", "t1", {})  # nothing to do
    assert store.delete_under("termstats", "t1", "ds") == 2  # the created counters sit under their parent


def test_delete_under(store: Any) -> None:
    for i in range(120):
        store.put("chunk", "t1", {"id": f"c{i}"}, parent="doc1")
    store.put("chunk", "t1", {"id": "keep"}, parent="doc2")
    assert store.delete_under("chunk", "t1", "doc1") == 120
    assert store.page(ListQuery("chunk", "t1", "doc1"), 0, 10) == [] and store.count(ListQuery("chunk", "t1", "doc1")) == 0
    assert _ids(store.page(ListQuery("chunk", "t1", "doc2"), 0, 10)) == ["keep"]


def test_claims(store: Any) -> None:
    assert store.claim("t1", "name", "docs", "owner1") is True
    assert store.claim("t1", "name", "docs", "owner1") is True  # the owner may claim again
    assert store.claim("t1", "name", "docs", "owner2") is False
    assert store.claim("t2", "name", "docs", "owner2") is True  # per tenant
    store.release("t1", "name", "docs", "owner2")  # not the owner: nothing happens
    assert store.claim("t1", "name", "docs", "owner2") is False
    assert store.owner("t1", "name", "docs") == "owner1" and store.owner("t1", "name", "nope") is None
    store.release("t1", "name", "docs", "owner1")
    assert store.claim("t1", "name", "docs", "owner2") is True


def test_concurrent_claims_have_one_winner(store: Any) -> None:
    with ThreadPoolExecutor(max_workers=_workers(store)) as pool:
        wins = list(pool.map(lambda n: store.claim("t1", "name", "same", f"o{n}"), range(16)))
    assert wins.count(True) == 1


def test_put_many(store: Any) -> None:
    store.put("chunk", "t1", {"id": "c1", "v": 0}, parent="doc")
    store.put_many("chunk", "t1", [{"id": f"c{i}", "v": i} for i in range(1, 130)], parent="doc")
    listed = store.page(ListQuery("chunk", "t1", "doc", desc=False), 0, 200)
    assert len(listed) == 129 and listed[0] == {"id": "c1", "v": 1}  # overwritten in place, order kept
    assert store.count(ListQuery("chunk", "t1", "doc")) == 129
    assert store.get("chunk", "t1", "c129") == {"id": "c129", "v": 129}
    store.put_many("chunk", "t1", [])
    assert store.page(ListQuery("chunk", "t2", "doc"), 0, 10) == []


def test_a_declared_position_orders_chunks_however_they_arrive(store: Any) -> None:
    store.put_many("chunk", "t1", [{"id": f"late{n}", "order": 100 + n, "_run": 1} for n in range(3)], parent="doc")
    store.put_many("chunk", "t1", [{"id": f"early{n}", "order": n, "_run": 1} for n in range(3)], parent="doc")
    store.put("chunk", "t1", {"id": "old", "order": 50, "_run": 0}, parent="doc")
    q = ListQuery("chunk", "t1", "doc", desc=False, where={"_run": [1]})
    assert _ids(store.page(q, 0, 10)) == ["early0", "early1", "early2", "late0", "late1", "late2"]
    assert _ids(store.page(q, 2, 2)) == ["early2", "late0"] and store.count(q) == 6
    store.put("chunk", "t1", {"id": "early0", "order": 200, "_run": 1}, parent="doc")  # moved by a new position
    assert _ids(store.page(q, 4, 10)) == ["late2", "early0"]


def test_an_exact_name_is_an_indexed_lookup(store: Any) -> None:
    for i, (name, kind) in enumerate([("Docs", "folder"), ("docs", "file"), ("other", "folder")]):
        store.put("file", "t1", {"id": f"f{i}", "name": name, "type": kind}, parent="root")
    store.put("file", "t1", {"id": "elsewhere", "name": "docs", "type": "folder"}, parent="sub")
    assert _ids(store.page(ListQuery("file", "t1", "root", name_equals="DOCS", desc=False), 0, 10)) == ["f0", "f1"]
    assert store.count(ListQuery("file", "t1", "root", name_equals="docs", where={"type": ["folder"]})) == 1
    assert store.count(ListQuery("file", "t1", "root", name_equals="nope")) == 0
    store.update("file", "t1", "f0", {"name": "renamed"})
    assert _ids(store.page(ListQuery("file", "t1", "root", name_equals="docs"), 0, 10)) == ["f1"]


def test_an_import_reads_back_as_put_many_would_write_it(store: Any) -> None:
    store.import_items("document", "t1", [{"id": f"d{i:03d}", "run": "DONE" if i % 2 else "FAIL", "update_time": i}
                                          for i in range(120)], parent="ds")
    store.put("document", "t1", {"id": "later", "run": "DONE", "update_time": 500}, parent="ds")
    done = ListQuery("document", "t1", "ds", where={"run": ["DONE"]}, desc=False)
    assert store.count(done) == 61 and store.count(ListQuery("document", "t1", "ds")) == 121
    assert _ids(store.page(done, 58, 5)) == ["d117", "d119", "later"]
    assert _ids(store.page(ListQuery("document", "t1", "ds", order="update_time"), 0, 2)) == ["later", "d119"]


def test_update_many_moves_items_between_views_and_counts_stay_exact(store: Any) -> None:
    from ragcore.ports import Tally

    store.put("dataset", "t1", {"id": "ds", "document_count": 0})
    docs = [{"id": f"d{i}", "name": f"n{i}.txt", "run": "UNSTART", "suffix": "txt", "create_time": i, "update_time": i}
            for i in range(30)]  # more than one transaction's worth on DynamoDB
    store.put_many("document", "t1", docs, parent="ds", tally=lambda it: Tally("dataset", "ds", {"document_count": 1}))
    assert store.get("dataset", "t1", "ds")["document_count"] == 30  # each document's count written with it
    changed = store.update_many("document", "t1", {f"d{i}": {"run": "RUNNING", "update_time": 100 + i}
                                                   for i in range(0, 30, 2)} | {"missing": {"run": "RUNNING"}})
    assert sorted(changed) == sorted(f"d{i}" for i in range(0, 30, 2))  # only what exists, nothing created
    assert changed["d4"]["run"] == "RUNNING" and changed["d4"]["name"] == "n4.txt"
    assert store.get("document", "t1", "missing") is None
    running = ListQuery("document", "t1", "ds", where={"run": ["RUNNING"]})
    assert store.count(running) == 15 and store.count(ListQuery("document", "t1", "ds", where={"run": ["UNSTART"]})) == 15
    assert _ids(store.page(running, 0, 3)) == ["d28", "d26", "d24"]
    by_update = _ids(store.page(ListQuery("document", "t1", "ds", order="update_time"), 0, 30))
    assert by_update[:2] == ["d28", "d26"] and by_update[15:17] == ["d29", "d27"]  # moved ones first, newest first
    assert store.count(ListQuery("document", "t1", "ds")) == 30


def test_chunk_pages_across_the_head_range_and_with_items_from_before_head_nodes(
        store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document's chunks (positions from 0) count in head nodes on DynamoDB; chunks written before head nodes
    existed keep their paths. Mixed in one view, moved between runs and deleted, every page is still exact."""
    import ragcore.adapters.dynamodb_store as dynamodb_store

    def chunk(i: int) -> dict[str, Any]:
        return {"id": f"c{i}", "order": i, "_run": 1, "available": True, "create_time": i}

    positions = [*range(0, 600, 3), *range(100_000, 100_005)]  # below and above the head range, and a second task
    with monkeypatch.context() as before_heads:
        before_heads.setattr(dynamodb_store, "_heads", lambda kind: False)
        store.put_many("chunk", "t1", [chunk(i) for i in positions[::2]], parent="doc")
    store.put_many("chunk", "t1", [chunk(i) for i in positions[1::2]], parent="doc")
    moved, deleted = set(positions[:40:4]), set(positions[40:80:5])
    for i in moved:
        store.update("chunk", "t1", f"c{i}", {"_run": 2})
    for i in deleted:
        assert store.delete("chunk", "t1", f"c{i}")
    for run in (1, 2):
        want = [f"c{i}" for i in positions if i not in deleted and (i in moved) == (run == 2)]
        for desc in (False, True):
            q = ListQuery("chunk", "t1", "doc", desc=desc, where={"_run": [run]})
            assert store.count(q) == len(want)
            ordered = want[::-1] if desc else want
            for offset in sorted({0, 1, 7, 63, 127, 128, 170, max(len(want) - 3, 0)}):
                for size in (1, 10, 64):
                    assert _ids(store.page(q, offset, size)) == ordered[offset : offset + size], (run, desc, offset, size)


def test_update_many_when_and_tally_update_only_what_still_qualifies_and_count_it_once(store: Any) -> None:
    from ragcore.ports import Tally

    store.put("dataset", "t1", {"id": "ds", "chunk_count": 0})
    docs = [{"id": f"d{i}", "name": f"n{i}.txt", "run": "RUNNING", "suffix": "txt", "create_time": i, "update_time": i,
             "chunk_count": 0} for i in range(30)]
    store.put_many("document", "t1", docs, parent="ds")
    store.update("document", "t1", "d3", {"run": "CANCEL"})  # stopped meanwhile: not ended, not counted

    def end(n: int) -> dict[str, dict[str, Any]]:
        return {f"d{i}": {"run": "DONE", "chunk_count": i, "update_time": 100 + i} for i in range(n)}

    def running(doc: dict[str, Any]) -> bool:
        return doc["run"] == "RUNNING"

    def counts(doc: dict[str, Any]) -> Tally:
        return Tally("dataset", "ds", {"chunk_count": doc["chunk_count"]})

    ended = store.update_many("document", "t1", end(30), when=running, tally=counts)
    assert sorted(ended) == sorted(f"d{i}" for i in range(30) if i != 3)
    assert store.get("document", "t1", "d3")["run"] == "CANCEL" and store.get("document", "t1", "d3")["chunk_count"] == 0
    assert store.get("dataset", "t1", "ds")["chunk_count"] == sum(range(30)) - 3
    assert store.update_many("document", "t1", end(30), when=running, tally=counts) == {}  # a redelivery: nothing twice
    assert store.get("dataset", "t1", "ds")["chunk_count"] == sum(range(30)) - 3
    assert store.count(ListQuery("document", "t1", "ds", where={"run": ["DONE"]})) == 29
