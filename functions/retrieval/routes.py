"""POST /api/v1/retrieval: hybrid search over datasets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object
from ragcore.services import registry

router = APIRouter(prefix="/api/v1", tags=["retrieval"], dependencies=[Depends(current_tenant)])


@router.post("/retrieval")
async def retrieve(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.retrieval().retrieve_request(tenant, body))
