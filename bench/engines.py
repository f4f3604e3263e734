"""Engine comparison for the local index's two halves of hybrid retrieval, on the same chunks and the same questions.

Keyword (BM25): SQLite FTS5, tantivy, lancedb full-text search. Dense: numpy exact scan, faiss IVF-SQ8, faiss
HNSW-flat, usearch HNSW (i8 and f16), lancedb IVF-PQ (plain, and with refine_factor 10). For each engine it measures

    build time; p50/p95 latency per question (single-threaded search where the engine lets us choose);
    recall@10 against numpy's exact top-10 (dense) or overlap@10 with FTS5's top-10 (keyword);
    process RSS growth over the build (VmRSS); on-disk size where the engine persists; installed package size;
    whether a dataset-scope filter (an id set: a random 1/3 of the rows) applies inside the search, and the
    filtered latency and recall (against the filtered reference) where it can be measured.

    .venv/bin/python bench/engines.py [--size 100000] [--questions 300] [--cache /tmp/engines-cache]

Needs, beyond the project: pip install lancedb usearch   (an engine whose package is missing is skipped)

Data: NFCorpus abstracts (../shared/data/nfcorpus, read in place), each chunk an abstract with its sentences shuffled,
replicated up to --size; terms from ragcore's content_terms. Vectors: each abstract embedded once with the local
model (cached in --cache), each chunk's vector = its abstract's + 0.02 gaussian noise, renormalised. Questions:
NFCorpus queries, embedded the same way. Keyword overlap counts hits by source abstract (a multiset), since the copies
of one abstract have the same terms and so tie in BM25. Each engine runs in a forked child, so its RSS growth is its
own and a crash or a timeout skips only that engine. Disk size of faiss and usearch is what write_index/save writes
(not in the build time); FTS5, tantivy and lancedb build on disk.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib.metadata
import importlib.util
import json
import multiprocessing as mp
import os
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's exact scan single-threaded, like the other searches

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
DATA = ROOT.parent / "shared" / "data" / "nfcorpus"
K = 10
DIM = 384
NOISE = 0.02
DATASETS = 30  # every chunk belongs to one of 30 datasets; the filter keeps datasets 0-9: a random 1/3 of the rows
SCOPE = 10
WARMUP = 5
OVERSAMPLE = 5  # usearch has no filter in its Python API: ask for 5*k and keep the in-scope hits
NPROBE = 32
CORES = os.cpu_count() or 1

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


# ---------------------------------------------------------------- data

@dataclass
class Corpus:
    terms: list[list[str]]  # per chunk
    source: Ints  # the abstract each chunk was made from
    dataset: Ints  # 0..DATASETS-1 per chunk
    vectors: Floats  # (n, DIM), L2-normalised
    questions: list[list[str]]  # unique content terms per question
    question_vectors: Floats

    @property
    def scope(self) -> Mask:
        return self.dataset < SCOPE


def read_jsonl(path: Path) -> list[str]:
    with path.open() as f:
        return [json.loads(line)["text"] for line in f]


def embed_cached(texts: list[str], path: Path) -> Floats:
    """The local model's vectors for texts, computed once and kept in the cache dir."""
    if path.exists():
        cached: Floats = np.load(path)
        if len(cached) == len(texts):
            return cached
    from ragcore.adapters.local_embedder import LocalEmbedder

    t0 = time.perf_counter()
    vectors = np.asarray(LocalEmbedder().embed(texts), dtype=np.float32)
    print(f"embedded {len(texts)} texts in {time.perf_counter() - t0:.0f}s -> {path}", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def sentence_terms(abstracts: list[str]) -> list[list[list[str]]]:
    """Each abstract's sentences (split on '. '), tokenized once: a shuffled chunk's terms are these, reordered."""
    from ragcore.text.tokenize import content_terms

    return [[content_terms(s) for s in text.split(". ")] for text in abstracts]


def make_chunks(sentences: list[list[list[str]]], size: int, rng: np.random.Generator) -> tuple[list[list[str]], Ints]:
    terms: list[list[str]] = []
    source = np.arange(size, dtype=np.int64) % len(sentences)
    for src in source:
        parts = sentences[int(src)]
        terms.append([t for i in rng.permutation(len(parts)) for t in parts[i]])
    return terms, source


def noisy_copies(base: Floats, source: Ints, rng: np.random.Generator) -> Floats:
    vectors = base[source] + NOISE * rng.standard_normal((len(source), base.shape[1]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def load_corpus(size: int, questions: int, cache: Path, seed: int) -> Corpus:
    from ragcore.text.tokenize import content_terms

    rng = np.random.default_rng(seed)
    abstracts = [t for t in read_jsonl(DATA / "corpus.jsonl") if content_terms(t)]
    queries = read_jsonl(DATA / "queries.jsonl")
    base = embed_cached(abstracts, cache / "abstracts.npy")
    query_vectors = embed_cached(queries, cache / "queries.npy")
    terms, source = make_chunks(sentence_terms(abstracts), size, rng)
    asked = [i for i in rng.permutation(len(queries)) if content_terms(queries[i])][:questions]
    return Corpus(terms=terms, source=source, dataset=rng.integers(0, DATASETS, size, dtype=np.int64),
                  vectors=noisy_copies(base, source, rng),
                  questions=[list(dict.fromkeys(content_terms(queries[i]))) for i in asked],
                  question_vectors=np.ascontiguousarray(query_vectors[asked], dtype=np.float32))


# ---------------------------------------------------------------- engines

class Engine:
    """One engine: build it over the corpus (files under path), then answer question q with chunk ids, best first."""

    name = ""
    half = ""  # "keyword" or "dense"
    module = ""  # the import that must be available, else the engine is skipped
    dists: tuple[str, ...] = ()  # distributions counted in the installed size (the engine's package and its extras)
    filter_kind = "no"  # how a dataset scope is applied; "no" = not measured
    note = ""

    def build(self, corpus: Corpus, path: Path) -> None:
        raise NotImplementedError

    def persist(self, path: Path) -> None:
        """Write the index to path, for engines that only build in memory (not timed)."""

    def search(self, q: int) -> list[int]:
        raise NotImplementedError

    def search_filtered(self, q: int) -> list[int]:
        raise NotImplementedError


def fts5_match(terms: list[str]) -> str:
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class Fts5(Engine):
    name, half, module, filter_kind = "SQLite FTS5", "keyword", "sqlite3", "yes (SQL AND dataset IN)"
    note = "detail=full; build includes 'optimize'"

    def build(self, corpus: Corpus, path: Path) -> None:
        self.corpus = corpus
        self.db = sqlite3.connect(path / "fts.db")
        # tokens = our terms exactly: split on spaces only, keeping - . ' _ inside terms
        self.db.execute("CREATE VIRTUAL TABLE fts USING fts5(terms, dataset UNINDEXED, "
                        "tokenize=\"unicode61 remove_diacritics 0 tokenchars '-.''_'\")")
        with self.db:
            self.db.executemany("INSERT INTO fts(rowid, terms, dataset) VALUES (?, ?, ?)",
                                ((i, " ".join(t), int(d)) for i, (t, d) in enumerate(zip(corpus.terms, corpus.dataset, strict=True))))
        with self.db:
            self.db.execute("INSERT INTO fts(fts) VALUES ('optimize')")

    def search(self, q: int) -> list[int]:
        sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?"
        return [r[0] for r in self.db.execute(sql, (fts5_match(self.corpus.questions[q]), K))]

    def search_filtered(self, q: int) -> list[int]:
        sql = (f"SELECT rowid FROM fts WHERE fts MATCH ? AND dataset IN ({','.join(map(str, range(SCOPE)))}) "
               "ORDER BY bm25(fts) LIMIT ?")
        return [r[0] for r in self.db.execute(sql, (fts5_match(self.corpus.questions[q]), K))]


class Tantivy(Engine):
    name, half, module, dists = "tantivy", "keyword", "tantivy", ("tantivy",)
    filter_kind = "yes (Must term_set_query)"
    note = "index_option freq; 1 writer thread per core"

    def build(self, corpus: Corpus, path: Path) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("key", fast=True)
        builder.add_text_field("dataset", tokenizer_name="raw", index_option="basic")
        builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
        self.schema = builder.build()
        self.corpus = corpus
        self.index = tantivy.Index(self.schema, path=str(path))
        writer = self.index.writer(256_000_000, CORES)
        for i, (terms, dataset) in enumerate(zip(corpus.terms, corpus.dataset, strict=True)):
            doc = tantivy.Document(dataset=str(int(dataset)), terms=" ".join(terms))
            doc.add_integer("key", i)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.scope = tantivy.Query.const_score_query(
            tantivy.Query.term_set_query(self.schema, "dataset", [str(d) for d in range(SCOPE)]), 0.0)

    def _query(self, q: int) -> Any:
        import tantivy

        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "terms", t)) for t in self.corpus.questions[q]])

    def _run(self, query: Any) -> list[int]:
        hits = self.searcher.search(query, K, count=False).hits
        return [v for v in self.searcher.fast_field_values("key", [address for _, address in hits]) if isinstance(v, int)]

    def search(self, q: int) -> list[int]:
        return self._run(self._query(q))

    def search_filtered(self, q: int) -> list[int]:
        import tantivy

        return self._run(tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, self._query(q)), (tantivy.Occur.Must, self.scope)]))


