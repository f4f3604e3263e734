"""Load: concurrent clients on loopback create datasets, upload and parse documents, and query retrieval for a
bounded time; then every write is counted back. Prints throughput, p50/p95 per operation, errors, lost and
duplicated writes.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 30] [--base-url URL --api-key KEY]

Without --base-url it starts `ragflow-serverless serve` on a free port with a temporary DATA_DIR.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
TEXT = b"Rivers of the world. The Nile flows north through Africa. The Amazon carries the most water of any river.\n"


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    datasets: dict[str, int] = field(default_factory=dict)  # dataset id -> documents uploaded into it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, op: str, client: httpx.Client, method: str, url: str, **kw: object) -> dict | None:  # type: ignore[type-arg]
        started = time.perf_counter()
        try:
            res = client.request(method, url, **kw)  # type: ignore[arg-type]
            body = res.json()
        except (httpx.HTTPError, ValueError) as exc:
            with self.lock:
                self.errors.append(f"{op}: {type(exc).__name__}: {exc}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[op].append(elapsed)
            if res.status_code != 200 or body.get("code") != 0:
                self.errors.append(f"{op}: HTTP {res.status_code} {str(body)[:200]}")
                return None
        return body  # type: ignore[no-any-return]


def client_loop(base: str, key: str, n: int, deadline: float, tally: Tally) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        round_ = 0
        while time.time() < deadline:
            round_ += 1
            made = tally.timed("create_dataset", c, "POST", "/api/v1/datasets", json={"name": f"load-{n}-{round_}"})
            if made is None:
                continue
            ds = made["data"]["id"]
            with tally.lock:
                tally.datasets[ds] = 0
            up = tally.timed("upload", c, "POST", f"/api/v1/datasets/{ds}/documents", files={"file": (f"doc-{n}-{round_}.txt", TEXT)})
            if up is None:
                continue
            with tally.lock:
                tally.datasets[ds] += 1
            doc = up["data"][0]["id"]
            tally.timed("parse", c, "POST", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [doc]})
            tally.timed("retrieve", c, "POST", "/api/v1/retrieval", json={"question": "Which river carries the most water?",
                                                                          "dataset_ids": [ds], "similarity_threshold": 0})
            tally.timed("list_datasets", c, "GET", "/api/v1/datasets", params={"page_size": 10})


def verify(base: str, key: str, tally: Tally, settle_s: float = 120) -> dict[str, int]:
    """Every dataset and document written is there exactly once, and every document parsed to one chunk."""
    lost = dup = unparsed = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        names: list[str] = []
        page = 1
        while True:
            batch = c.get("/api/v1/datasets", params={"page": page, "page_size": 100}).json()["data"]
            names += [d["id"] for d in batch]
            if len(batch) < 100:
                break
            page += 1
        present = set(names)
        dup += len(names) - len(present)
        lost += len(set(tally.datasets) - present)
        deadline = time.time() + settle_s
        for ds, uploaded in tally.datasets.items():
            while True:
                docs = c.get(f"/api/v1/datasets/{ds}/documents").json()["data"]["docs"]
                if all(d["run"] in ("DONE", "FAIL") for d in docs) or time.time() > deadline:
                    break
                time.sleep(0.2)
            lost += max(0, uploaded - len(docs))
            dup += max(0, len(docs) - uploaded)
            unparsed += sum(1 for d in docs if d["run"] != "DONE" or d["chunk_count"] != 1)
    return {"datasets": len(tally.datasets), "documents": sum(tally.datasets.values()), "lost": lost, "duplicated": dup,
            "not_parsed_to_one_chunk": unparsed}


def run_load(base: str, key: str, clients: int, seconds: float) -> tuple[Tally, dict[str, int], float]:
    tally = Tally()
    deadline = time.time() + seconds
    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(base, key, n, deadline, tally)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return tally, verify(base, key, tally), elapsed


def report(tally: Tally, counts: dict[str, int], elapsed: float, clients: int) -> None:
    total = sum(len(v) for v in tally.latencies.values())
    print(f"{clients} clients for {elapsed:.1f}s: {total} requests, {total / elapsed:.1f} req/s, {len(tally.errors)} errors")
    for op, values in sorted(tally.latencies.items()):
        values.sort()
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        print(f"  {op:<15} n={len(values):>5}  p50 {statistics.median(values):7.1f} ms  p95 {p95:7.1f} ms")
    print("  counts: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    for line in tally.errors[:5]:
        print("  error:", line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--base-url")
    parser.add_argument("--api-key")
    args = parser.parse_args()
    from machine import describe  # bench/ is on the path when a bench runs as a script

    print(describe())
    server = None
    base, key = args.base_url, args.api_key
    if not base:
        from tests.conftest import start_server

        server = start_server(Path(tempfile.mkdtemp(prefix="load-")) / "var")
        base, key = server.base_url, server.key
    try:
        tally, counts, elapsed = run_load(base, key, args.clients, args.seconds)
        report(tally, counts, elapsed, args.clients)
    finally:
        if server is not None:
            from tests.conftest import stop_server

            stop_server(server)


if __name__ == "__main__":
    main()
