"""RAGFlow's reply envelope: {"code": 0, "data": …} or {"code": N, "message": …}."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def ok(data: Any = None, *, message: str | bool | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"code": 0}
    if message is not None:
        body["message"] = message
    body["data"] = data
    body.update(extra)
    return JSONResponse(body)


def ok_bare() -> JSONResponse:
    """RAGFlow answers some writes with {"code": 0} and nothing else."""
    return JSONResponse({"code": 0})


def error(code: int, message: str, *, http_status: int = 200, data: Any = None) -> JSONResponse:
    return JSONResponse({"code": int(code), "message": message, "data": data}, status_code=http_status)
