"""Request-body helpers with RAGFlow's messages for bad content types and malformed JSON."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fastapi import Request

from ragcore.errors import ApiError, RetCode

_JSON_TYPES = {"str": "str", "list": "list", "int": "int", "float": "float", "bool": "bool", "NoneType": "NoneType"}


async def json_value(request: Request) -> Any:
    """The JSON body of a request, whatever value it holds; an empty body counts as {}."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if not raw.strip():
        return {}
    if content_type and "json" not in content_type.lower():
        mime = content_type.split(";")[0].strip()
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Unsupported content type: Expected application/json, got {mime}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(RetCode.ARGUMENT_ERROR, "Malformed JSON syntax: Missing commas/brackets or invalid encoding") from exc


async def json_object(request: Request) -> dict[str, Any]:
    """The JSON object body of a request; an empty body counts as {}."""
    payload = await json_value(request)
    if not isinstance(payload, dict):
        kind = _JSON_TYPES.get(type(payload).__name__, type(payload).__name__)
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Invalid request payload: expected object, got {kind}")
    return payload


async def required_json_object(request: Request) -> dict[str, Any]:
    """Like json_object, but a missing body is malformed JSON, as RAGFlow's dataset writes answer."""
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        mime = content_type.split(";")[0].strip()
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Unsupported content type: Expected application/json, got {mime}")
    if not (await request.body()).strip():
        raise ApiError(RetCode.ARGUMENT_ERROR, "Malformed JSON syntax: Missing commas/brackets or invalid encoding")
    return await json_object(request)


async def optional_json_object(request: Request) -> dict[str, Any]:
    """Like json_object, but a non-JSON body (e.g. a DELETE without one) is treated as empty."""
    raw = await request.body()
    if not raw.strip():
        return {}
    return await json_object(request)


def query_bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() not in ("false", "0", "no", "off", "")


def query_args(request: Request, *, lists: tuple[str, ...] = (), objects: tuple[str, ...] = ()) -> dict[str, Any]:
    """RAGFlow's validate_and_parse_request_args: list fields gather every occurrence, each split at commas; an
    object field given as a JSON string is decoded (left as the string, for the validator to refuse, when it is not)."""
    args: dict[str, Any] = dict(request.query_params)
    for name in lists:
        if name in request.query_params:
            args[name] = [v for item in request.query_params.getlist(name) for v in item.split(",") if v]
    for name in objects:
        if isinstance(args.get(name), str):
            with contextlib.suppress(ValueError):
                args[name] = json.loads(args[name])
    return args
