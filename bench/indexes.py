"""Dataset-level index builds: knowledge graph, mind map and RAPTOR (extractive summaries, no chat model) over
NFCorpus abstracts, through the same service the parse workers run.

    .venv/bin/python bench/indexes.py [--docs 1000]

Reads ../shared/data/nfcorpus (never copied into the repo); a temporary DATA_DIR holds everything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
DATA = ROOT.parent / "shared" / "data" / "nfcorpus"
PER_DOCUMENT = 50


class Jobs:
    """A queue that keeps the jobs, so each build is timed on its own."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def submit(self, task: dict[str, Any]) -> None:
        self.jobs.append(task)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1000)
    args = parser.parse_args()
    with (DATA / "corpus.jsonl").open() as f:
        corpus = [json.loads(line) for _, line in zip(range(args.docs), f, strict=False)]
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="index-bench-")
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset
    from ragcore.services.accounts.tenants import TenantService

    container = bootstrap.get_container()
    jobs = Jobs()
    container.set_queue(jobs)
    tenant = TenantService(container.store).create_tenant("bench")
    ds = bootstrap.datasets().create(tenant, CreateDataset(name="nfcorpus"))
    embedder = container.embedder_for(ds["embedding_model"])
    store = bootstrap.chunk_store()
    t0 = time.perf_counter()
    for start in range(0, len(corpus), PER_DOCUMENT):
        part = corpus[start : start + PER_DOCUMENT]
        doc = bootstrap.documents().create_from_bytes(tenant, ds["id"], f"part-{start // PER_DOCUMENT}.txt", b"")
        rows = [{"id": f"{start + n:032x}", "content": f"{item['title']}\n{item['text']}", "document_id": doc["id"],
                 "dataset_id": ds["id"], "docnm_kwd": doc["name"], "available": True} for n, item in enumerate(part)]
        store.write(tenant, rows, embedder.embed([r["content"] for r in rows]), {doc["id"]: doc})
    print(f"indexed {len(corpus)} abstracts in {time.perf_counter() - t0:.1f}s")
    service = bootstrap.index_tasks()
    for kind in ("graph", "mindmap", "raptor"):
        service.run(tenant, ds["id"], kind)
        t1 = time.perf_counter()
        service.handle(jobs.jobs.pop())
        took = time.perf_counter() - t1
        task = service.trace(tenant, ds["id"], kind)
        summary = task["progress_msg"].splitlines()[-2].split(" ", 1)[1]
        print(f"{kind:8} {took:6.2f}s  progress {task['progress']}  {summary}")


if __name__ == "__main__":
    main()
