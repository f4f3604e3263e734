"""The connector scheduler's due index on both stores (SQLite, DynamoDB under moto): a tick reads one page in due
order, starts exactly the due connectors' runs, moves them on by their refresh_freq, and reads the same few items
however many connectors are not due."""

from __future__ import annotations

from typing import Any

from ragcore import usage
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.ids import now_ms
from ragcore.services.connectors.model import CONNECTOR_KIND, DUE_KIND, DUE_TENANT, LINK_KIND, Status
from ragcore.services.connectors.service import ConnectorService
from ragcore.services.connectors.sync import link_id


class Queue:
    def __init__(self) -> None:
        self.tasks: list[dict[str, Any]] = []

    def submit(self, task: dict[str, Any]) -> None:
        self.tasks.append(task)


class Plain:
    def encrypt(self, text: str) -> str:
        return text

    def decrypt(self, token: str) -> str:
        return token


def service(store: Any, queue: Queue) -> ConnectorService:
    def no_sources(source: str, config: dict[str, Any]) -> Any:
        raise AssertionError("the scheduler never talks to a source")

    return ConnectorService(store, cipher=Plain, sources=no_sources, queue=lambda: queue)


def connector(store: Any, svc: ConnectorService, tenant: str, n: int, due_ms: int, refresh: int = 5) -> str:
    cid = f"{n:032x}"
    store.put(CONNECTOR_KIND, tenant, {"id": cid, "tenant_id": tenant, "name": f"c{n}", "source": "rss", "config": {},
                                       "refresh_freq": refresh, "prune_freq": 5, "status": Status.SCHEDULE})
    store.put(DATASET_KIND, tenant, {"id": f"{n:031x}d", "name": f"ds{n}"})
    store.put(LINK_KIND, tenant, {"id": link_id(cid, f"{n:031x}d"), "connector_id": cid, "kb_id": f"{n:031x}d",
                                  "auto_parse": "1", "active_run": None, "create_time": n}, parent=cid)
    svc._set_due(tenant, cid, due_ms)
    return cid


def test_tick_starts_only_due_connectors_in_due_order(store: Any) -> None:
    queue = Queue()
    svc = service(store, queue)
    now = now_ms()
    late = connector(store, svc, "tenant-a", 1, now - 60_000)
    later = connector(store, svc, "tenant-b", 2, now - 1_000, refresh=10)
    future = connector(store, svc, "tenant-a", 3, now + 3_600_000)
    assert svc.tick() == 2
    assert sorted(t["tenant"] for t in queue.tasks) == ["tenant-a", "tenant-b"]
    assert {t["type"] for t in queue.tasks} == {"connector_sync"}
    # moved on by refresh_freq; the future one untouched
    due = {cid: store.get(DUE_KIND, DUE_TENANT, cid)["due_ms"] for cid in (late, later, future)}
    assert now + 5 * 60_000 <= due[late] < now + 6 * 60_000 and now + 10 * 60_000 <= due[later] < now + 11 * 60_000
    assert due[future] == now + 3_600_000
    assert svc.tick() == 0 and len(queue.tasks) == 2
    # a cancelled connector leaves the index at its next due time
    store.update(CONNECTOR_KIND, "tenant-a", late, {"status": Status.CANCEL})
    store.put(DUE_KIND, DUE_TENANT, {**store.get(DUE_KIND, DUE_TENANT, late), "due_ms": 0, "due": f"{0:016d}:{late}"})
    assert svc.tick() == 1 and store.get(DUE_KIND, DUE_TENANT, late) is None and len(queue.tasks) == 2


def test_tick_reads_a_page_not_every_connector(store: Any) -> None:
    queue = Queue()
    svc = service(store, queue)
    now = now_ms()
    for n in range(1, 41):  # forty connectors, none due
        svc._set_due(f"tenant-{n % 3}", f"{n:032x}", now + n * 60_000)
    meter = usage.start()
    assert svc.tick(limit=50) == 0
    idle_reads = meter.items_read
    for n in range(41, 121):  # eighty more, none due: the tick reads no more
        svc._set_due(f"tenant-{n % 3}", f"{n:032x}", now + n * 60_000)
    meter = usage.start()
    assert svc.tick(limit=50) == 0
    assert meter.items_read == idle_reads <= 20  # the head of the index: ten keys and their items on DynamoDB
