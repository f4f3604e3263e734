"""The file manager: the current /api/v1/files… paths and the older /api/v1/file/… ones."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, optional_json_object
from ragcore.errors import ApiError, RetCode
from ragcore.services import registry
from starlette.datastructures import UploadFile

router = APIRouter(prefix="/api/v1", tags=["files"], dependencies=[Depends(current_tenant)])


async def _upload_or_create(request: Request, tenant: str) -> JSONResponse:
    if "multipart/form-data" in request.headers.get("content-type", ""):
        form = await request.form(max_files=1000, max_fields=1000)
        files = [(v.filename or "", await v.read()) for v in form.getlist("file") if isinstance(v, UploadFile)]
        parent = form.get("parent_id")
        return ok(registry.files().upload(tenant, parent if isinstance(parent, str) else None, files))
    body = await json_object(request)
    if not body:
        raise ApiError(RetCode.BAD_REQUEST, "No file part!")
    return ok(registry.files().create(tenant, body))


def _download(tenant: str, file_id: str) -> Response:
    name, data = registry.files().content(tenant, file_id)
    return Response(content=data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


# ---- current paths ------------------------------------------------------------------------------
@router.post("/files")
async def upload_or_create(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return await _upload_or_create(request, tenant)


@router.get("/files")
def list_files(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(registry.files().list_folder(tenant, dict(request.query_params)))


@router.delete("/files")
async def delete_files(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(registry.files().delete(tenant, body.get("ids")))


@router.post("/files/move")
async def move_files(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.files().move(tenant, body))


@router.post("/files/link-to-datasets")
async def link_files(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.files().link_to_datasets(tenant, body))


@router.get("/files/{file_id}")
def download_file(file_id: str, tenant: str = Depends(current_tenant)) -> Response:
    return _download(tenant, file_id)


@router.get("/files/{file_id}/parent")
def parent_folder(file_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folder": registry.files().parent(tenant, file_id)})


@router.get("/files/{file_id}/ancestors")
def ancestors(file_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folders": registry.files().ancestors(tenant, file_id)})


# ---- older paths (RAGFlow ≤ 0.23 clients) -------------------------------------------------------
@router.post("/file/upload")
@router.post("/file/create")
async def legacy_upload_or_create(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return await _upload_or_create(request, tenant)


@router.get("/file/list")
def legacy_list(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(registry.files().list_folder(tenant, dict(request.query_params)))


@router.get("/file/root_folder")
def legacy_root(tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = registry.files()
    return ok({"root_folder": service.view(tenant, service.root(tenant))})


@router.get("/file/parent_folder")
def legacy_parent(file_id: str = "", tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folder": registry.files().parent(tenant, file_id)})


@router.get("/file/all_parent_folder")
def legacy_ancestors(file_id: str = "", tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folders": registry.files().ancestors(tenant, file_id)})


@router.post("/file/rm")
async def legacy_rm(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    registry.files().delete(tenant, body.get("file_ids", body.get("ids")))
    return ok(True)


@router.post("/file/rename")
async def legacy_rename(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.files().move(tenant, {"src_file_ids": [body.get("file_id")], "new_name": body.get("name")}))


@router.post("/file/mv")
async def legacy_mv(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.files().move(tenant, {"src_file_ids": body.get("src_file_ids"), "dest_file_id": body.get("dest_file_id")}))


@router.get("/file/get/{file_id}")
def legacy_get(file_id: str, tenant: str = Depends(current_tenant)) -> Response:
    return _download(tenant, file_id)


@router.post("/file/convert")
async def legacy_convert(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.files().link_to_datasets(tenant, body))
