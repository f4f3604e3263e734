"""RAGFlow's aimlapi_api: the AI/ML API device sign-in that provisions the aimlapi.com provider's key. Mounted by the
system router (the provider routes' Lambda)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object
from starlette.concurrency import run_in_threadpool

router = APIRouter(prefix="/api/v1/llm/aimlapi/authorize", tags=["models"], dependencies=[Depends(current_tenant)])


@router.post("/start")
async def aimlapi_authorize_start(tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(await run_in_threadpool(bootstrap.aimlapi_sign_in().start, tenant), message="success")


@router.post("/poll")
async def aimlapi_authorize_poll(tenant: str = Depends(current_tenant),
                                 body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(await run_in_threadpool(bootstrap.aimlapi_sign_in().poll, tenant, body), message="success")
