"""Incremental connector sync: an S3 prefix of N objects (default 1,000) synced into a dataset, then 10 edited and
10 deleted and synced again. Prints, for each run: its time (from SCHEDULE until the run and every parse it queued
are done), the source listing calls, the objects downloaded, the documents parsed and removed.

    .venv/bin/python bench/connectors_sync.py [--objects 1000] [--changed 10]

Runs the services and the worker pool of `make serve` in this process (temporary DATA_DIR), against a real S3
endpoint on loopback (moto's server). The goal (issue #33): the second run parses exactly the changed objects,
removes the deleted ones, lists the source once and takes at most 10 % of the first run's time.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

TOPICS = ["wombats", "quokkas", "platypuses", "echidnas", "bilbies", "numbats", "dingoes", "kookaburras", "emus", "koalas"]


def body(n: int, version: int = 1) -> bytes:
    topic = TOPICS[n % len(TOPICS)]
    return (f"Field note {n} (revision {version}).\n\nThe {topic} of site {n} were counted at dawn; "
            f"{n % 17 + version} adults and {n % 5} young were seen near marker {n * 7 % 101}.\n").encode()


class Counters:
    def __init__(self) -> None:
        self.listings = 0
        self.fetches = 0
        self.parses = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=10)
    args = parser.parse_args()
    os.environ.update({"DATA_DIR": tempfile.mkdtemp(prefix="connector-bench-"), "CONNECTOR_ALLOWED_HOSTS": "127.0.0.1",
                       "CONNECTOR_TICK_S": "3600", "INBOX_POLL_S": "3600"})

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    import boto3
    from fastapi.testclient import TestClient
    from moto.server import ThreadedMotoServer
    from ragcore import bootstrap
    from ragcore.adapters.sources import s3 as s3_source
    from ragcore.services.ingestion.pipeline import IngestionService

    from functions.local import create_local_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    s3.create_bucket(Bucket="field-notes")
    for n in range(args.objects):
        s3.put_object(Bucket="field-notes", Key=f"notes/note-{n:05d}.txt", Body=body(n))

    counts = Counters()
    real_list, real_fetch, real_handle = s3_source.S3Source.list_page, s3_source.S3Source.fetch, IngestionService.handle

    def listing(self: Any, cursor: str | None) -> Any:
        counts.listings += 1
        return real_list(self, cursor)

    def fetch(self: Any, item: Any) -> bytes:
        counts.fetches += 1
        return real_fetch(self, item)

    def handle(self: Any, task: dict[str, Any]) -> None:
        if task.get("type") == "plan":
            counts.parses += 1
        real_handle(self, task)

    s3_source.S3Source.list_page, s3_source.S3Source.fetch, IngestionService.handle = listing, fetch, handle  # type: ignore[method-assign]

    tenant = bootstrap.tenants().create_tenant("bench")
    key = bootstrap.tenants().create_key(tenant).key
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_local_app()) as client:
        def call(method: str, path: str, **kw: Any) -> Any:
            reply = client.request(method, path, headers=headers, **kw).json()
            assert reply["code"] == 0, reply
            return reply["data"]

        ds = call("POST", "/api/v1/datasets", json={"name": "field notes"})["id"]
        conn = call("POST", "/api/v1/connectors", json={"name": "notes", "source": "s3", "prune_freq": 0, "config": {
            "bucket_type": "s3_compatible", "bucket_name": "field-notes", "prefix": "notes/", "sync_deleted_files": True,
            "credentials": {"endpoint_url": endpoint, "aws_access_key_id": "x", "aws_secret_access_key": "x",
                            "addressing_style": "path"}}})["id"]

        def run(start: Any, runs: int) -> tuple[float, dict[str, Any]]:
            before = Counters()
            before.__dict__.update(counts.__dict__)
            t0 = time.perf_counter()
            start()
            while True:
                logs = call("GET", f"/api/v1/connectors/{conn}/logs")["logs"]
                ended = [r for r in logs if r["status"] in ("2", "3", "4")]
                if len(ended) >= runs and logs[0]["status"] in ("3", "4"):
                    busy = call("GET", f"/api/v1/datasets/{ds}/documents", params={"run": ["RUNNING", "UNSTART"],
                                                                                    "page_size": 1})["total"]
                    if not busy:
                        break
                time.sleep(0.05)
            elapsed = time.perf_counter() - t0
            row = logs[0]
            print(f"  {elapsed:7.2f} s; listing calls {counts.listings - before.listings}, objects downloaded "
                  f"{counts.fetches - before.fetches}, documents parsed {counts.parses - before.parses}; log: added "
                  f"{row['docs_added']}, updated {row['docs_updated']}, unchanged {row['docs_unchanged']}, removed "
                  f"{row['docs_removed']}, failed {row['docs_failed']}")
            return elapsed, row

        print(f"first run: {args.objects} new objects")
        first, _ = run(lambda: call("PUT", f"/api/v1/datasets/{ds}", json={"connectors": [{"id": conn}]}), 1)
        for n in range(args.changed):
            s3.put_object(Bucket="field-notes", Key=f"notes/note-{n:05d}.txt", Body=body(n, 2))
            s3.delete_object(Bucket="field-notes", Key=f"notes/note-{args.objects - 1 - n:05d}.txt")
        print(f"second run: {args.changed} edited, {args.changed} deleted")
        parses_before = counts.parses
        second, row = run(lambda: call("PATCH", f"/api/v1/connectors/{conn}", json={"status": "SCHEDULE"}), 2)
        total = call("GET", f"/api/v1/datasets/{ds}")["document_count"]
        print(f"second / first: {second / first * 100:.1f} % (goal ≤ 10 %); documents parsed {counts.parses - parses_before} "
              f"(goal {args.changed}); removed {row['docs_removed']} (goal {args.changed}); dataset now {total} documents")
    server.stop()


if __name__ == "__main__":
    main()
