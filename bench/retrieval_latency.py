"""Retrieval latency through RetrievalService on the local runtime: p50/p95 at 10k and 100k chunks.

Chunks get random unit vectors (no embedding cost at build time) and text: `--text synthetic` draws English-like
words from a Zipf vocabulary; `--text nfcorpus` takes NFCorpus's abstracts (../shared/data/nfcorpus, read in place)
with their sentences shuffled, replicated up to the size, and asks NFCorpus's own questions. Each query is embedded
by the real local model, then searched (dense + FTS5), scored and paginated as /retrieval does.

    .venv/bin/python bench/retrieval_latency.py [--sizes 10000,100000] [--queries 200] [--text nfcorpus]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
# A Zipf-distributed vocabulary, as in real text: a few words everywhere, most words rare.
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "fu", "gi", "he", "ja"]


def _word(i: int) -> str:
    out = ""
    while True:
        i, r = divmod(i, len(SYLLABLES))
        out += SYLLABLES[r]
        if i == 0:
            return out + "x"


WORDS = [_word(i) for i in range(40_000)]
WEIGHTS = [1 / (rank + 1) ** 1.1 for rank in range(len(WORDS))]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, WEIGHTS, k=rng.randint(30, 80))) + "."


NFCORPUS = ROOT.parent / "shared" / "data" / "nfcorpus"


def nfcorpus_text() -> tuple[Callable[[random.Random], str], list[str]]:
    """A chunk maker (an abstract's sentences, shuffled) and NFCorpus's questions."""
    import json

    abstracts = [json.loads(line)["text"] for line in (NFCORPUS / "corpus.jsonl").open()]
    split = [[s for s in a.split(". ") if s] for a in abstracts if a]
    questions = [json.loads(line)["text"] for line in (NFCORPUS / "queries.jsonl").open()]

    def chunk(rng: random.Random) -> str:
        sentences = list(rng.choice(split))
        rng.shuffle(sentences)
        return ". ".join(sentences)

    return chunk, questions


def build(n: int, rng: random.Random, make: Callable[[random.Random], str] = sentence) -> tuple[str, str]:
    from ragcore.services import registry
    from ragcore.services.tenants import TenantService

    container = registry.get_container()
    tenant = TenantService(container.store).create_tenant(f"bench{n}")
    ds = registry.datasets().create(tenant, {"name": f"latency-{n}"})
    doc = registry.documents().create_from_bytes(tenant, ds["id"], "synthetic.txt", b"")
    store = registry.chunk_store()
    batch = 1000
    for start in range(0, n, batch):
        vecs = np.random.default_rng(start).standard_normal((batch, 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        rows = [{"id": f"{n:08d}{start + i:024x}", "content": make(rng), "document_id": doc["id"], "dataset_id": ds["id"],
                 "docnm_kwd": "synthetic.txt", "available": True} for i in range(batch)]
        store.write(tenant, rows, vecs.tolist(), {doc["id"]: doc})
    return tenant, ds["id"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--text", choices=["synthetic", "nfcorpus"], default="synthetic")
    args = parser.parse_args()
    make, questions = nfcorpus_text() if args.text == "nfcorpus" else (sentence, [])
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="latency-")
    from ragcore.services import registry

    rng = random.Random(7)
    for n in [int(s) for s in args.sizes.split(",")]:
        t0 = time.perf_counter()
        tenant, ds = build(n, rng, make)
        print(f"{n:>7} chunks built in {time.perf_counter() - t0:.0f}s")
        service = registry.retrieval()
        service.retrieve(tenant, question="warm up", dataset_ids=[ds])
        timings = []
        for _ in range(args.queries):
            question = rng.choice(questions) if questions else " ".join(rng.choices(WORDS[50:5000], k=rng.randint(2, 6)))
            started = time.perf_counter()
            service.retrieve(tenant, question=question, dataset_ids=[ds])
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"{n:>7} chunks: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {len(timings)} queries (goal p95 ≤ 50 ms at 100k)")


if __name__ == "__main__":
    main()
