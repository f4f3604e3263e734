"""Retrieval latency through RetrievalService on the local runtime: p50/p95, the serving process's memory, and
(past 200k chunks, where dense search turns approximate) recall@10 of the dense side against an exact scan.

`--text synthetic`: English-like words from a Zipf vocabulary and random unit vectors. `--text nfcorpus`:
NFCorpus's abstracts (../shared/data/nfcorpus, read in place) with their sentences shuffled, replicated up to the
size, each copy carrying its abstract's real embedding plus a little noise; NFCorpus's own questions are asked.

Each size is built in this process, then measured in a fresh one on the same DATA_DIR, as a restarted `make serve`
would answer: its first question (which loads the tenant's vectors) is timed apart from the rest.

    .venv/bin/python bench/retrieval_latency.py [--sizes 10000,100000,1000000] [--queries 200] [--text nfcorpus]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
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


Maker = Callable[[random.Random], tuple[str, "np.ndarray | None"]]


def synthetic_text() -> tuple[Maker, list[str]]:
    return (lambda rng: (sentence(rng), None)), []


def nfcorpus_text(cache: Path) -> tuple[Maker, list[str]]:
    """A chunk maker (an abstract's sentences shuffled, with the abstract's embedding) and NFCorpus's questions."""
    import json

    abstracts = [a for a in (json.loads(line)["text"] for line in (NFCORPUS / "corpus.jsonl").open()) if a]
    split = [[s for s in a.split(". ") if s] for a in abstracts]
    questions = [json.loads(line)["text"] for line in (NFCORPUS / "queries.jsonl").open()]
    if cache.exists():
        embedded = np.load(cache)
    else:
        from ragcore import bootstrap
        from ragcore.bootstrap.container import BUILTIN_EMBEDDING_MODEL

        started = time.perf_counter()
        embedded = np.asarray(bootstrap.get_container().embedder_for(BUILTIN_EMBEDDING_MODEL).embed(abstracts), dtype=np.float32)
        np.save(cache, embedded)
        print(f"embedded {len(abstracts)} abstracts in {time.perf_counter() - started:.0f}s")

    def chunk(rng: random.Random) -> tuple[str, np.ndarray]:
        pick = rng.randrange(len(split))
        sentences = list(split[pick])
        rng.shuffle(sentences)
        return ". ".join(sentences), embedded[pick]

    return chunk, questions


def build(n: int, rng: random.Random, make: Callable[[random.Random], tuple[str, np.ndarray | None]]) -> tuple[str, str]:
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset
    from ragcore.services.accounts.tenants import TenantService

    container = bootstrap.get_container()
    tenant = TenantService(container.store).create_tenant(f"bench{n}")
    ds = bootstrap.datasets().create(tenant, CreateDataset(name=f"latency-{n}"))
    doc = bootstrap.documents().create_from_bytes(tenant, ds["id"], "synthetic.txt", b"")
    store = bootstrap.chunk_store()
    batch = 2000
    for start in range(0, n, batch):
        size = min(batch, n - start)
        made = [make(rng) for _ in range(size)]
        vecs = np.random.default_rng(start).standard_normal((size, 384)).astype(np.float32)
        for i, (_, base) in enumerate(made):
            if base is not None:  # the abstract's embedding, nudged: copies are near, not identical
                vecs[i] = base + 0.02 * vecs[i]
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        rows = [{"id": f"{n:08d}{start + i:024x}", "content": text, "document_id": doc["id"], "dataset_id": ds["id"],
                 "docnm_kwd": "synthetic.txt", "available": True} for i, (text, _) in enumerate(made)]
        store.write(tenant, rows, vecs.tolist(), {doc["id"]: doc})
    return tenant, ds["id"]


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def dense_recall(tenant: str, ds: str, questions: list[str], k: int = 10) -> float | None:
    """recall@k of the index's dense search against an exact scan of the stored vectors (read from SQLite in
    batches), or None while the tenant is small enough to be scanned exactly anyway."""
    from ragcore import bootstrap
    from ragcore.bootstrap.container import BUILTIN_EMBEDDING_MODEL

    container = bootstrap.get_container()
    index = container.index
    vectors = index._vectors(tenant)  # type: ignore[attr-defined]
    if vectors is None or not vectors.approximate:
        return None
    qv = np.asarray(container.embedder_for(BUILTIN_EMBEDDING_MODEL).embed(questions), dtype=np.float32)
    best: list[list[tuple[float, str]]] = [[] for _ in questions]
    rows = index._conn.execute("SELECT id, vec FROM vectors WHERE tenant=?", (tenant,))  # type: ignore[attr-defined]
    while batch := rows.fetchmany(50_000):
        mat = np.frombuffer(b"".join(r[1] for r in batch), dtype=np.float32).reshape(len(batch), -1)
        scores = qv @ mat.T
        for qi in range(len(questions)):
            top = np.argpartition(-scores[qi], k)[:k]
            best[qi] = sorted(best[qi] + [(float(scores[qi][j]), batch[j][0]) for j in top], reverse=True)[:k]
    hits = 0
    for qi in range(len(questions)):
        got = {h["id"] for h in index.search_dense(tenant, qv[qi].tolist(), k, [ds])}
        hits += len(got & {cid for _, cid in best[qi]})
    return hits / (k * len(questions))


def measure(tenant: str, ds: str, n: int, queries: int, questions: list[str]) -> None:
    """The query phase, in a fresh process on the built DATA_DIR."""
    from ragcore import bootstrap

    rng = random.Random(11)
    service = bootstrap.retrieval()
    ask = (lambda: rng.choice(questions)) if questions else (lambda: " ".join(rng.choices(WORDS[50:5000], k=rng.randint(2, 6))))
    started = time.perf_counter()
    service.retrieve(tenant, question=ask(), dataset_ids=[ds])
    first = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(queries):
        question = ask()
        started = time.perf_counter()
        service.retrieve(tenant, question=question, dataset_ids=[ds])
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    rss, peak = rss_mb()
    recall = dense_recall(tenant, ds, questions[:50] or [ask() for _ in range(50)])
    print(f"{n:>8} chunks: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {len(timings)} queries; "
          f"first question {first:.0f} ms (loads the tenant); RSS {rss:.0f} MB (peak {peak:.0f} MB)"
          + (f"; dense recall@10 vs exact {recall:.3f}" if recall is not None else ""), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--text", choices=["synthetic", "nfcorpus"], default="synthetic")
    parser.add_argument("--data-dir", help="keep the built data here (default: a temporary directory)")
    parser.add_argument("--measure", nargs=3, metavar=("TENANT", "DATASET", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="latency-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DATA_DIR"] = str(data_dir)
    make, questions = nfcorpus_text(data_dir / "abstracts.npy") if args.text == "nfcorpus" else synthetic_text()
    if args.measure:
        tenant, ds, size = args.measure
        measure(tenant, ds, int(size), args.queries, questions)
        return
    rng = random.Random(7)
    for n in [int(s) for s in args.sizes.split(",")]:
        t0 = time.perf_counter()
        tenant, ds = build(n, rng, make)
        print(f"{n:>8} chunks built in {time.perf_counter() - t0:.0f}s", flush=True)
        subprocess.run([sys.executable, __file__, "--text", args.text, "--data-dir", str(data_dir), "--queries",
                        str(args.queries), "--measure", tenant, ds, str(n)], check=True)


if __name__ == "__main__":
    main()
