"""Flat cost at scale: request latency on the local server and items read on the AWS adapters, as a dataset grows.

For each N (documents in one dataset) the same deployment also holds one document of 20,000 chunks (NFCorpus
abstract sentences; random unit vectors, so building it costs no embedding), one chat with 10,000 sessions and one
folder with 10,000 files. Everything is written through the store's bulk import. Then each request below runs
--runs times:

- local: the real server (`ragflow-serverless serve`, its own process on loopback: SQLite + the local index + the
  builtin embedder), p50/p95 in ms from a client in this process;
- AWS: the same app on DynamoDB (moto) and Pinecone (the tests' fake data plane), items read per request as the
  adapters count them (ragcore.usage; latency under an emulator means nothing).

    .venv/bin/python bench/scale.py [--sizes 1000,10000,100000] [--runs 30] [--no-aws]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
NFCORPUS = ROOT.parent / "shared" / "data" / "nfcorpus"
CHUNKS, SESSIONS, FILES = 20_000, 10_000, 10_000
Request = tuple[str, str, str, dict[str, Any]]  # label, method, path, httpx keyword arguments


def _unit(rng: random.Random, dim: int = 384) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(dim)]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def _sentences(limit: int) -> list[str]:
    out: list[str] = []
    with (NFCORPUS / "corpus.jsonl").open() as fh:
        for line in fh:
            text = json.loads(line)["text"]
            out.extend(s.strip() + "." for s in text.split(". ") if len(s.split()) > 6)
            if len(out) >= limit:
                return out[:limit]
    while len(out) < limit:  # a small corpus repeats
        out.extend(out[: limit - len(out)])
    return out


def _queries(n: int) -> list[str]:
    with (NFCORPUS / "queries.jsonl").open() as fh:
        return [json.loads(line)["text"] for line in fh][:n]


def seed(n_docs: int) -> dict[str, str]:
    """The deployment the container points at: returns the ids the requests name."""
    from ragcore import bootstrap
    from ragcore.bootstrap.container import get_container
    from ragcore.domain.datasets import CreateDataset
    from ragcore.domain.files import CreateFolderReq
    from ragcore.domain.kinds import CHUNK as CHUNK_KIND
    from ragcore.domain.kinds import DATASET as DATASET_KIND
    from ragcore.domain.kinds import DOCUMENT as DOC_KIND
    from ragcore.domain.kinds import FILE as FILE_KIND
    from ragcore.ids import http_date, new_id, now_ms
    from ragcore.ports import IndexRecord
    from ragcore.services.conversation.chats import SESSION
    from ragcore.services.knowledge.chunks.store import prepare

    container = get_container()
    store = container.store
    tenant = bootstrap.tenants().create_tenant("bench")
    key = bootstrap.tenants().create_key(tenant).key
    ds = bootstrap.datasets().create(tenant, CreateDataset(name="scale"))["id"]
    ms = now_ms()
    rng = random.Random(1)

    def doc(i: int, name: str, run: str, chunk_count: int) -> dict[str, Any]:
        return {"id": new_id(), "name": name, "location": name, "type": "doc", "suffix": "txt", "size": 10, "source_type": "local",
                "status": "1", "run": run, "dataset_id": ds, "knowledgebase_id": ds, "chunk_method": "naive",
                "parser_config": {}, "chunk_count": chunk_count, "token_count": 0, "created_by": tenant, "progress": 1.0 if run == "DONE" else 0.0,
                "progress_msg": "", "meta_fields": {}, "create_time": ms + i, "create_date": http_date(ms), "update_time": ms + i,
                "update_date": http_date(ms), "process_begin_at": None, "process_duration": 0.0, "_blob": "", "_run_id": 1}

    big = doc(-1, "nfcorpus.txt", "DONE", CHUNKS)
    docs = [big] + [doc(i, f"note_{i:06d}.txt", "DONE" if i % 4 == 0 else "UNSTART", 0) for i in range(n_docs - 1)]
    for start in range(0, len(docs), 5000):
        store.import_items(DOC_KIND, tenant, docs[start : start + 5000], parent=ds)
    rows, records = [], []
    for n, text in enumerate(_sentences(CHUNKS)):
        row = prepare({"id": new_id(), "content": text, "document_id": big["id"], "dataset_id": ds, "docnm_kwd": big["name"],
                       "important_keywords": [], "questions": [], "tag_kwd": [], "available": True, "create_time": ms, "order": n,
                       "_run": 1})
        rows.append(row)
        records.append(IndexRecord(id=row["id"], dataset_id=ds, document_id=big["id"], content=text, vector=_unit(rng),
                                   available=True, document_available=True, meta={}))
    for start in range(0, CHUNKS, 2000):
        store.import_items(CHUNK_KIND, tenant, rows[start : start + 2000], parent=big["id"])
        container.index.upsert(tenant, records[start : start + 2000])
    store.increment(DATASET_KIND, tenant, ds, {"document_count": n_docs, "chunk_count": CHUNKS})
    chat = bootstrap.chats().create(tenant, {"name": "busy", "dataset_ids": [ds]})["id"]
    store.import_items(SESSION, tenant, [{"id": new_id(), "chat_id": chat, "name": f"session {n}", "user_id": f"user{n % 50}",
                                          "messages": [], "reference": [], "create_time": ms + n, "update_time": ms + n}
                                         for n in range(SESSIONS)], parent=chat)
    folder = bootstrap.files().create(tenant, CreateFolderReq(name="archive", type="folder"))["id"]
    store.import_items(FILE_KIND, tenant, [{"id": new_id(), "parent_id": folder, "name": f"file_{n:05d}.txt", "type": "doc",
                                            "size": 1, "location": "", "source_type": "", "tenant_id": tenant, "created_by": tenant,
                                            "create_time": ms + n, "update_time": ms + n} for n in range(FILES)], parent=folder)
    some = [d["id"] for d in docs[1:4]]
    return {"key": key, "dataset": ds, "big": big["id"], "doc": docs[len(docs) // 2]["id"], "poll": ",".join(some),
            "chat": chat, "folder": folder, "n": str(n_docs)}


def requests(ids: dict[str, str], question: Callable[[], str]) -> list[tuple[str, str, str, Callable[[], dict[str, Any]]]]:
    n, ds = int(ids["n"]), ids["dataset"]
    rng = random.Random(5)
    last = math.ceil(n / 30)
    docs = f"/api/v1/datasets/{ds}/documents"
    chunks = f"{docs}/{ids['big']}/chunks"
    sessions = f"/api/v1/chats/{ids['chat']}/sessions"
    return [
        ("documents: page 1", "GET", docs, lambda: {"params": {"page": 1, "page_size": 30}}),
        ("documents: last page", "GET", docs, lambda: {"params": {"page": last, "page_size": 30}}),
        ("documents: run=DONE, page 1", "GET", docs, lambda: {"params": {"run": "DONE", "page": 1, "page_size": 30}}),
        ("documents: keywords", "GET", docs, lambda: {"params": {"keywords": f"_{rng.randrange(1000):03d}", "page_size": 30}}),
        ("document: get by id", "GET", docs, lambda: {"params": {"id": ids["doc"]}}),
        ("parse-status poll (3 ids)", "GET", docs, lambda: {"params": [("ids", i) for i in ids["poll"].split(",")]}),
        ("retrieval", "POST", "/api/v1/retrieval", lambda: {"json": {"question": question(), "dataset_ids": [ds]}}),
        ("chunks (20k): page 1", "GET", chunks, lambda: {"params": {"page": 1, "page_size": 30}}),
        ("chunks (20k): last page", "GET", chunks, lambda: {"params": {"page": math.ceil(CHUNKS / 30), "page_size": 30}}),
        ("sessions (10k): page 1", "GET", sessions, lambda: {"params": {"page": 1, "page_size": 30}}),
        ("sessions (10k): last page", "GET", sessions, lambda: {"params": {"page": math.ceil(SESSIONS / 30), "page_size": 30}}),
        ("files (10k): page 1", "GET", "/api/v1/files", lambda: {"params": {"parent_id": ids["folder"], "page": 1, "page_size": 30}}),
        ("files (10k): last page", "GET", "/api/v1/files",
         lambda: {"params": {"parent_id": ids["folder"], "page": math.ceil(FILES / 30), "page_size": 30}}),
    ]


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def measure_local(n: int, runs: int, queries: list[str]) -> dict[str, tuple[float, float]]:
    """Seeds a data folder here, then measures `ragflow-serverless serve` on it: a server process of its own."""
    import subprocess

    import httpx
    from ragcore.bootstrap import container as container_module

    with tempfile.TemporaryDirectory() as data, environment({"DATA_DIR": data, "RAGFLOW_RUNTIME": "local", "LOG_LEVEL": "WARNING"}):
        container_module.reset()
        started = time.perf_counter()
        ids = seed(n)
        container_module.reset()
        print(f"  local: seeded {n:,} documents in {time.perf_counter() - started:.1f} s", flush=True)
        port = _free_port()
        server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "ragflow-serverless"), "serve"],
                                  env={**os.environ, "PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out: dict[str, tuple[float, float]] = {}
        rng = random.Random(3)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {ids['key']}"},
                              timeout=60) as client:
                _wait_healthy(client)
                for label, method, path, kwargs in requests(ids, lambda: rng.choice(queries)):
                    times = []
                    for attempt in range(runs + 2):
                        t0 = time.perf_counter()
                        reply = client.request(method, path, **kwargs()).json()
                        if attempt >= 2:  # two warm-ups (the first question loads the embedding model)
                            times.append((time.perf_counter() - t0) * 1000)
                        assert reply.get("code") == 0, (label, reply)
                    times.sort()
                    out[label] = (statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)])
        finally:
            server.terminate()
            server.wait(30)
    return out


def _wait_healthy(client: Any) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if client.get("/api/v1/system/healthz").status_code == 200:
                return
        except Exception:  # not listening yet
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def measure_aws(n: int, runs: int, queries: list[str]) -> dict[str, int]:
    import pytest
    from fastapi.testclient import TestClient

    import tests.fakes  # noqa: F401  (moto without its whole-table copies)
    from tests.aws.conftest import emulated_aws
    from tests.fakes.pinecone_server import FakePinecone

    fake = FakePinecone()
    mp = pytest.MonkeyPatch()
    reads: list[int] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found = re.search(r"items_read=(\d+)", record.getMessage())
            if found:
                reads.append(int(found.group(1)))

    logger = logging.getLogger("ragcore.usage")
    logger.addHandler(Lines())
    logger.setLevel(logging.DEBUG)
    out: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as data, emulated_aws(mp, "bench", "bench-bucket", {
        "DATA_DIR": data, "PINECONE_HOST": fake.url, "PINECONE_API_KEY": "k", "LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true"}):
        from functions.local import create_local_app

        started = time.perf_counter()
        ids = seed(n)
        print(f"  aws: seeded {n:,} documents in {time.perf_counter() - started:.1f} s", flush=True)
        rng = random.Random(3)
        with TestClient(create_local_app()) as client:
            headers = {"Authorization": f"Bearer {ids['key']}"}
            for label, method, path, kwargs in requests(ids, lambda: rng.choice(queries)):
                if "keywords" in label and n > 10_000:  # not flat on DynamoDB: it reads the collection (and moto
                    out[label] = -1                     # takes minutes to scan 100,000 items)
                    continue
                counts = []
                for _ in range(max(1, min(runs, 3))):
                    reads.clear()
                    reply = client.request(method, path, headers=headers, **kwargs()).json()
                    assert reply.get("code") == 0, (label, reply)
                    counts.append(reads[-1])
                out[label] = int(statistics.median(counts))
    mp.undo()
    fake.close()
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-aws", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    queries = _queries(200)
    local: dict[int, dict[str, tuple[float, float]]] = {}
    aws: dict[int, dict[str, int]] = {}
    for n in sizes:
        print(f"N = {n:,} documents", flush=True)
        local[n] = measure_local(n, args.runs, queries)
        for label, (p50, p95) in local[n].items():
            print(f"    {label}: {p50:.1f} / {p95:.1f} ms", flush=True)
        if not args.no_aws:
            aws[n] = measure_aws(n, args.runs, queries)
            for label, reads in aws[n].items():
                print(f"    {label}: {reads} items read", flush=True)
    labels = list(local[sizes[0]])
    print("\nLocal server, p50 / p95 ms (N = documents in the dataset):")
    print("| request | " + " | ".join(f"N={n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for label in labels:
        print(f"| {label} | " + " | ".join(f"{local[n][label][0]:.1f} / {local[n][label][1]:.1f}" for n in sizes) + " |")
    if aws:
        print("\nAWS adapters (DynamoDB under moto, Pinecone fake), items read per request:")
        print("| request | " + " | ".join(f"N={n:,}" for n in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for label in labels:
            print(f"| {label} | " + " | ".join(str(aws[n][label]) if aws[n][label] >= 0 else "the collection" for n in sizes) + " |")


if __name__ == "__main__":
    main()