LANCEDB_DISTS = ("lancedb", "pyarrow", "lance-namespace", "lance-namespace-urllib3-client", "deprecation", "overrides")


def lancedb_table(corpus: Corpus, path: Path, columns: dict[str, Any]) -> Any:
    import lancedb
    import pyarrow as pa

    data = pa.table({"id": pa.array(np.arange(len(corpus.terms))), "dataset": pa.array(corpus.dataset), **columns})
    return lancedb.connect(str(path)).create_table("chunks", data)


class LanceFts(Engine):
    name, half, module, dists = "lancedb FTS", "keyword", "lancedb", LANCEDB_DISTS
    filter_kind = "yes (where, prefilter)"
    note = "native FTS, whitespace tokenizer; build = write table + index"

    def build(self, corpus: Corpus, path: Path) -> None:
        import pyarrow as pa
        from lancedb.index import FTS

        self.corpus = corpus
        self.table = lancedb_table(corpus, path, {"terms": pa.array([" ".join(t) for t in corpus.terms])})
        self.table.create_index("terms", config=FTS(base_tokenizer="whitespace", lower_case=False, stem=False,
                                                    remove_stop_words=False, ascii_folding=False, with_position=False))

    def _query(self, q: int) -> Any:
        from lancedb.query import MatchQuery

        match = MatchQuery(" ".join(self.corpus.questions[q]), "terms")  # type: ignore[call-arg]  # pydantic defaults
        return self.table.search(match, query_type="fts")

    def search(self, q: int) -> list[int]:
        return [int(v) for v in self._query(q).select(["id", "_score"]).limit(K).to_arrow()["id"].to_pylist()]

    def search_filtered(self, q: int) -> list[int]:
        query = self._query(q).where(f"dataset < {SCOPE}", prefilter=True)
        return [int(v) for v in query.select(["id", "_score"]).limit(K).to_arrow()["id"].to_pylist()]


