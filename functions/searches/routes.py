"""Search apps (`/searches`): create, list, read, update, delete. Their completions stream from the completions
module, beside the chat completions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object

router = APIRouter(prefix="/api/v1", tags=["searches"], dependencies=[Depends(current_tenant)])


@router.post("/searches")
def create_search(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok({"search_id": bootstrap.search_apps().create(tenant, body)}, message="success")


@router.get("/searches")
def list_searches(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    owners = request.query_params.getlist("owner_ids")
    return ok(bootstrap.search_apps().list(tenant, dict(request.query_params), owners), message="success")


@router.get("/searches/{search_id}")
def get_search(search_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.search_apps().get(tenant, search_id), message="success")


@router.put("/searches/{search_id}")
def update_search(search_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.search_apps().update(tenant, search_id, body), message="success")


@router.delete("/searches/{search_id}")
def delete_search(search_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    bootstrap.search_apps().delete(tenant, search_id)
    return ok(True, message="success")
