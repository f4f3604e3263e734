"""HTTP routes of the documents module: upload, list, update, download, delete, parse and stop."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok, ok_bare
from ragcore.api.requests import json_object, optional_json_object
from ragcore.errors import ApiError, RetCode
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

router = APIRouter(prefix="/api/v1", tags=["documents"], dependencies=[Depends(current_tenant)])


async def _files(request: Request) -> list[tuple[str, bytes]]:
    content_type = request.headers.get("content-type", "")
    if "multipart/form-data" not in content_type:
        raise ApiError(RetCode.ARGUMENT_ERROR, "No file part!")
    try:
        form = await request.form(max_files=1000, max_fields=1000)
    except Exception as exc:  # malformed multipart bodies
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Malformed multipart body: {exc}") from exc
    files: list[tuple[str, bytes]] = []
    for value in form.getlist("file"):
        if isinstance(value, UploadFile):
            files.append((value.filename or "", await value.read()))
    return files


@router.post("/datasets/{dataset_id}/documents")
async def upload_documents(dataset_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    kind = (request.query_params.get("type") or "local").lower()
    service = bootstrap.documents()
    # RAGFlow: the dataset first, then the type; an empty document is answered as one object
    service.dataset(tenant, dataset_id, "Can't find the dataset with ID {id}!")
    if kind == "empty":
        body = await json_object(request)
        return ok(service.create_empty(tenant, dataset_id, body.get("name", "")))
    if kind not in ("local", "web"):
        raise ApiError(RetCode.ARGUMENT_ERROR, '`type` must be one of "local", "web", or "empty".')
    if kind == "web":
        raise ApiError(RetCode.ARGUMENT_ERROR, "type=web needs a crawler; this server has no outbound web access configured.")
    files = await _files(request)
    return ok(await run_in_threadpool(service.upload, tenant, dataset_id, files))


@router.get("/datasets/{dataset_id}/documents")
def list_documents(dataset_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    params = dict(request.query_params)
    multi = {name: request.query_params.getlist(name) for name in ("ids", "suffix", "run")}
    docs, total = bootstrap.teams().read_shared(tenant, dataset_id,
                                       lambda owner: bootstrap.documents().list(owner, dataset_id, params, multi))
    return ok({"docs": docs, "total": total}, message="success")  # get_json_result


# Declared before the {document_id} routes so `metadatas` is not taken for a document id.
@router.patch("/datasets/{dataset_id}/documents/metadatas")
def documents_metadatas(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    return ok(bootstrap.metadata().set_document_metadata(tenant, dataset_id, body))


@router.post("/datasets/{dataset_id}/documents/batch-update-status")
def batch_update_status(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    return ok(bootstrap.document_assets().batch_update_status(tenant, dataset_id, body), message="success")


@router.get("/datasets/{dataset_id}/documents/{document_id}")
def download_document(dataset_id: str, document_id: str, tenant: str = Depends(current_tenant)) -> Response:
    name, data = bootstrap.teams().read_shared(tenant, dataset_id,
                                      lambda owner: bootstrap.documents().download(owner, dataset_id, document_id))
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@router.put("/datasets/{dataset_id}/documents/{document_id}")
@router.patch("/datasets/{dataset_id}/documents/{document_id}")
def update_document(
    dataset_id: str, document_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    return ok(bootstrap.documents().update(tenant, dataset_id, document_id, body))


@router.delete("/datasets/{dataset_id}/documents")
def delete_documents(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    return ok({"deleted": bootstrap.documents().delete(tenant, dataset_id, body)})


@router.post("/datasets/{dataset_id}/chunks")
def parse_documents_legacy(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    """chunk_api's parse: {"code": 0} alone, or a partial success with a message when ids repeat."""
    # RAGFlow's get_result drops the message of a success: a partial success is {"code": 0, "data": …}
    result, message = bootstrap.document_parsing().start_parse(tenant, dataset_id, body)
    return ok(result) if message else ok_bare()


