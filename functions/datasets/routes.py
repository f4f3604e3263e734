"""HTTP routes of the datasets module: translate requests to DatasetService calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok, ok_bare
from ragcore.api.requests import json_object, optional_json_object
from ragcore.services import registry

router = APIRouter(prefix="/api/v1", tags=["datasets"], dependencies=[Depends(current_tenant)])


@router.post("/datasets")
async def create_dataset(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.datasets().create(tenant, body))


@router.get("/datasets")
def list_datasets(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    items, total = registry.datasets().list(tenant, dict(request.query_params))
    return ok(items, total_datasets=total)


@router.get("/datasets/{dataset_id}")
def get_dataset(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = registry.datasets()
    return ok(service.view(tenant, service.get_owned(tenant, dataset_id)))


@router.put("/datasets/{dataset_id}")
async def update_dataset(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    return ok(registry.datasets().update(tenant, dataset_id, body))


@router.delete("/datasets")
async def delete_datasets(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    registry.datasets().delete(tenant, body)
    return ok_bare()
