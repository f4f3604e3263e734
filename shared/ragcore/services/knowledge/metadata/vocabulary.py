"""The distinct metadata values of each dataset, with how many documents hold each.

Kept with every change of a document's metadata, so a summary, the flattened metadata and a metadata filter read
the vocabulary (bounded by distinct values), never the dataset's documents. A `metadata_condition` is evaluated
on each distinct value with RAGFlow's own operator semantics and becomes a filter the search index applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.meta_values import normalize, values_of
from ragcore.errors import ApiError, RetCode
from ragcore.ports import ListQuery, MetaClause, MetadataStore, MetaFilter
from ragcore.services.knowledge.metadata.conditions import OPERATORS, matches

KIND = kinds.METAVALUE
NEGATED = {"not is": "is", "≠": "is", "!=": "is", "not contains": "contains", "not in": "in"}


def _id(dataset_id: str, key: str, norm: str) -> str:
    return hashlib.sha256(f"{dataset_id}\x00{key}\x00{norm}".encode()).hexdigest()[:32]


def _counted(meta_fields: dict[str, Any] | None) -> dict[tuple[str, str], Any]:
    """(key, normalized value) → the original value, for each value the document holds."""
    out: dict[tuple[str, str], Any] = {}
    for key, value in (meta_fields or {}).items():
        for v in values_of(value):
            out.setdefault((str(key), normalize(v)), v)
    return out


class MetaVocabulary:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def change(self, tenant: str, dataset_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """A document's metadata went from old to new (None: the document did not exist / no longer does)."""
        before, after = _counted(old), _counted(new)
        for pair in before.keys() - after.keys():
            self._store.increment(KIND, tenant, _id(dataset_id, *pair), {"n": -1})
        for pair in after.keys() - before.keys():
            item_id = _id(dataset_id, *pair)
            if self._store.increment(KIND, tenant, item_id, {"n": 1}) is None:
                value = after[pair]
                kind = "number" if isinstance(value, int | float) and not isinstance(value, bool) else "string"
                self._store.put(KIND, tenant, {"id": item_id, "key": pair[0], "norm": pair[1], "value": value, "type": kind,
                                               "n": 0}, parent=dataset_id, if_absent=True)
                self._store.increment(KIND, tenant, item_id, {"n": 1})

    def entries(self, tenant: str, dataset_id: str, key: str | None = None) -> Iterator[dict[str, Any]]:
        """The dataset's values (of one key) that some document holds."""
        for start in range(0, 10**9, 500):
            page = self._store.page(ListQuery(KIND, tenant, dataset_id, desc=False, where={"key": [key]} if key else {}), start, 500)
            yield from (e for e in page if int(e.get("n", 0)) > 0)
            if len(page) < 500:
                return

    def drop_dataset(self, tenant: str, dataset_id: str) -> None:
        self._store.delete_under(KIND, tenant, dataset_id)

    def compile(self, tenant: str, dataset_ids: list[str], condition: Any) -> MetaFilter | None:
        """RAGFlow's metadata_condition as index clauses: each condition's matching values among the datasets'
        distinct values (an item matches a negated operator when it holds none of the positive one's values)."""
        if not isinstance(condition, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "metadata_condition must be an object.")
        conditions = condition.get("conditions") or []
        if not isinstance(conditions, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, "metadata_condition.conditions must be a list.")
        clauses = []
        for cond in conditions:
            if not isinstance(cond, dict):
                continue
            op = str(cond.get("comparison_operator", "is")).strip().lower()
            if op not in OPERATORS:
                raise ApiError(RetCode.ARGUMENT_ERROR, f"Unsupported comparison_operator: {op}")
            key = str(cond.get("name", ""))
            entries = [e for ds in dict.fromkeys(dataset_ids) for e in self.entries(tenant, ds, key)]
            if op in ("empty", "not empty"):
                clauses.append(MetaClause(key, tuple(sorted({e["norm"] for e in entries})), negate=op == "empty"))
                continue
            positive = {**cond, "comparison_operator": NEGATED.get(op, op)}
            hits = sorted({e["norm"] for e in entries if matches({key: e["value"]}, positive)})
            clauses.append(MetaClause(key, tuple(hits), negate=op in NEGATED))
        if not clauses:
            return None
        return MetaFilter("or" if str(condition.get("logic", "and")).lower() == "or" else "and", tuple(clauses))
