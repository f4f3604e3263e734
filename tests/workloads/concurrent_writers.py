"""Concurrent writers on one dataset, through the services and whichever adapters the container runs (SQLite
locally, DynamoDB + S3 + SQS on AWS): each client thread uploads its documents one by one, deletes every third
one it uploaded and reads the list every fourth step; then every acknowledged write is counted back.

What a user must see afterwards (`problems` names any breach): every acknowledged upload not acknowledged as
deleted is listed exactly once (0 lost, 0 duplicated), nothing else is listed (0 ghosts: no deleted document, no
upload that answered an error), the list's `total` and the dataset's `document_count` and size are exact. While
the run goes on, each list page a client reads holds no document twice, none that client has deleted, and a
total no smaller than what that client alone still holds. Used by tests/aws/test_concurrent_writers.py and
bench/concurrent_writers.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

DELETE_EVERY = 3
LIST_EVERY = 4
PAGE = 30


@dataclass
class Outcome:
    clients: int
    uploads: int = 0  # acknowledged
    deletes: int = 0  # acknowledged
    lists: int = 0
    seconds: float = 0.0
    retries: int = 0  # requests the store sent again (throttled or contended)
    live: dict[str, int] = field(default_factory=dict)  # document id → size: acknowledged, not deleted
    gone: set[str] = field(default_factory=set)  # acknowledged deletes
    refused: list[str] = field(default_factory=list)  # writes answered with an error (their reasons)
    during: list[str] = field(default_factory=list)  # inconsistencies seen by a list read while the run went on
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def writes(self) -> int:
        return self.uploads + self.deletes


@contextmanager
def local_workers() -> Iterator[None]:
    """The local runtime's parse worker pool as `make serve` runs it: a delete's purge runs beside the writers."""
    from ragcore import bootstrap
    from ragcore.adapters.local_queue import LocalJobQueue

    queue = LocalJobQueue(bootstrap.ingestion().handle_batch, workers=2)
    bootstrap.get_container().set_queue(queue)
    try:
        yield
    finally:
        queue.stop()


def run(tenant: str, dataset_id: str, *, clients: int, uploads: int) -> Outcome:
    """`clients` threads × `uploads` uploads each (with deletes and list reads interleaved), all started at once."""
    outcome = Outcome(clients=clients)
    start = threading.Barrier(clients)
    threads = [threading.Thread(target=_client, args=(tenant, dataset_id, n, uploads, start, outcome)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.seconds = time.perf_counter() - began
    return outcome


def _client(tenant: str, dataset_id: str, n: int, uploads: int, start: threading.Barrier, outcome: Outcome) -> None:
    from ragcore import bootstrap, usage
    from ragcore.errors import ApiError, StorageError

    meter = usage.start()  # this thread's own count of the store's retries
    documents = bootstrap.documents()
    mine: list[str] = []  # this client's live documents, oldest first
    deleted: set[str] = set()
    start.wait()
    try:
        for i in range(uploads):
            data = f"client {n} document {i}\n".encode() * (1 + i % 3)
            try:
                [doc] = documents.upload(tenant, dataset_id, [(f"w{n}-{i}.txt", data)])
            except (ApiError, StorageError) as exc:
                with outcome.lock:
                    outcome.refused.append(f"upload w{n}-{i}: {exc}")
                continue
            mine.append(doc["id"])
            with outcome.lock:
                outcome.uploads += 1
                outcome.live[doc["id"]] = len(data)
            if i % DELETE_EVERY == DELETE_EVERY - 1:
                victim = mine.pop(0)
                try:
                    documents.delete(tenant, dataset_id, {"ids": [victim]})
                except (ApiError, StorageError) as exc:
                    mine.insert(0, victim)
                    with outcome.lock:
                        outcome.refused.append(f"delete {victim}: {exc}")
                else:
                    deleted.add(victim)
                    with outcome.lock:
                        outcome.deletes += 1
                        outcome.live.pop(victim, None)
                        outcome.gone.add(victim)
            if i % LIST_EVERY == LIST_EVERY - 1:
                _read_list(documents, tenant, dataset_id, len(mine), deleted, outcome)
    finally:
        with outcome.lock:
            outcome.retries += meter.retries


def _read_list(documents: Any, tenant: str, dataset_id: str, holding: int, deleted: set[str], outcome: Outcome) -> None:
    from ragcore.errors import ApiError, StorageError

    try:
        page, total = documents.list(tenant, dataset_id, {"page": 1, "page_size": PAGE}, {})
    except (ApiError, StorageError) as exc:
        with outcome.lock:
            outcome.refused.append(f"list: {exc}")
        return
    ids = [d["id"] for d in page]
    seen: list[str] = []
    if len(set(ids)) != len(ids):
        seen.append(f"a page listed a document twice: {ids}")
    if set(ids) & deleted:
        seen.append(f"a page listed documents its client had deleted: {set(ids) & deleted}")
    if total < holding:
        seen.append(f"total {total} while one client alone holds {holding}")
    with outcome.lock:
        outcome.lists += 1
        outcome.during.extend(seen)


def problems(tenant: str, dataset_id: str, outcome: Outcome) -> list[str]:
    """Every breach of what a user must see after the run (an empty list: none)."""
    from ragcore import bootstrap

    documents = bootstrap.documents()
    listed: list[str] = []
    totals: set[int] = set()
    page = 1
    while True:
        docs, total = documents.list(tenant, dataset_id, {"page": page, "page_size": 100}, {})
        totals.add(total)
        listed.extend(d["id"] for d in docs)
        if len(docs) < 100:
            break
        page += 1
    dataset = documents.dataset(tenant, dataset_id, "no dataset {id}")
    expected = set(outcome.live)
    found: list[str] = list(outcome.during) + list(outcome.refused)
    lost = expected - set(listed)
    ghosts = set(listed) - expected
    twice = len(listed) - len(set(listed))
    if lost:
        found.append(f"{len(lost)} lost: {sorted(lost)[:5]}")
    if twice:
        found.append(f"{twice} listed twice")
    if ghosts:
        found.append(f"{len(ghosts)} ghosts ({len(ghosts & outcome.gone)} of them deleted): {sorted(ghosts)[:5]}")
    if totals != {len(expected)}:
        found.append(f"total {sorted(totals)} for {len(expected)} documents")
    if int(dataset.get("document_count", 0)) != len(expected):
        found.append(f"document_count {dataset.get('document_count')} for {len(expected)} documents")
    if int(dataset.get("_size_total", 0)) != sum(outcome.live.values()):
        found.append(f"size {dataset.get('_size_total')} for {sum(outcome.live.values())} bytes")
    return found
