"""Helpers every service uses: id lists, paging, sorting, timestamps on items."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ragcore.domain.paging import REST_API_MAX_PAGE_SIZE
from ragcore.errors import ApiError, RetCode
from ragcore.ids import http_date, is_hex_id, now_ms
from ragcore.ports import MetadataStore


def body_for_get(payload: Any) -> dict[str, Any]:
    """A body as handlers that call `req.get(...)` on it unchecked see it (RAGFlow's bulk_delete_chats,
    delete_sessions): an empty value is no request, any other non-object fails in `.get` and RAGFlow's error
    handler answers that exception with code 100."""
    if not payload:
        return {}
    if not isinstance(payload, dict):
        raise ApiError(RetCode.EXCEPTION_ERROR, repr(AttributeError(f"'{type(payload).__name__}' object has no attribute 'get'")))
    return payload


def stamp_new(item: dict[str, Any]) -> dict[str, Any]:
    ms = now_ms()
    item.setdefault("create_time", ms)
    item.setdefault("create_date", http_date(ms))
    item["update_time"] = ms
    item["update_date"] = http_date(ms)
    return item


def stamp_update(changes: dict[str, Any]) -> dict[str, Any]:
    ms = now_ms()
    changes["update_time"] = ms
    changes["update_date"] = http_date(ms)
    return changes


def check_id_format(value: Any) -> str:
    if not is_hex_id(value) and not (isinstance(value, str) and is_hex_id(value.lower())):
        raise ApiError(RetCode.ARGUMENT_ERROR, "Invalid UUID format")
    return str(value).lower()


def check_id_list(ids: list[Any] | None) -> list[str] | None:
    """RAGFlow's rules for `ids` bodies: each a 32-hex id, no duplicates."""
    if ids is None:
        return None
    normalized = [check_id_format(i) for i in ids]
    check_no_duplicates(normalized)
    return normalized


def check_no_duplicates(ids: list[Any], field: str = "ids") -> None:
    """A repeated id is a request error (101), worded as RAGFlow's request validation words it."""
    dupes = [str(i) for i, n in Counter(ids).items() if n > 1]
    if dupes:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Field: <{field}> - Message: <Duplicate ids: '{', '.join(dupes)}'> - Value: <{ids}>")


def duplicate_messages(ids: list[Any], noun: str) -> tuple[list[Any], list[str]]:
    """RAGFlow's bulk deletes act on each id once and report each repeated one: (unique ids, messages)."""
    unique = list(dict.fromkeys(ids))
    return unique, [f"Duplicate {noun} ids: {i}" for i, n in Counter(ids).items() if n > 1]


def bulk_outcome(noun: str, deleted: int, errors: list[str]) -> tuple[dict[str, Any], str | None]:
    """What RAGFlow answers after a bulk delete: all failed is an error; some failed is a partial success."""
    if errors and not deleted:
        raise ApiError(RetCode.DATA_ERROR, "; ".join(errors))
    if errors:
        return {"success_count": deleted, "errors": errors}, f"Partially deleted {deleted} {noun} with {len(errors)} errors"
    return {"success_count": deleted}, None


def sort_items(items: list[dict[str, Any]], orderby: str, desc: bool) -> list[dict[str, Any]]:
    return sorted(items, key=lambda it: (it.get(orderby) or 0, it.get("create_time") or 0), reverse=desc)


def rest_page_number(value: Any, default: int) -> int:
    """RAGFlow's paging rule on most list routes: a value that is not a whole number ≥ 1 means the default."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default



REST_API_MAX_IDS = 100


def rest_api_page(params: dict[str, Any]) -> tuple[int, int]:
    """RAGFlow's validate_rest_api_page/_page_size (chat, session, agent, search lists): a page or size that is not a
    whole number ≥ 1 means 1 / 30; a size over 100 is refused, as RAGFlow's handler answers the ValueError."""
    page, size = rest_page_number(params.get("page"), 1), rest_page_number(params.get("page_size"), 30)
    if size > REST_API_MAX_PAGE_SIZE:
        raise ApiError(RetCode.EXCEPTION_ERROR,
                       f"ValueError('page_size must be less than or equal to {REST_API_MAX_PAGE_SIZE}')")
    return page, size


def page_items(items: list[Any], page: int, page_size: int) -> list[Any]:
    start = (max(page, 1) - 1) * page_size
    return items[start : start + page_size]


def base_name(raw: str) -> str:
    """A client's file name without any directory part ("../../x.txt", "C:\\x.txt", "/etc/x.txt" → "x.txt")."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p.strip() not in ("", ".", "..")]
    return parts[-1].strip() if parts else ""


def claim_free_name(store: MetadataStore, tenant: str, scope: str, name: str, owner: str) -> str:
    """The name itself when free in scope (case-insensitively), else the first free "name(n)", claimed for owner."""
    candidate, n = name, 0
    while not store.claim(tenant, scope, candidate.lower(), owner):
        n += 1
        candidate = f"{name}({n})"
    return candidate


def public(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as clients see it: internal fields (a leading underscore) left out."""
    return {k: v for k, v in item.items() if not k.startswith("_")}
