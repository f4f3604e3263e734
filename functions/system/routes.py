"""Health and version: no key needed for the health check, as in RAGFlow."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from ragcore.api.envelope import ok
from ragcore.container import get_container

router = APIRouter(tags=["system"])


def _health() -> dict[str, str]:
    container = get_container()
    container.store.get("tenant", "_health", "_health")  # the metadata store answers
    return {"status": "ok", "db": "ok", "storage": "ok", "runtime": container.settings.runtime}


@router.get("/api/v1/system/healthz")
def healthz() -> JSONResponse:
    return ok(_health())


@router.get("/v1/system/healthz", include_in_schema=False)
def healthz_legacy() -> JSONResponse:
    return ok(_health())


@router.get("/api/v1/system/ping", response_class=PlainTextResponse)
def ping() -> PlainTextResponse:
    return PlainTextResponse("pong")  # RAGFlow answers the bare text, no envelope


@router.get("/api/v1/system/version")
def version() -> JSONResponse:
    return ok("0.1.0")
