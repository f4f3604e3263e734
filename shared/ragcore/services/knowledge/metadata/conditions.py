"""RAGFlow's metadata_condition: {"logic": "and"|"or", "conditions": [{name, comparison_operator, value}]}."""

from __future__ import annotations

from typing import Any

from ragcore.errors import ApiError, RetCode

OPERATORS = (
    "is", "not is", "contains", "not contains", "in", "not in", "start with", "end with",
    ">", "<", "≥", "≤", ">=", "<=", "=", "≠", "!=", "empty", "not empty",
)


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",")]
    return [value]


def matches(meta: dict[str, Any], cond: dict[str, Any]) -> bool:
    name = str(cond.get("name", ""))
    op = str(cond.get("comparison_operator", "is")).strip().lower()
    expected = cond.get("value")
    if op not in OPERATORS:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Unsupported comparison_operator: {op}")
    present = name in meta and meta[name] not in (None, "", [])
    if op == "empty":
        return not present
    if op == "not empty":
        return present
    if not present:
        return op in ("not is", "not contains", "not in", "≠", "!=")
    actual = meta[name]
    values = actual if isinstance(actual, list) else [actual]
    text_values = [str(v).lower() for v in values]
    exp = str(expected).lower() if expected is not None else ""
    if op in ("is", "="):
        return any(_eq(v, expected) for v in values)
    if op in ("not is", "≠", "!="):
        return not any(_eq(v, expected) for v in values)
    if op == "contains":
        return any(exp in v for v in text_values)
    if op == "not contains":
        return not any(exp in v for v in text_values)
    if op == "in":
        options = [str(o).lower() for o in _as_list(expected)]
        return any(v in options for v in text_values)
    if op == "not in":
        options = [str(o).lower() for o in _as_list(expected)]
        return not any(v in options for v in text_values)
    if op == "start with":
        return any(v.startswith(exp) for v in text_values)
    if op == "end with":
        return any(v.endswith(exp) for v in text_values)
    return any(_compare(v, expected, op) for v in values)


def _eq(actual: Any, expected: Any) -> bool:
    a, e = _num(actual), _num(expected)
    if a is not None and e is not None:
        return a == e
    return str(actual).lower() == str(expected).lower()


def _compare(actual: Any, expected: Any, op: str) -> bool:
    a, e = _num(actual), _num(expected)
    if a is None or e is None:
        left, right = str(actual), str(expected)  # dates as ISO strings compare in order
        return {">": left > right, "<": left < right, "≥": left >= right, ">=": left >= right, "≤": left <= right, "<=": left <= right}[op]
    return {">": a > e, "<": a < e, "≥": a >= e, ">=": a >= e, "≤": a <= e, "<=": a <= e}[op]


def filter_documents(documents: list[dict[str, Any]], condition: Any) -> set[str]:
    """Ids of the documents whose meta_fields satisfy the condition."""
    if not isinstance(condition, dict):
        raise ApiError(RetCode.ARGUMENT_ERROR, "metadata_condition must be an object.")
    conditions = condition.get("conditions") or []
    if not isinstance(conditions, list):
        raise ApiError(RetCode.ARGUMENT_ERROR, "metadata_condition.conditions must be a list.")
    logic = str(condition.get("logic", "and")).lower()
    keep: set[str] = set()
    for doc in documents:
        meta = doc.get("meta_fields") or {}
        results = [matches(meta, c) for c in conditions if isinstance(c, dict)]
        if not results or (all(results) if logic != "or" else any(results)):
            keep.add(doc["id"])
    return keep
