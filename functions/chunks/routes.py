"""HTTP routes of chunk management within a document (PATCH and the deprecated PUT for updates)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok, ok_bare
from ragcore.api.requests import json_object, optional_json_object

router = APIRouter(prefix="/api/v1", tags=["chunks"], dependencies=[Depends(current_tenant)])
BASE = "/datasets/{dataset_id}/documents/{document_id}/chunks"


@router.get(BASE)
def list_chunks(dataset_id: str, document_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    params: dict[str, Any] = {**request.query_params, "chunk_ids": request.query_params.getlist("chunk_ids")}
    return ok(bootstrap.teams().read_shared(tenant, dataset_id, lambda owner: bootstrap.chunks().list(owner, dataset_id, document_id, params)))


@router.post(BASE)
def add_chunk(
    dataset_id: str, document_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    return ok({"chunk": bootstrap.chunks().add(tenant, dataset_id, document_id, body)})


@router.patch(BASE)
def switch_chunks(
    dataset_id: str, document_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    bootstrap.chunks().set_available(tenant, dataset_id, document_id, body)
    return ok(True)


@router.delete(BASE)
def delete_chunks(
    dataset_id: str, document_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    partial = bootstrap.chunks().delete(tenant, dataset_id, document_id, body)
    return ok_bare() if partial is None else ok(partial)


@router.get(BASE + "/{chunk_id}")
def get_chunk(dataset_id: str, document_id: str, chunk_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.teams().read_shared(tenant, dataset_id, lambda owner: bootstrap.chunks().get(owner, dataset_id, document_id, chunk_id)))


@router.patch(BASE + "/{chunk_id}")
@router.put(BASE + "/{chunk_id}")
def update_chunk(
    dataset_id: str, document_id: str, chunk_id: str, tenant: str = Depends(current_tenant),
    body: dict[str, Any] = Depends(json_object),
) -> JSONResponse:
    bootstrap.chunks().update(tenant, dataset_id, document_id, chunk_id, body)
    return ok_bare()


@router.get("/datasets/{dataset_id}/documents/{document_id}/structure/graph")
def structure_graph(dataset_id: str, document_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.structure_graphs().get(tenant, dataset_id, document_id))


@router.delete("/datasets/{dataset_id}/documents/{document_id}/structure/graph")
def delete_structure_graph(
    dataset_id: str, document_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    deleted = bootstrap.structure_graphs().delete(tenant, dataset_id, document_id, body)
    return ok({"deleted": deleted}, message=f"deleted {deleted} structure graph rows")
