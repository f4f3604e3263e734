"""RAGFlow's public paging bound (api/utils/pagination_utils.py): one place for every list that enforces it."""

from __future__ import annotations

REST_API_MAX_PAGE_SIZE = 100


def bounded_page_size(value: int) -> int:
    """A pydantic field validator's body: over the bound is RAGFlow's ValueError (a "Value error, …", code 101)."""
    if value > REST_API_MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be less than or equal to {REST_API_MAX_PAGE_SIZE}")
    return value