@router.post("/datasets/{dataset_id}/documents/parse")
def parse_documents(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    """document_api's parse: {"success_count": n} (with "errors" for repeated ids)."""
    return ok(bootstrap.document_parsing().start_parse(tenant, dataset_id, body)[0])


@router.post("/documents/ingest")
def ingest_documents(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.document_parsing().ingest(tenant, body))


@router.post("/datasets/{dataset_id}/documents/{document_id}/run")
def run_document(dataset_id: str, document_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    """The seed's older per-document parse path."""
    bootstrap.document_parsing().start_parse(tenant, dataset_id, {"document_ids": [document_id]})
    return ok(True)


@router.delete("/datasets/{dataset_id}/chunks")
def stop_parsing_legacy(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    partial, _ = bootstrap.document_parsing().stop_parse(tenant, dataset_id, body, legacy=True)
    return ok(partial) if partial else ok_bare()


@router.post("/datasets/{dataset_id}/documents/stop")
def stop_parsing(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    return ok(bootstrap.document_parsing().stop_parse(tenant, dataset_id, body)[0])


@router.get("/documents/{document_id}")
def get_document(document_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.documents().get_any(tenant, document_id))


@router.post("/datasets/{dataset_id}/documents/upload_url")
def upload_url(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    """Large files: a URL to PUT the bytes to (presigned S3 on AWS), then parse the returned document."""
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(RetCode.ARGUMENT_ERROR, "`name` is required")
    service = bootstrap.documents()
    view = service.create_from_bytes(tenant, dataset_id, name.strip(), b"")
    item = service.find(tenant, dataset_id, view["id"])
    assert item is not None
    token = secrets.token_urlsafe(24)
    bootstrap.uploads().remember(token, tenant, item["_blob"], view["id"])
    url = bootstrap.uploads().url(item["_blob"], token)
    return ok({"document": view, "upload_url": url, "method": "PUT", "expires_in": 3600})


open_router = APIRouter(prefix="/api/v1", tags=["documents"])


@open_router.put("/uploads/{token}")
async def receive_upload(token: str, request: Request) -> JSONResponse:
    """The local stand-in for a presigned S3 PUT: the one-time token is the credential."""
    document_id = bootstrap.uploads().receive(token, await request.body())
    return ok({"document_id": document_id})


@router.get("/datasets/{dataset_id}/metadata/summary")
def metadata_summary(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.metadata().summary(tenant, dataset_id))


@router.post("/datasets/{dataset_id}/metadata/update")
def metadata_update(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    return ok(bootstrap.metadata().batch_update(tenant, dataset_id, body))


@router.get("/datasets/{dataset_id}/metadata/config")
def get_metadata_config(dataset_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.metadata().get_config(tenant, dataset_id))


@router.put("/datasets/{dataset_id}/metadata/config")
def put_metadata_config(
    dataset_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)
) -> JSONResponse:
    return ok(bootstrap.metadata().put_config(tenant, dataset_id, body))


@router.put("/datasets/{dataset_id}/documents/{document_id}/metadata/config")
def put_document_metadata_config(
    dataset_id: str, document_id: str, tenant: str = Depends(current_tenant),
    body: dict[str, Any] = Depends(optional_json_object),
) -> JSONResponse:
    return ok(bootstrap.metadata().put_document_config(tenant, dataset_id, document_id, body))


@router.get("/datasets/metadata/flattened")
def metadata_flattened(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    ids = [i for raw in request.query_params.getlist("dataset_ids") for i in raw.split(",") if i]
    return ok(bootstrap.metadata().flattened(tenant, ids))


@router.post("/documents/upload")
async def upload_info(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    """Files kept for the tenant outside any dataset (chat attachments): one file answers an object, several a list."""
    files: list[tuple[str, str, bytes]] = []
    if "multipart/form-data" in request.headers.get("content-type", ""):
        try:
            form = await request.form(max_files=1000, max_fields=1000)
        except Exception as exc:  # malformed multipart bodies
            raise ApiError(RetCode.ARGUMENT_ERROR, f"Malformed multipart body: {exc}") from exc
        files = [(v.filename or "", v.content_type or "", await v.read()) for v in form.getlist("file") if isinstance(v, UploadFile)]
    url = request.query_params.get("url")
    if files and url:
        raise ApiError(RetCode.ARGUMENT_ERROR, "Provide either multipart file(s) or ?url=..., not both.")
    if not files and not url:
        raise ApiError(RetCode.ARGUMENT_ERROR, "Missing input: provide multipart file(s) or url")
    if url:
        raise ApiError(RetCode.ARGUMENT_ERROR, "url needs a crawler; this server has no outbound web access configured.")
    info = bootstrap.document_assets().upload_info(tenant, files)
    return ok(info[0] if len(info) == 1 else info)


@router.get("/thumbnails")
def thumbnails(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.document_assets().thumbnails(tenant, request.query_params.getlist("doc_ids")), message="success")


@router.get("/documents/images/{image_id}")
def document_image(image_id: str, tenant: str = Depends(current_tenant)) -> Response:
    data, media_type = bootstrap.document_assets().image(tenant, image_id)
    return Response(content=data, media_type=media_type)


@router.get("/documents/artifact/{filename}")
def document_artifact(filename: str) -> Response:
    bootstrap.document_assets().artifact(filename)


@router.get("/documents/{document_id}/preview")
def preview_document(document_id: str, tenant: str = Depends(current_tenant)) -> Response:
    data, headers = bootstrap.document_assets().preview(tenant, document_id)
    return Response(content=data, headers=headers)
