"""BM25's dataset statistics, kept as chunks come and go, on both metadata stores."""

from __future__ import annotations

from typing import Any

from ragcore.services.knowledge.chunks import term_stats
from ragcore.services.knowledge.chunks.term_stats import TermStats


def row(cid: str, dataset: str, text: str) -> dict[str, Any]:
    return {"id": cid, "dataset_id": dataset, "_terms": " ".join(sorted(text.split()))}


def test_counts_follow_writes_rewrites_and_deletes(store: Any) -> None:
    stats = TermStats(store)
    a = row("a", "ds1", "cancer risk cancer diet")
    b = row("b", "ds1", "diet fiber")
    other = row("c", "ds2", "cancer")
    stats.add("t1", [a, b, other])
    got = stats.read("t1", ["ds1"], ["cancer", "diet", "fiber", "absent"])
    assert (got.chunks, got.mean_length) == (2, 3.0)
    # chunks holding the term, however often each holds it
    assert got.frequency == {"cancer": 1, "diet": 2, "fiber": 1, "absent": 0}
    assert stats.read("t1", ["ds1", "ds2"], ["cancer"]).frequency == {"cancer": 2}
    assert stats.read("t2", ["ds1"], ["cancer"]).chunks == 0  # another tenant sees nothing
    # a rewrite leaves with its old terms and comes back with its new ones
    stats.add("t1", [a], -1)
    stats.add("t1", [row("a", "ds1", "fiber")])
    got = stats.read("t1", ["ds1"], ["cancer", "fiber"])
    assert (got.chunks, got.frequency) == (2, {"cancer": 0, "fiber": 2}) and got.mean_length == 1.5
    stats.add("t1", [b], -1)
    assert stats.read("t1", ["ds1"], ["diet"]).frequency == {"diet": 0}
    stats.drop_dataset("t1", "ds1")
    assert stats.read("t1", ["ds1"], ["fiber"]).chunks == 0
    assert stats.read("t1", ["ds2"], ["cancer"]).chunks == 1


def test_a_large_vocabulary_spreads_over_buckets(store: Any) -> None:
    stats = TermStats(store)
    words = [f"w{i}" for i in range(3 * term_stats.BUCKETS + 450)]  # more terms than one update can carry
    stats.add("t1", [row("a", "ds", " ".join(words)), row("b", "ds", " ".join(words[:10]))])
    got = stats.read("t1", ["ds"], [words[0], words[-1]])
    assert got.frequency == {words[0]: 2, words[-1]: 1} and got.chunks == 2
    assert got.idf(words[-1]) > got.idf(words[0]) > 0
