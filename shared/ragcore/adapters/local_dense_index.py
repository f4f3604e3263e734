"""The local index's dense half: one tenant's vectors in memory, searched exactly while small and through an
inverted-file index (faiss IVF, 8-bit scalar quantised) once large.

Below ANN_MIN vectors a float32 matrix is scanned whole: exact, ~5 ms at 50k × 384. Past it the scan grows with the
tenant (~20 ms at 100k, and 1.5 GB of memory at 1M chunks); IVF-SQ8 keeps the same vectors in a quarter of that
and scans only the lists nearest the question (under a millisecond). Scope (datasets, documents, availability, metadata) is a boolean mask over slots either way,
handed to faiss as a bitmap, so filtered searches return only what they may.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

ANN_MIN = 50_000
ANN_LISTS = 1024
ANN_PROBES = 64  # of 1024 lists: recall@10 ≈ 0.95 against the exact scan (bench/engines.py, retrieval_latency.py)
TRAIN_PER_LIST = 20  # training vectors per list


class _Flat:
    """Exact search over a float32 matrix, one row per slot."""

    def __init__(self, dim: int) -> None:
        self.vecs = np.zeros((0, dim), dtype=np.float32)

    def put(self, slots: npt.NDArray[np.int64], vecs: npt.NDArray[np.float32]) -> None:
        top = int(slots.max()) + 1
        if top > len(self.vecs):
            grown = np.zeros((max(top, 2 * len(self.vecs), 1024), self.vecs.shape[1]), dtype=np.float32)
            grown[:len(self.vecs)] = self.vecs
            self.vecs = grown
        self.vecs[slots] = vecs

    def remove(self, slots: npt.NDArray[np.int64]) -> None:
        self.vecs[slots] = 0.0

    def get(self, slots: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        return self.vecs[slots]

    def search(self, vector: npt.NDArray[np.float32], k: int, mask: npt.NDArray[np.bool_]) -> tuple[Any, Any]:
        n = len(mask)
        # one pass over the whole matrix beats gathering the scoped rows into a copy first
        scores = self.vecs[:n] @ vector
        scores[~mask] = -np.inf
        best = np.argpartition(-scores, k - 1)[:k]
        return best, scores[best]


class _Ivf:
    """faiss IVF-SQ8 with slot numbers as ids; a hash direct map makes removal and lookup by slot cheap."""

    def __init__(self, sample: npt.NDArray[np.float32]) -> None:
        import faiss  # imported only by a tenant this large: ~60 MB of native code nobody else needs

        faiss.omp_set_num_threads(1)  # one question at a time per thread: OpenMP's spinning workers only contend
        self._faiss = faiss
        dim = sample.shape[1]
        self.lists = min(ANN_LISTS, max(1, len(sample) // TRAIN_PER_LIST))
        self._quantizer = faiss.IndexFlatIP(dim)
        self.index = faiss.IndexIVFScalarQuantizer(self._quantizer, dim, self.lists, faiss.ScalarQuantizer.QT_8bit,
                                                   faiss.METRIC_INNER_PRODUCT)
        # k-means on 20 points per list, 10 rounds: a few seconds once per tenant load, and the lists are as good
        # for probing as with faiss's defaults (39+ points, 25 rounds: 12 s for 1024 lists)
        self.index.cp.niter = 10
        self.index.cp.min_points_per_centroid = TRAIN_PER_LIST
        self.index.train(np.ascontiguousarray(sample, dtype=np.float32))
        self.index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]

    def put(self, slots: npt.NDArray[np.int64], vecs: npt.NDArray[np.float32]) -> None:
        self.remove(slots)
        self.index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), slots.astype(np.int64))

    def remove(self, slots: npt.NDArray[np.int64]) -> None:
        if len(slots):
            ids = np.ascontiguousarray(slots, dtype=np.int64)  # kept alive while faiss reads it
            self.index.remove_ids(self._faiss.IDSelectorArray(len(ids), self._faiss.swig_ptr(ids)))

    def get(self, slots: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        return np.stack([self.index.reconstruct(int(s)) for s in slots]) if len(slots) else np.zeros((0, self.index.d), np.float32)

    def search(self, vector: npt.NDArray[np.float32], k: int, mask: npt.NDArray[np.bool_]) -> tuple[Any, Any]:
        faiss = self._faiss
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        in_scope = int(mask.sum())
        wanted = min(k, in_scope)
        # probe enough lists to meet 2k in-scope vectors on average: a narrow scope probes more, up to all of them
        probes = min(self.lists, max(ANN_PROBES, 2 * k * self.lists // max(in_scope, 1)))
        while True:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
            scores, slots = self.index.search(vector[None, :], k, params=params)
            found = slots[0] >= 0
            if found.sum() >= wanted or probes >= self.lists:
                return slots[0][found], scores[0][found]
            probes = min(self.lists, probes * 4)


class TenantVectors:
    """One tenant's chunks as slots: id, dataset and document codes, availability, and the vector store. Freed slots
    are reused, so the arrays stay as long as the tenant's largest size."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.ids: list[str | None] = []
        self.pos: dict[str, int] = {}
        self.ds = np.zeros(0, dtype=np.int32)
        self.doc = np.zeros(0, dtype=np.int32)
        self.alive = np.zeros(0, dtype=bool)
        self.free: list[int] = []
        self.codes: dict[str, int] = {}
        self.off: set[int] = set()  # codes of switched-off documents
        self.store: _Flat | _Ivf = _Flat(dim)

    @property
    def size(self) -> int:
        return len(self.pos)

    @property
    def approximate(self) -> bool:
        return isinstance(self.store, _Ivf)

    def code(self, name: str) -> int:
        return self.codes.setdefault(name, len(self.codes) + 1)

    def _slot(self, cid: str) -> int:
        slot = self.pos.get(cid)
        if slot is not None:
            return slot
        if self.free:
            slot = self.free.pop()
        else:
            slot = len(self.ids)
            self.ids.append(None)
            if slot >= len(self.alive):
                grow = max(1024, len(self.alive))
                self.alive = np.concatenate([self.alive, np.zeros(grow, dtype=bool)])
                self.ds = np.concatenate([self.ds, np.zeros(grow, dtype=np.int32)])
                self.doc = np.concatenate([self.doc, np.zeros(grow, dtype=np.int32)])
        self.pos[cid] = slot
        self.ids[slot] = cid
        return slot

    def put(self, rows: list[tuple[str, str, str, bool]], vecs: npt.NDArray[np.float32]) -> None:
        """rows: (chunk id, dataset id, document id, available), one per row of `vecs`."""
        if not rows:
            return
        slots = np.fromiter((self._slot(cid) for cid, _, _, _ in rows), dtype=np.int64, count=len(rows))
        self.ds[slots] = [self.code(ds) for _, ds, _, _ in rows]
        self.doc[slots] = [self.code(doc) for _, _, doc, _ in rows]
        self.alive[slots] = [available for _, _, _, available in rows]
        self.store.put(slots, vecs)
        if not self.approximate and self.size >= ANN_MIN:
            self._to_ann()

    def _to_ann(self, sample: npt.NDArray[np.float32] | None = None) -> None:
        occupied = np.fromiter(self.pos.values(), dtype=np.int64, count=len(self.pos))
        vecs = self.store.get(occupied)
        if sample is None:
            pick = np.random.default_rng(0).choice(len(vecs), min(len(vecs), ANN_LISTS * TRAIN_PER_LIST), replace=False)
            sample = vecs[pick]
        store = _Ivf(sample)
        store.put(occupied, vecs)
        self.store = store

    def start_ann(self, sample: npt.NDArray[np.float32]) -> None:
        """Index with IVF from the first vector on (a large tenant loaded from disk: no full float copy on the way)."""
        self.store = _Ivf(sample)

    def remove(self, cids: list[str]) -> None:
        slots = [s for s in (self.pos.pop(c, None) for c in cids) if s is not None]
        if not slots:
            return
        freed = np.asarray(slots, dtype=np.int64)
        for s in slots:
            self.ids[s] = None
        self.alive[freed] = False
        self.ds[freed] = 0
        self.doc[freed] = 0
        self.store.remove(freed)
        self.free.extend(slots)

    def set_available(self, cids: list[str], available: bool) -> None:
        slots = [self.pos[c] for c in cids if c in self.pos]
        self.alive[slots] = available

    def vectors(self, cids: list[str]) -> dict[str, list[float]]:
        known = [c for c in cids if c in self.pos]
        vecs = self.store.get(np.asarray([self.pos[c] for c in known], dtype=np.int64))
        return {c: v.tolist() for c, v in zip(known, vecs, strict=True)}

    def allowed(self, names: list[str]) -> npt.NDArray[np.bool_]:
        """Per code: is it one of these datasets/documents (a lookup table: one gather per slot, where np.isin
        sorts the whole column — 14 ms at 1M chunks)."""
        table = np.zeros(len(self.codes) + 1, dtype=bool)
        table[[self.codes[name] for name in names if name in self.codes]] = True
        return table

    def scope(self, dataset_ids: list[str], document_ids: list[str] | None) -> npt.NDArray[np.bool_]:
        n = len(self.ids)
        mask = self.alive[:n] & self.allowed(dataset_ids)[self.ds[:n]]
        if document_ids:
            mask &= self.allowed(document_ids)[self.doc[:n]]
        return mask

    def search(self, vector: list[float], k: int, mask: npt.NDArray[np.bool_]) -> list[tuple[str, float]]:
        count = int(mask.sum())
        if count == 0 or k <= 0:
            return []
        slots, scores = self.store.search(np.asarray(vector, dtype=np.float32), min(k, count), mask)
        order = np.argsort(-scores)
        return [(str(self.ids[int(slots[i])]), float(scores[i])) for i in order]
