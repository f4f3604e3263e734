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


def _meta_docs(index: Any) -> Any:
    """Three documents' chunks with metadata, as ChunkStore writes them (each record carries its document's)."""
    metas = {"m1": {"author": ["Ann"], "year": ["2020"], "tags": ["a", "b"]}, "m2": {"author": ["Bob"], "year": ["2023"]},
             "m3": {}}
    index.upsert("t1", [{**rec(f"{doc}-{n}", f"shared words {doc}", vec(1, n)), "document_id": doc, "meta": meta,
                         "document_available": True} for doc, meta in metas.items() for n in range(2)])
    return index


def _docs(hits: list[dict[str, Any]]) -> set[str]:
    return {h["id"].split("-")[0] for h in hits}


def test_metadata_filters_are_applied_by_the_index(index: Any) -> None:
    from ragcore.ports import MetaClause, MetaFilter

    _meta_docs(index)

    def both(meta: MetaFilter) -> tuple[set[str], set[str]]:
        return (_docs(index.search_dense("t1", vec(1, 0), 10, ["ds1"], meta=meta)),
                _docs(index.search_text("t1", "shared words", 10, ["ds1"], meta=meta)))

    ann = MetaFilter("and", (MetaClause("author", ("Ann",)),))
    assert both(ann) == ({"m1"}, {"m1"})
    not_ann = MetaFilter("and", (MetaClause("author", ("Ann",), negate=True),))
    assert both(not_ann) == ({"m2", "m3"}, {"m2", "m3"})  # a document without the key has none of the values
    either = MetaFilter("or", (MetaClause("author", ("Bob",)), MetaClause("tags", ("b",))))
    assert both(either) == ({"m1", "m2"}, {"m1", "m2"})
    nothing = MetaFilter("and", (MetaClause("year", ()),))
    assert both(nothing) == (set(), set())
    index.set_document_meta("t1", "m3", {"author": ["Ann"]})
    index.set_document_meta("t1", "m1", {"year": ["2020"]})  # its author is gone
    assert both(ann) == ({"m3"}, {"m3"})
    assert both(MetaFilter("and", (MetaClause("author", ("Ann", "Bob"), negate=True),))) == ({"m1"}, {"m1"})


def test_a_switched_off_document_leaves_search_and_comes_back(index: Any) -> None:
    _meta_docs(index)
    index.set_document_available("t1", "m2", False)
    assert _docs(index.search_dense("t1", vec(1, 0), 10, ["ds1"])) == {"m1", "m3"}
    assert _docs(index.search_text("t1", "shared words", 10, ["ds1"])) == {"m1", "m3"}
    index.upsert("t1", [{**rec("m2-9", "shared words late", vec(1, 9)), "document_id": "m2", "document_available": False}])
    assert "m2" not in _docs(index.search_dense("t1", vec(1, 0), 10, ["ds1"]))  # new chunks of an off document stay out
    index.set_document_available("t1", "m2", True)
    assert _docs(index.search_text("t1", "shared words", 10, ["ds1"])) == {"m1", "m2", "m3"}
    ids = {h["id"] for h in index.search_dense("t1", vec(1, 0), 10, ["ds1"])}
    assert {"m2-0", "m2-1", "m2-9"} <= ids  # chunks keep their own flags: all were available


def test_pinecone_ranks_keyword_candidates_by_the_callers_weights(tmp_path: Path) -> None:
    """Pinecone's sparse side has no term statistics of its own: the caller's weights (idf in the searched datasets)
    value the query terms. (The local index ranks with FTS5's own BM25 statistics.)"""
    from ragcore.adapters.pinecone_index import PineconeVectorIndex

    fake = FakePinecone()
    try:
        index = PineconeVectorIndex(api_key="test", host=fake.url)
        index.upsert("t1", [rec("a", "Cheetahs are the fastest land animals", vec(1, 0)),
                            rec("b", "The stock market fell sharply", vec(0, 1))])
        for heavy, light, expected in (("cheetah", "market", "a"), ("market", "cheetah", "b")):
            hits = index.search_text("t1", "cheetahs market", 1, ["ds1"], weights={heavy: 5.0, light: 0.1})
            assert ids(hits) == [expected], (heavy, ids(hits))
    finally:
        fake.close()