def top_k(scores: Floats) -> list[int]:
    top = np.argpartition(-scores, K)[:K]
    return [int(i) for i in top[np.argsort(-scores[top])] if np.isfinite(scores[i])]


class NumpyExact(Engine):
    name, half, module, dists = "numpy exact", "dense", "numpy", ("numpy",)
    filter_kind = "yes (mask the scores)"
    note = "float32 matrix @ q, argpartition; not persisted"

    def build(self, corpus: Corpus, path: Path) -> None:
        self.matrix = corpus.vectors.copy()  # the engine owns its matrix
        self.mask = corpus.scope.copy()
        self.questions = corpus.question_vectors

    def search(self, q: int) -> list[int]:
        return top_k(self.matrix @ self.questions[q])

    def search_filtered(self, q: int) -> list[int]:
        return top_k(np.where(self.mask, self.matrix @ self.questions[q], np.float32(-np.inf)))


def faiss_module() -> Any:
    """faiss, untyped: its bundled stubs lag the Python API (SearchParametersHNSW, IDSelectorBitmap(bitmap))."""
    import faiss

    return faiss


def faiss_ids(labels: Any) -> list[int]:
    return [int(i) for i in labels[0] if i >= 0]


class FaissEngine(Engine):
    half, module, dists = "dense", "faiss", ("faiss-cpu",)
    filter_kind = "yes (IDSelectorBitmap)"

    def _make(self, n: int) -> Any:
        raise NotImplementedError

    def _params(self, selector: Any) -> Any:
        raise NotImplementedError

    def build(self, corpus: Corpus, path: Path) -> None:
        faiss = faiss_module()
        faiss.omp_set_num_threads(CORES)
        self.index = self._make(len(corpus.vectors))
        if not self.index.is_trained:
            sample = np.random.default_rng(0).permutation(len(corpus.vectors))[: 64 * self.index.nlist]
            self.index.train(corpus.vectors[np.sort(sample)])
        self.index.add(corpus.vectors)
        self.bitmap = np.packbits(corpus.scope, bitorder="little")  # kept alive: the selector points into it
        self.filtered_params = self._params(faiss.IDSelectorBitmap(self.bitmap))
        self.questions = corpus.question_vectors
        faiss.omp_set_num_threads(1)

    def persist(self, path: Path) -> None:
        faiss = faiss_module()
        faiss.write_index(self.index, str(path / "index.faiss"))

    def search(self, q: int) -> list[int]:
        return faiss_ids(self.index.search(self.questions[q : q + 1], K)[1])

    def search_filtered(self, q: int) -> list[int]:
        return faiss_ids(self.index.search(self.questions[q : q + 1], K, params=self.filtered_params)[1])


