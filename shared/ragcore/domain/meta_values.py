"""A document's metadata as the search index and the value vocabulary hold it: each value as one exact string."""

from __future__ import annotations

from typing import Any

NO_VALUE = "\x00"  # what a key the index once held reads after the document lost every value of it


def normalize(value: Any) -> str:
    """One string per value: whole floats as integers (1.0 and 1 are the same value), the rest as str()."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def present(value: Any) -> bool:
    return value not in (None, "", [])


def values_of(value: Any) -> list[Any]:
    """The values a metadata field holds (a list holds several), empty ones left out."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if present(v)]


def document_meta(meta_fields: dict[str, Any] | None) -> dict[str, list[str]]:
    """key → its normalized values, for the keys that have any."""
    out: dict[str, list[str]] = {}
    for key, value in (meta_fields or {}).items():
        found = sorted({normalize(v) for v in values_of(value)})
        if found:
            out[str(key)] = found
    return out
