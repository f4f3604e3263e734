"""Keyword statistics of each dataset, for BM25: how many chunks it holds, their total length in tokens and in how
many chunks each term occurs. Kept incrementally as chunks are written, rewritten and deleted, never recomputed per
question: a question reads one summary item and one bucket per distinct term of its own.

Terms are spread over BUCKETS items per dataset (a term's bucket is a hash of it), so no item outgrows the
store's item size (32 × 400 KB: about a million distinct terms), and a write batch touches at most BUCKETS items:
a batch of 20 abstracts (~1,300 distinct terms) was 128 DynamoDB updates with 128 buckets, is 32 now, each still
one update (≤ 200 terms). The bytes written are the same either way; the round trips and items are a quarter.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ragcore.domain import kinds
from ragcore.ports import MetadataStore

KIND = kinds.TERMSTATS
# a dataset whose `_termstats` is not this version (none: from before statistics were kept; 1: 128 buckets) is
# recounted in the background from its first question on
TERMSTATS_VERSION = 2
BUCKETS = 32
FIELD = "t_"  # term fields are prefixed: a term never collides with an item's own fields (id, kind, …)
SUMMARY = "summary"


def chunk_terms(row: dict[str, Any]) -> list[str]:
    """The chunk's searchable tokens, repeated as often as they occur (its `_terms`)."""
    return str(row.get("_terms") or "").split()


def _bucket(term: str) -> str:
    """The term's bucket part; named by the layout, so a version 1 dataset's buckets are never read as these."""
    return f"b{BUCKETS}.{zlib.crc32(term.encode()) % BUCKETS}"


def _item_id(dataset_id: str, part: str) -> str:
    return f"{dataset_id}:{part}"


@dataclass(frozen=True)
class Stats:
    """What BM25 needs about the searched datasets: chunk count, mean chunk length, each question term's frequency."""

    chunks: int = 0
    mean_length: float = 0.0
    frequency: dict[str, int] = field(default_factory=dict)

    def idf(self, term: str) -> float:
        """Lucene's BM25 idf: positive for any frequency, highest for terms in few chunks."""
        n = max(self.chunks, 1)
        df = min(max(self.frequency.get(term, 0), 0), n)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


class TermStats:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def add(self, tenant: str, rows: Iterable[dict[str, Any]], sign: int = 1) -> None:
        """Count the rows in (sign 1) or out (sign -1) of their datasets' statistics."""
        self.change(tenant, added=rows if sign > 0 else (), removed=rows if sign < 0 else ())

    def change(self, tenant: str, *, added: Iterable[dict[str, Any]] = (), removed: Iterable[dict[str, Any]] = ()) -> None:
        """Count rows in and out in one go (a rewrite: the old rows out, the new in): each dataset's summary and
        buckets get their net change, written together (one transaction on SQLite)."""
        net: dict[str, dict[str, dict[str, int]]] = {}  # dataset -> part -> field -> delta
        for sign, rows in ((1, added), (-1, removed)):
            for row in rows:
                terms = chunk_terms(row)
                parts = net.setdefault(str(row["dataset_id"]), {})
                summary = parts.setdefault(SUMMARY, {})
                summary["chunks"] = summary.get("chunks", 0) + sign
                summary["length"] = summary.get("length", 0) + sign * len(terms)
                for term in set(terms):
                    bucket = parts.setdefault(_bucket(term), {})
                    bucket[FIELD + term] = bucket.get(FIELD + term, 0) + sign
        for dataset_id, parts in net.items():
            deltas = {_item_id(dataset_id, part): kept for part, fields in parts.items()
                      if (kept := {name: d for name, d in fields.items() if d})}
            self._store.increment_many(KIND, tenant, deltas, parent=dataset_id)

    def read(self, tenant: str, dataset_ids: list[str], terms: Iterable[str]) -> Stats:
        wanted = sorted(set(terms))
        parts = [SUMMARY, *sorted({_bucket(t) for t in wanted})]
        items = self._store.get_many(KIND, tenant, [_item_id(ds, part) for ds in dataset_ids for part in parts])
        chunks = length = 0
        frequency: Counter[str] = Counter()
        for item in items:
            if item["id"].endswith(":" + SUMMARY):
                chunks += int(item.get("chunks") or 0)
                length += int(item.get("length") or 0)
            else:
                for term in wanted:
                    frequency[term] += int(item.get(FIELD + term) or 0)
        return Stats(chunks=max(chunks, 0), mean_length=length / chunks if chunks > 0 else 0.0, frequency=dict(frequency))

    def drop_dataset(self, tenant: str, dataset_id: str) -> None:
        self._store.delete_under(KIND, tenant, dataset_id)

    def recount(self, tenant: str, dataset_id: str, chunk_batches: Iterable[list[dict[str, Any]]]) -> None:
        """Background: the dataset's statistics from scratch, from its current chunks. Chunks written while it runs
        may be counted twice or not at all: the statistics drive ranking, and the next recount settles them."""
        self.drop_dataset(tenant, dataset_id)
        for batch in chunk_batches:
            self.add(tenant, batch)