class FaissIvfSq8(FaissEngine):
    name = "faiss IVF-SQ8"

    def _make(self, n: int) -> Any:
        faiss = faiss_module()
        nlist = max(1, min(1024, n // 48))
        self.note = f"nlist {nlist}, nprobe {NPROBE}, trained on {min(n, 64 * nlist)}"
        self.quantizer = faiss.IndexFlatIP(DIM)
        index = faiss.IndexIVFScalarQuantizer(self.quantizer, DIM, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.nprobe = NPROBE
        return index

    def _params(self, selector: Any) -> Any:
        faiss = faiss_module()
        return faiss.SearchParametersIVF(sel=selector, nprobe=NPROBE)


class FaissHnsw(FaissEngine):
    name = "faiss HNSW-flat"
    ef_construction = 40

    def _make(self, n: int) -> Any:
        faiss = faiss_module()
        self.note = f"M 32, efConstruction {self.ef_construction}, efSearch 128"
        index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = 128
        return index

    def _params(self, selector: Any) -> Any:
        faiss = faiss_module()
        return faiss.SearchParametersHNSW(sel=selector, efSearch=128)


class Usearch(Engine):
    half, module, dists = "dense", "usearch", ("usearch", "numkong")
    filter_kind = f"no (no predicate in Python; post-filter of {OVERSAMPLE}k measured)"
    note = "metric cos, defaults (connectivity 16, expansion add 128 / search 64)"

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype
        self.name = f"usearch HNSW {dtype}"

    def build(self, corpus: Corpus, path: Path) -> None:
        from usearch.index import Index

        self.index = Index(ndim=DIM, metric="cos", dtype=self.dtype)
        self.index.add(np.arange(len(corpus.vectors), dtype=np.uint64), corpus.vectors, threads=CORES)
        self.mask = corpus.scope
        self.questions = corpus.question_vectors

    def persist(self, path: Path) -> None:
        self.index.save(str(path / "index.usearch"))

    def search(self, q: int) -> list[int]:
        return [int(k) for k in self.index.search(self.questions[q], K, threads=1).keys]

    def search_filtered(self, q: int) -> list[int]:
        keys = self.index.search(self.questions[q], K * OVERSAMPLE, threads=1).keys
        return [int(k) for k in keys if self.mask[k]][:K]


class LanceVector(Engine):
    half, module, dists = "dense", "lancedb", LANCEDB_DISTS
    filter_kind = "yes (where, prefilter)"

    def __init__(self, refine: int | None = None) -> None:
        self.refine = refine
        self.name = "lancedb IVF-PQ" + (f" refine {refine}" if refine else "")
        self.note = (f"default IVF_PQ (cosine), nprobes {NPROBE}" + (f", refine_factor {refine}" if refine else "")
                     + "; own thread pool; build = write table + index")

    def build(self, corpus: Corpus, path: Path) -> None:
        import pyarrow as pa
        from lancedb.index import IvfPq

        flat = pa.array(corpus.vectors.reshape(-1))
        self.table = lancedb_table(corpus, path, {"vector": pa.FixedSizeListArray.from_arrays(flat, DIM)})
        self.table.create_index("vector", config=IvfPq(distance_type="cosine"))
        self.questions = corpus.question_vectors

    def _query(self, q: int) -> Any:
        query = self.table.search(self.questions[q]).distance_type("cosine").nprobes(NPROBE)
        if self.refine:
            query = query.refine_factor(self.refine)
        return query.select(["id", "_distance"]).limit(K)

    def search(self, q: int) -> list[int]:
        return [int(v) for v in self._query(q).to_arrow()["id"].to_pylist()]

    def search_filtered(self, q: int) -> list[int]:
        return [int(v) for v in self._query(q).where(f"dataset < {SCOPE}", prefilter=True).to_arrow()["id"].to_pylist()]


def engines() -> list[Engine]:
    return [Fts5(), Tantivy(), LanceFts(), NumpyExact(), FaissIvfSq8(), FaissHnsw(), Usearch("i8"), Usearch("f16"),
            LanceVector(), LanceVector(refine=10)]


# ---------------------------------------------------------------- measuring (in a forked child)

@dataclass
class Outcome:
    name: str
    half: str
    filter_kind: str
    note: str = ""
    build_s: float = float("nan")
    rss_mb: float = float("nan")
    disk_mb: float | None = None
    latency_ms: tuple[float, float] = (float("nan"), float("nan"))
    ids: list[list[int]] = field(default_factory=list)
    filtered_latency_ms: tuple[float, float] | None = None
    filtered_ids: list[list[int]] | None = None
    error: str | None = None


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def timed(search: Callable[[int], list[int]], questions: int) -> tuple[tuple[float, float], list[list[int]]]:
    for q in range(min(WARMUP, questions)):
        search(q)
    took: list[float] = []
    ids: list[list[int]] = []
    for q in range(questions):
        t0 = time.perf_counter()
        ids.append(search(q))
        took.append((time.perf_counter() - t0) * 1000)
    p50, p95 = np.percentile(took, [50, 95])
    return (float(p50), float(p95)), ids


def release_free_heap() -> None:
    """Give the heap the parent freed back to the OS, so the build's allocations show up as RSS growth."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(engine: Engine, corpus: Corpus, workdir: Path) -> Outcome:
    out = Outcome(engine.name, engine.half, engine.filter_kind)
    release_free_heap()
    before = rss_mb()
    t0 = time.perf_counter()
    engine.build(corpus, workdir)
    out.build_s = time.perf_counter() - t0
    gc.collect()
    out.rss_mb = rss_mb() - before
    engine.persist(workdir)
    size = tree_bytes(workdir)
    out.disk_mb = size / 1e6 if size else None
    out.note = engine.note
    out.latency_ms, out.ids = timed(engine.search, len(corpus.questions))
    if engine.filter_kind != "no":
        out.filtered_latency_ms, out.filtered_ids = timed(engine.search_filtered, len(corpus.questions))
    return out


def child(engine: Engine, corpus: Corpus, conn: Connection) -> None:
    with tempfile.TemporaryDirectory(prefix="engines-") as tmp:
        try:
            conn.send(measure(engine, corpus, Path(tmp)))
        except Exception:
            conn.send(Outcome(engine.name, engine.half, engine.filter_kind, error=traceback.format_exc(limit=3)))
    conn.close()


def run_isolated(engine: Engine, corpus: Corpus, timeout_s: float) -> Outcome:
    """Build and search in a forked child: RSS growth is the engine's alone, and a crash costs only this engine."""
    sys.stdout.flush()
    receive, send = mp.get_context("fork").Pipe(duplex=False)
    process = mp.get_context("fork").Process(target=child, args=(engine, corpus, send), daemon=True)
    process.start()
    send.close()
    failed = Outcome(engine.name, engine.half, engine.filter_kind)
    try:
        if receive.poll(timeout_s):
            result: Outcome = receive.recv()
            process.join(30)
            return result
        failed.error = f"timed out after {timeout_s:.0f}s"
    except EOFError:
        process.join(30)
        failed.error = f"child died (exit code {process.exitcode})"
    if process.is_alive():
        process.kill()
        process.join()
    return failed


# ---------------------------------------------------------------- quality and the table

def recall(ids: list[list[int]], reference: list[list[int]]) -> float:
    """Mean share of the reference top-k found (dense: chunk ids)."""
    shares = [len(set(a) & set(r)) / len(r) for a, r in zip(ids, reference, strict=True) if r]
    return float(np.mean(shares)) if shares else float("nan")


def overlap(ids: list[list[int]], reference: list[list[int]], source: Ints) -> float:
    """Mean share of the reference top-k matched by source abstract (a multiset): copies of an abstract tie in BM25."""
    shares = []
    for a, r in zip(ids, reference, strict=True):
        if r:
            common = Counter(int(source[i]) for i in a) & Counter(int(source[i]) for i in r)
            shares.append(sum(common.values()) / len(r))
    return float(np.mean(shares)) if shares else float("nan")


def installed_mb(dists: tuple[str, ...]) -> str:
    """Size of the distributions' top-level site-packages entries (package dirs, *.libs, dist-info)."""
    if not dists:
        return "stdlib"
    tops: set[Path] = set()
    for name in dists:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        tops |= {Path(str(dist.locate_file(f.parts[0]))) for f in dist.files or [] if f.parts[0] != ".."}
    return f"{sum(tree_bytes(p) for p in tops if p.exists()) / 1e6:.0f}"


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def quality(outcome: Outcome, reference: Outcome | None, source: Ints, filtered: bool) -> float | None:
    ids = outcome.filtered_ids if filtered else outcome.ids
    ref = reference.filtered_ids if reference and filtered else reference.ids if reference else None
    if not ids or not ref:
        return None
    return recall(ids, ref) if outcome.half == "dense" else overlap(ids, ref, source)


def print_table(outcomes: list[Outcome], engines_by_name: dict[str, Engine], corpus: Corpus) -> None:
    refs = {o.half: o for o in outcomes if o.name in ("SQLite FTS5", "numpy exact") and not o.error}
    print("\n| engine | half | build s | p50 ms | p95 ms | @10 vs ref | RSS +MB | disk MB | install MB "
          "| filter in search | filtered p50 / p95 ms | filtered @10 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        install = installed_mb(engines_by_name[o.name].dists)
        if o.error:
            print(f"| {o.name} | {o.half} | failed | | | | | | {install} | {o.filter_kind} | | |")
            continue
        ref = refs.get(o.half)
        flat = o.filtered_latency_ms
        filtered_latency = f"{fmt(flat[0], 2)} / {fmt(flat[1], 2)}" if flat else "—"
        print(f"| {o.name} | {o.half} | {fmt(o.build_s)} | {fmt(o.latency_ms[0], 2)} | {fmt(o.latency_ms[1], 2)} "
              f"| {fmt(quality(o, ref, corpus.source, False), 3)} | {fmt(o.rss_mb, 0)} | {fmt(o.disk_mb)} | {install} "
              f"| {o.filter_kind} | {filtered_latency} | {fmt(quality(o, ref, corpus.source, True), 3)} |")
    print("\nref: dense = recall@10 vs numpy exact top-10; keyword = overlap@10 with FTS5 top-10 (by source abstract)."
          f" filter = datasets < {SCOPE} of {DATASETS} (~1/3 of rows), filtered @10 vs the reference's filtered top-10.")
    for o in outcomes:
        if o.note and not o.error:
            print(f"  {o.name}: {o.note}")
    for o in outcomes:
        if o.error:
            print(f"  FAILED {o.name}: {o.error.strip().splitlines()[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=100_000, help="chunks")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/engines-cache"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per engine")
    parser.add_argument("--only", default="", help="comma-separated engine names (substring match)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    corpus = load_corpus(args.size, args.questions, args.cache, args.seed)
    print(f"{len(corpus.terms)} chunks, {len(corpus.questions)} questions, {CORES} cores, "
          f"data ready in {time.perf_counter() - t0:.0f}s", flush=True)
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    chosen = [e for e in engines() if not wanted or any(w in e.name.lower() for w in wanted)]
    outcomes: list[Outcome] = []
    for engine in chosen:
        if importlib.util.find_spec(engine.module) is None:
            print(f"skipped: {engine.name} ({engine.module} is not installed)", flush=True)
            continue
        t1 = time.perf_counter()
        outcome = run_isolated(engine, corpus, args.timeout)
        status = "failed" if outcome.error else f"built in {outcome.build_s:.1f}s"
        print(f"{engine.name}: {status}, {time.perf_counter() - t1:.0f}s in all", flush=True)
        outcomes.append(outcome)
    print_table(outcomes, {e.name: e for e in chosen}, corpus)
    print(f"\ntotal {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
