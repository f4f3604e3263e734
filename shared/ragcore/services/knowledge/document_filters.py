"""The query parameters of a document list that the store cannot filter on (metadata conditions, a set already in
hand), and the checks of its numeric and JSON parameters, in RAGFlow's words."""

from __future__ import annotations

import json
from typing import Any

from ragcore.errors import ApiError, RetCode
from ragcore.services.knowledge.metadata.conditions import filter_documents


def int_param(params: dict[str, Any], name: str, default: int, *, minimum: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(
            RetCode.ARGUMENT_ERROR,
            f"Field: <{name}> - Message: <Input should be a valid integer, unable to parse string as an integer> - Value: <{raw}>",
        ) from None
    if value < minimum:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Field: <{name}> - Message: <Input should be greater than or equal to {minimum}> - Value: <{raw}>")
    return value


def json_param(params: dict[str, Any], name: str) -> Any:
    raw = params.get(name)
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(RetCode.DATA_ERROR, f"{name} must be valid JSON: {raw}.") from exc


def has_metadata_filter(params: dict[str, Any]) -> bool:
    return any(params.get(name) not in (None, "", "{}") for name in ("metadata_condition", "metadata")) or \
        str(params.get("return_empty_metadata", "")).lower() == "true"


def matches(item: dict[str, Any], where: dict[str, list[str]], keywords: str) -> bool:
    """The store's filters, for a set already in hand (named documents, or a metadata-filtered dataset)."""
    if any(str(item.get(name)) not in values for name, values in where.items()):
        return False
    return keywords.lower() in str(item.get("name", "")).lower()


def filter_by_metadata(items: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The `metadata_condition` (operators) and `metadata` (key → value or any-of list) query filters, ANDed."""
    condition = json_param(params, "metadata_condition")
    metadata = json_param(params, "metadata")
    empty_only = str(params.get("return_empty_metadata", "")).lower() == "true"
    if isinstance(metadata, dict) and metadata.get("empty_metadata"):
        empty_only = True
    if empty_only:
        return [it for it in items if not it.get("meta_fields")]
    if condition and not isinstance(condition, dict):
        raise ApiError(RetCode.DATA_ERROR, "metadata_condition must be an object.")
    if metadata and not isinstance(metadata, dict):
        raise ApiError(RetCode.DATA_ERROR, "metadata must be an object.")
    if condition:
        keep = filter_documents(items, condition)
        items = [it for it in items if it["id"] in keep]
    for key, values in (metadata or {}).items():
        wanted = {str(v) for v in (values if isinstance(values, list) else [values]) if v is not None and str(v).strip()}
        if wanted:
            items = [it for it in items if wanted & _meta_values(it, key)]
    return items


def _meta_values(item: dict[str, Any], key: str) -> set[str]:
    value = (item.get("meta_fields") or {}).get(key)
    if value is None:
        return set()
    return {str(v) for v in (value if isinstance(value, list) else [value])}

