"""Retrieval quality on NFCorpus (BEIR): nDCG@10 and recall@100 for term-only, vector-only and hybrid.

Reads ../shared/data/nfcorpus (never copied into the repo). Builds a temporary local dataset through the
same services the API uses (one chunk per corpus document: title + text), then asks every test query
through RetrievalService with vector_similarity_weight 0 (term only), 1 (vector only) and the hybrid
weights. BM25's nDCG@10 on this collection is 0.320 (the bar the hybrid must beat).

    .venv/bin/python bench/retrieval_quality.py [--limit-queries N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "nfcorpus"


def load() -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:  # type: ignore[type-arg]
    corpus = [json.loads(line) for line in (DATA / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (DATA / "queries.jsonl").open())}
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (DATA / "qrels" / "test.tsv").open() as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.strip().split("\t")
            qrels[qid][did] = int(score)
    return corpus, queries, qrels


def ndcg_at_10(ranked: list[str], rel: dict[str, int]) -> float:
    dcg = sum((2 ** rel.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_100(ranked: list[str], rel: dict[str, int]) -> float:
    relevant = {d for d, g in rel.items() if g > 0}
    return len(relevant & set(ranked[:100])) / len(relevant) if relevant else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit-queries", type=int, default=0)
    parser.add_argument("--weights", default="0,1,0.3,0.5")
    args = parser.parse_args()
    corpus, queries, qrels = load()
    tmp = tempfile.mkdtemp(prefix="rq-")
    os.environ["DATA_DIR"] = tmp
    sys.path.insert(0, str(ROOT / "shared"))
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset
    from ragcore.services.accounts.tenants import TenantService

    container = bootstrap.get_container()
    tenant = TenantService(container.store).create_tenant("bench")
    ds = bootstrap.datasets().create(tenant, CreateDataset(name="nfcorpus"))
    doc = bootstrap.documents().create_from_bytes(tenant, ds["id"], "nfcorpus.txt", b"")
    embedder = container.embedder_for(ds["embedding_model"])
    store = bootstrap.chunk_store()
    t0 = time.perf_counter()
    by_chunk: dict[str, str] = {}
    batch = 64
    for start in range(0, len(corpus), batch):
        part = corpus[start : start + batch]
        rows = []
        for n, item in enumerate(part):
            cid = f"{start + n:032x}"
            by_chunk[cid] = item["_id"]
            rows.append({"id": cid, "content": f"{item['title']}\n{item['text']}", "document_id": doc["id"],
                         "dataset_id": ds["id"], "docnm_kwd": "nfcorpus.txt", "available": True})
        store.write(tenant, rows, embedder.embed([r["content"] for r in rows]), {doc["id"]: doc})
    build_s = time.perf_counter() - t0
    print(f"indexed {len(corpus)} documents in {build_s:.1f}s ({len(corpus) / build_s:.0f} chunks/s)")
    test_ids = [q for q in qrels if q in queries]
    if args.limit_queries:
        test_ids = test_ids[: args.limit_queries]
    service = bootstrap.retrieval()
    for weight in [float(w) for w in args.weights.split(",")]:
        ndcg = recall = 0.0
        t1 = time.perf_counter()
        for qid in test_ids:
            res = service.retrieve(tenant, question=queries[qid], dataset_ids=[ds["id"]], page_size=100,
                                   similarity_threshold=0.0, vector_similarity_weight=weight, top_k=1024)
            ranked = [by_chunk[c["id"]] for c in res["chunks"]]
            ndcg += ndcg_at_10(ranked, qrels[qid])
            recall += recall_at_100(ranked, qrels[qid])
        n = len(test_ids)
        label = {0.0: "term only", 1.0: "vector only"}.get(weight, f"hybrid w={weight}")
        print(f"{label:16} nDCG@10 {ndcg / n:.4f}  recall@100 {recall / n:.4f}  "
              f"({(time.perf_counter() - t1) / n * 1000:.1f} ms/query, {n} queries)")


if __name__ == "__main__":
    main()
