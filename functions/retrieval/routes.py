"""POST /api/v1/retrieval: hybrid search over datasets; /dify/retrieval: the same search as Dify's External
Knowledge API (its request, its bare {"records": [...]} reply, its HTTP error statuses)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object
from ragcore.services.published.dify import DifyError, request_from_body, request_from_query
from starlette.concurrency import run_in_threadpool

# auth per route: Dify's health check is open, as in RAGFlow
router = APIRouter(prefix="/api/v1", tags=["retrieval"])


@router.post("/retrieval")
def retrieve(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.retrieval().retrieve_request(tenant, body))


def _dify(tenant: str, read: Any) -> JSONResponse:
    try:
        return JSONResponse(bootstrap.dify_retrieval().records(tenant, read()))
    except DifyError as exc:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.http_status)


@router.get("/dify/retrieval")
def dify_retrieval_get(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return _dify(tenant, lambda: request_from_query(request.query_params))


@router.post("/dify/retrieval")
async def dify_retrieval_post(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    raw, content_type = await request.body(), request.headers.get("content-type", "")
    return await run_in_threadpool(_dify, tenant, lambda: request_from_body(raw, content_type))


@router.get("/dify/retrieval/health")
def dify_health() -> JSONResponse:
    return ok(True, message="success")
