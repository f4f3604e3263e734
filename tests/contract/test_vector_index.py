"""One VectorIndex contract, run against the local index and Pinecone (through its fake data plane)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.pinecone_server import FakePinecone


def vec(*xs: float) -> list[float]:
    padded = list(xs) + [0.0] * (8 - len(xs))
    norm = math.sqrt(sum(x * x for x in padded)) or 1.0
    return [x / norm for x in padded]


def rec(cid: str, content: str, v: list[float], ds: str = "ds1", doc: str = "doc1", available: bool = True) -> dict[str, Any]:
    return {"id": cid, "dataset_id": ds, "document_id": doc, "content": content, "vector": v, "available": available}


@pytest.fixture(params=["local", "pinecone"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "local":
        from ragcore.adapters.local_index import LocalVectorIndex

        yield LocalVectorIndex(tmp_path / "index")
        return
    from ragcore.adapters.pinecone_index import PineconeVectorIndex

    fake = FakePinecone()
    yield PineconeVectorIndex(api_key="test", host=fake.url)
    fake.close()


@pytest.fixture
def filled(index: Any) -> Any:
    index.upsert("t1", [
        rec("a", "Cheetahs are the fastest land animals", vec(1, 0)),
        rec("b", "The stock market fell sharply", vec(0, 1)),
        rec("c", "Elephants live in herds", vec(0.7, 0.7), doc="doc2"),
        rec("d", "北京是中国的首都", vec(0, 0, 1), ds="ds2", doc="doc3"),
    ])
    index.upsert("t2", [rec("x", "Cheetahs in another tenant", vec(1, 0))])
    return index


def ids(hits: list[dict[str, Any]]) -> list[str]:
    return [h["id"] for h in hits]


def test_dense_ranking_and_scopes(filled: Any) -> None:
    hits = filled.search_dense("t1", vec(1, 0.1), 10, ["ds1"])
    assert ids(hits) == ["a", "c", "b"]
    assert hits[0]["score"] > hits[1]["score"] > hits[2]["score"]
    assert ids(filled.search_dense("t1", vec(1, 0.1), 1, ["ds1"])) == ["a"]
    assert ids(filled.search_dense("t1", vec(1, 0.1), 10, ["ds1"], ["doc2"])) == ["c"]
    assert ids(filled.search_dense("t1", vec(0, 0, 1), 10, ["ds2"])) == ["d"]
    assert ids(filled.search_dense("t2", vec(1, 0), 10, ["ds1"])) == ["x"]  # tenants are separate


def test_text_search(filled: Any) -> None:
    assert ids(filled.search_text("t1", "which animals are fastest?", 10, ["ds1"]))[0] == "a"
    assert ids(filled.search_text("t1", "stock market", 10, ["ds1"]))[0] == "b"
    assert ids(filled.search_text("t1", "中国首都", 10, ["ds2"])) == ["d"]
    assert filled.search_text("t1", "zebra", 10, ["ds1"]) == []
    assert ids(filled.search_text("t1", "herds", 10, ["ds1"], ["doc1"])) == []


def test_upsert_is_idempotent_and_replaces(filled: Any) -> None:
    filled.upsert("t1", [rec("a", "Cheetahs are the fastest land animals", vec(1, 0))])
    assert filled.count("t1", "ds1") == 3
    filled.upsert("t1", [rec("a", "Zebras have stripes", vec(0, 1))])
    assert ids(filled.search_text("t1", "zebras", 10, ["ds1"])) == ["a"]
    assert filled.search_text("t1", "cheetahs", 10, ["ds1"]) == []


def test_availability(filled: Any) -> None:
    filled.set_available("t1", ["a"], False)
    assert "a" not in ids(filled.search_dense("t1", vec(1, 0), 10, ["ds1"]))
    assert "a" not in ids(filled.search_text("t1", "cheetahs", 10, ["ds1"]))
    filled.set_available("t1", ["a"], True)
    assert ids(filled.search_dense("t1", vec(1, 0), 1, ["ds1"])) == ["a"]
    filled.upsert("t1", [rec("h", "Hidden cheetahs", vec(1, 0), available=False)])
    assert "h" not in ids(filled.search_dense("t1", vec(1, 0), 10, ["ds1"]))


def test_deletes_leave_nothing(filled: Any) -> None:
    filled.delete("t1", ["b"])
    assert "b" not in ids(filled.search_dense("t1", vec(0, 1), 10, ["ds1"]))
    filled.delete_document("t1", "doc2")
    assert ids(filled.search_dense("t1", vec(1, 1), 10, ["ds1"])) == ["a"]
    filled.delete_dataset("t1", "ds2")
    assert filled.search_text("t1", "中国首都", 10, ["ds2"]) == [] and filled.count("t1", "ds2") == 0
    assert filled.count("t2") == 1


def test_fetch_vectors(filled: Any) -> None:
    got = filled.fetch_vectors("t1", ["a", "missing"])
    assert list(got) == ["a"] and abs(sum(x * y for x, y in zip(got["a"], vec(1, 0), strict=True)) - 1) < 1e-5


def test_local_index_persists(tmp_path: Path) -> None:
    from ragcore.adapters.local_index import LocalVectorIndex

    first = LocalVectorIndex(tmp_path / "ix")
    first.upsert("t1", [rec("a", "persistent cheetahs", vec(1, 0))])
    second = LocalVectorIndex(tmp_path / "ix")
    assert ids(second.search_dense("t1", vec(1, 0), 5, ["ds1"])) == ["a"]
    assert ids(second.search_text("t1", "cheetahs", 5, ["ds1"])) == ["a"]
