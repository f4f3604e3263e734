"""The file manager: the current /api/v1/files… paths, the older /api/v1/file/… ones, and commits of workspace
folders and datasets (/workspaces/{id}/commits…, /datasets/{id}/commits…, /workspace-files/{id}/versions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, optional_json_object
from ragcore.domain.files import CreateFolderReq, DeleteFileReq, ListFilesQuery, MoveFileReq
from ragcore.domain.validation import parse_model
from ragcore.errors import ApiError, RetCode
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

if TYPE_CHECKING:
    from ragcore.services.files.commits import Scope

router = APIRouter(prefix="/api/v1", tags=["files"], dependencies=[Depends(current_tenant)])


async def _upload_or_create(request: Request, tenant: str) -> JSONResponse:
    if "multipart/form-data" in request.headers.get("content-type", ""):
        form = await request.form(max_files=1000, max_fields=1000)
        files = [(v.filename or "", await v.read()) for v in form.getlist("file") if isinstance(v, UploadFile)]
        parent = form.get("parent_id")
        return ok(await run_in_threadpool(bootstrap.files().upload, tenant, parent if isinstance(parent, str) else None, files))
    body = await json_object(request)
    if not body:
        raise ApiError(RetCode.BAD_REQUEST, "No file part!")
    return ok(await run_in_threadpool(bootstrap.files().create, tenant, parse_model(CreateFolderReq, body)))


def _download(tenant: str, file_id: str) -> Response:
    name, data = bootstrap.files().content(tenant, file_id)
    return Response(content=data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


# ---- current paths ------------------------------------------------------------------------------
@router.post("/files")
async def upload_or_create(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return await _upload_or_create(request, tenant)


@router.get("/files")
def list_files(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.files().list_folder(tenant, parse_model(ListFilesQuery, dict(request.query_params))))


@router.delete("/files")
def delete_files(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.files().delete(tenant, parse_model(DeleteFileReq, body)))


@router.post("/files/move")
def move_files(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.files().move(tenant, parse_model(MoveFileReq, body)))


@router.post("/files/link-to-datasets")
def link_files(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.files().link_to_datasets(tenant, body))


@router.get("/files/{file_id}")
def download_file(file_id: str, tenant: str = Depends(current_tenant)) -> Response:
    return _download(tenant, file_id)


@router.get("/files/{file_id}/parent")
def parent_folder(file_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folder": bootstrap.files().parent(tenant, file_id)})


@router.get("/files/{file_id}/ancestors")
def ancestors(file_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folders": bootstrap.files().ancestors(tenant, file_id)})


# ---- older paths (RAGFlow ≤ 0.23 clients) -------------------------------------------------------
@router.post("/file/upload")
@router.post("/file/create")
async def legacy_upload_or_create(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return await _upload_or_create(request, tenant)


@router.get("/file/list")
def legacy_list(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.files().list_folder(tenant, parse_model(ListFilesQuery, dict(request.query_params))))


@router.get("/file/root_folder")
def legacy_root(tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.files()
    return ok({"root_folder": service.view(tenant, service.root(tenant))})


@router.get("/file/parent_folder")
def legacy_parent(file_id: str = "", tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folder": bootstrap.files().parent(tenant, file_id)})


@router.get("/file/all_parent_folder")
def legacy_ancestors(file_id: str = "", tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok({"parent_folders": bootstrap.files().ancestors(tenant, file_id)})


@router.post("/file/rm")
def legacy_rm(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    bootstrap.files().delete(tenant, parse_model(DeleteFileReq, {"ids": body.get("file_ids", body.get("ids"))}))
    return ok(True)


@router.post("/file/rename")
def legacy_rename(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.files().move(tenant, parse_model(MoveFileReq, {"src_file_ids": [body.get("file_id")],
                                                                          "new_name": body.get("name")})))


@router.post("/file/mv")
def legacy_mv(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.files().move(tenant, parse_model(MoveFileReq, {"src_file_ids": body.get("src_file_ids"),
                                                                          "dest_file_id": body.get("dest_file_id")})))


@router.get("/file/get/{file_id}")
def legacy_get(file_id: str, tenant: str = Depends(current_tenant)) -> Response:
    return _download(tenant, file_id)


@router.post("/file/convert")
def legacy_convert(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.files().link_to_datasets(tenant, body))


# ---- commits of a workspace folder or a dataset (RAGFlow's file_commit_api) ---------------------------
def _commit_routes(prefix: str, param: str, kind: str) -> None:
    """RAGFlow's eight commit routes under one prefix; `kind` is the scope the prefix names."""

    def scope(request: Request, tenant: str) -> Scope:
        return bootstrap.file_commits().scope(tenant, kind, request.path_params[param])

    @router.post(f"{prefix}/commits", name=f"create_commit_{kind}")
    def create_commit(request: Request, tenant: str = Depends(current_tenant),
                            body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
        missing = [k for k in ("message", "files") if k not in body]
        if missing:  # RAGFlow checks the body before the scope
            raise ApiError(RetCode.ARGUMENT_ERROR, f"required argument are missing: {','.join(missing)}; ")
        service = bootstrap.file_commits()
        return ok(service.create(tenant, scope(request, tenant), body))

    @router.get(f"{prefix}/commits", name=f"list_commits_{kind}")
    def list_commits(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
        return ok(bootstrap.file_commits().listing(tenant, scope(request, tenant), dict(request.query_params)))

    # before /commits/{commit_id}, which would take "diff" for an id
    @router.get(f"{prefix}/commits/diff", name=f"diff_commits_{kind}")
    def diff_commits(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
        args = request.query_params
        return ok(bootstrap.file_commits().diff(tenant, scope(request, tenant), args.get("from"), args.get("to")))

    @router.get(f"{prefix}/changes", name=f"uncommitted_changes_{kind}")
    def uncommitted_changes(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
        return ok(bootstrap.file_commits().uncommitted(tenant, scope(request, tenant)))

    @router.get(f"{prefix}/commits/{{commit_id}}", name=f"get_commit_{kind}")
    def get_commit(request: Request, commit_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
        return ok(bootstrap.file_commits().detail(tenant, scope(request, tenant), commit_id))

    @router.get(f"{prefix}/commits/{{commit_id}}/files", name=f"list_commit_files_{kind}")
    def list_commit_files(request: Request, commit_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
        return ok(bootstrap.file_commits().files(tenant, scope(request, tenant), commit_id, dict(request.query_params)))

    @router.get(f"{prefix}/commits/{{commit_id}}/tree", name=f"get_commit_tree_{kind}")
    def get_commit_tree(request: Request, commit_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
        return ok(bootstrap.file_commits().tree(tenant, scope(request, tenant), commit_id))

    @router.get(f"{prefix}/commits/{{commit_id}}/files/{{file_id}}/content", name=f"get_commit_file_content_{kind}")
    def get_commit_file_content(request: Request, commit_id: str, file_id: str,
                                tenant: str = Depends(current_tenant)) -> JSONResponse:
        return ok(bootstrap.file_commits().content(tenant, scope(request, tenant), commit_id, file_id))


_commit_routes("/datasets/{dataset_id}", "dataset_id", "datasets")
_commit_routes("/workspaces/{workspace_id}", "workspace_id", "workspaces")


@router.get("/workspace-files/{file_id}/versions")
def file_versions(request: Request, file_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.file_commits().versions(tenant, file_id, dict(request.query_params)))
