"""Past ANN_MIN vectors a tenant's dense search runs on IVF-SQ8 (faiss) instead of the exact matrix: answers stay
those of an exact search on clustered data, and every scope (dataset, document, availability, switched-off
documents, deletes) is still honoured. Thresholds are lowered so a few hundred vectors take that path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ragcore.adapters import local_dense_index, local_index
from ragcore.adapters.local_index import LocalVectorIndex

DIM = 16


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_dense_index, "ANN_MIN", 400)
    monkeypatch.setattr(local_index, "ANN_MIN", 400)
    monkeypatch.setattr(local_dense_index, "ANN_PROBES", 2)


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, DIM))
    x = centres[rng.integers(0, 20, n)] + 0.05 * rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def fill(index: LocalVectorIndex, x: np.ndarray) -> None:
    index.upsert("t", [{"id": f"c{i}", "dataset_id": f"ds{i % 2}", "document_id": f"doc{i % 10}", "content": f"chunk {i}",
                        "vector": x[i].tolist(), "available": True} for i in range(len(x))])


def kth_best(x: np.ndarray, q: np.ndarray, allowed: list[int], k: int) -> float:
    return float(np.sort(x[allowed] @ q)[-k])


def close_to_exact(x: np.ndarray, q: np.ndarray, hits: list[str], allowed: list[int]) -> bool:
    """The approximate k-th neighbour is as near as the exact one, up to the 8-bit codes' error."""
    got = sorted(float(x[int(h[1:])] @ q) for h in hits)[0]
    return got >= kth_best(x, q, allowed, len(hits)) - 0.02


def test_large_tenants_search_approximately_within_their_scope(tmp_path: Path) -> None:
    x = vectors(600)
    index = LocalVectorIndex(tmp_path)
    fill(index, x)
    tenant = index._tenants["t"]
    assert tenant.approximate
    both = list(range(600))
    for probe in (3, 100, 451):
        hits = [h["id"] for h in index.search_dense("t", x[probe].tolist(), 5, ["ds0", "ds1"])]
        assert f"c{probe}" in hits and close_to_exact(x, x[probe], hits, both)
    in_ds1 = [i for i in both if i % 2 == 1]
    hits = [h["id"] for h in index.search_dense("t", x[4].tolist(), 5, ["ds1"])]
    assert len(hits) == 5 and all(int(h[1:]) % 2 == 1 for h in hits)
    assert close_to_exact(x, x[4], hits, in_ds1)
    only_doc3 = [h["id"] for h in index.search_dense("t", x[0].tolist(), 100, ["ds0", "ds1"], ["doc3"])]
    assert sorted(only_doc3) == sorted(f"c{i}" for i in both if i % 10 == 3)  # a narrow scope still finds all of it

    index.set_available("t", ["c3"], False)
    index.set_document_available("t", "doc5", False)
    index.delete("t", ["c100"])
    for probe in (3, 5, 100):
        assert f"c{probe}" not in [h["id"] for h in index.search_dense("t", x[probe].tolist(), 20, ["ds0", "ds1"])]
    got = index.fetch_vectors("t", ["c7", "c100"])
    assert list(got) == ["c7"] and float(np.dot(got["c7"], x[7])) > 0.99  # 8-bit codes, close to the original


def test_a_large_tenant_loads_from_disk_straight_into_the_ann_index(tmp_path: Path) -> None:
    x = vectors(500, seed=1)
    fill(LocalVectorIndex(tmp_path), x)
    reopened = LocalVectorIndex(tmp_path)
    reopened.warm()  # what the server does in the background at start
    assert reopened._tenants["t"].size == 500
    assert "c42" in [h["id"] for h in reopened.search_dense("t", x[42].tolist(), 3, ["ds0"])]
    assert reopened._tenants["t"].approximate and reopened._tenants["t"].size == 500
