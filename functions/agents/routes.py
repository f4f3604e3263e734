"""Agents (canvas DSLs), their sessions and run logs. Conversing with an agent is in functions/completions."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse, Response
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok, ok_bare
from ragcore.api.requests import json_object, optional_json_object
from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.services.agents.attachments import content_type as attachment_type
from ragcore.services.agents.attachments import disposition_headers
from ragcore.services.agents.webhooks import WebhookCall, WebhookReply
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

router = APIRouter(prefix="/api/v1", tags=["agents"], dependencies=[Depends(current_tenant)])


@router.get("/agents")
def list_agents(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.agents().list_agents(tenant, dict(request.query_params)))


@router.post("/agents")
def create_agent(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.agents().create(tenant, body), message="success")


@router.get("/agents/{agent_id}")
def get_agent(agent_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.agents().get(tenant, agent_id))


@router.put("/agents/{agent_id}")
def update_agent(agent_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.agents().update(tenant, agent_id, body), message="success")


@router.delete("/agents/{agent_id}")
def delete_agent(agent_id: str, tenant: str = Depends(current_tenant), _: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    bootstrap.agents().delete(tenant, agent_id)
    return ok(True, message="success")


@router.post("/agents/{agent_id}/sessions")
def create_session(agent_id: str, request: Request, tenant: str = Depends(current_tenant),
                         body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.agents().create_session(tenant, agent_id, body, request.query_params.get("user_id", "")))


@router.get("/agents/{agent_id}/sessions")
def list_sessions(agent_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    sessions, total = bootstrap.agents().list_sessions(tenant, agent_id, dict(request.query_params))
    return ok(sessions, message="success", total=total)


@router.delete("/agents/{agent_id}/sessions")
def delete_sessions(agent_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    # RAGFlow answers with get_result, which drops a success's message and leaves out an empty data
    partial = bootstrap.agents().delete_sessions(tenant, agent_id, body)
    return ok(partial) if partial else ok_bare()


@router.get("/agents/{agent_id}/sessions/{session_id}")
def get_session(agent_id: str, session_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.agents()
    return ok(service.session_view(service.get_session(tenant, agent_id, session_id)))


@router.delete("/agents/{agent_id}/sessions/{session_id}")
def delete_session(agent_id: str, session_id: str, tenant: str = Depends(current_tenant),
                         _: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    bootstrap.agents().delete_session(tenant, agent_id, session_id)
    return ok(True)


@router.get("/agents/{agent_id}/logs/{message_id}")
def run_log(agent_id: str, message_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.agents().trace(tenant, agent_id, message_id))


@router.put("/agents/{canvas_id}/tags")
def update_tags(canvas_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    bootstrap.agents().set_tags(tenant, canvas_id, body.get("tags", ""))
    return ok(True)


@router.get("/agents/{agent_id}/versions")
def list_versions(agent_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.agents()
    service.get_owned(tenant, agent_id)
    return ok(service.versions.listing(tenant, agent_id))


@router.get("/agents/{agent_id}/versions/{version_id}")
def get_version(agent_id: str, version_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.agents()
    service.get_owned(tenant, agent_id)
    return ok(service.versions.get(tenant, agent_id, version_id))


@router.post("/agents/{agent_id}/reset")
def reset_agent(agent_id: str, tenant: str = Depends(current_tenant), _: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.agents().reset(tenant, agent_id))


@router.get("/agents/{agent_id}/components/{component_id}/input-form")
def input_form(agent_id: str, component_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.agent_runner().input_form(tenant, agent_id, component_id))


@router.post("/agents/{agent_id}/components/{component_id}/debug")
def debug_component(agent_id: str, component_id: str, tenant: str = Depends(current_tenant),
                    body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.agent_runner().debug(tenant, agent_id, component_id, body))


@router.post("/agents/rerun")
def rerun(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    """Parse again the document an ingestion log (RAGFlow: a pipeline operation log) describes."""
    require_arguments(body, "id", "dsl", "component_id")
    if not isinstance(body["dsl"], dict):
        raise ApiError(RetCode.ARGUMENT_ERROR, "`dsl` should be an object.")
    bootstrap.document_parsing().rerun_from_log(tenant, str(body["id"] or ""), body["dsl"], str(body["component_id"]))
    return ok(True, message="success")


@router.post("/agents/test_db_connection")
def test_db_connection(body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    from ragcore.services.agents.db_connection import test_db_connection as check

    return ok(check(body))


# ---- attachments -----------------------------------------------------------------------------------
@router.post("/agents/{agent_id}/upload")
async def upload_attachment(agent_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    bootstrap.agents().get_owned(tenant, agent_id)
    files: list[tuple[str, bytes, str | None]] = []
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1000, max_fields=1000)
        files = [(v.filename or "", await v.read(), v.content_type) for v in form.getlist("file") if isinstance(v, UploadFile)]
    return ok(bootstrap.agent_attachments().upload(tenant, files, request.query_params.get("url")))


def _attachment(tenant: str, attachment_id: str, request: Request, inline: bool) -> Response:
    data = bootstrap.agent_attachments().read(tenant, attachment_id)
    q = request.query_params
    ctype, ext = attachment_type(q.get("ext"), q.get("mime_type"))
    return Response(data, headers=disposition_headers(ctype, ext, q.get("filename"), inline))


@router.get("/agents/attachments/{attachment_id}/preview")
def preview_attachment(attachment_id: str, request: Request, tenant: str = Depends(current_tenant)) -> Response:
    return _attachment(tenant, attachment_id, request, inline=True)


@router.get("/agents/attachments/{attachment_id}/download")
def download_attachment(attachment_id: str, request: Request, tenant: str = Depends(current_tenant)) -> Response:
    return _attachment(tenant, attachment_id, request, inline=request.query_params.get("disposition", "").lower() == "inline")


# ---- webhooks --------------------------------------------------------------------------------------
WEBHOOK_METHODS = ["POST", "GET", "PUT", "PATCH", "DELETE"]
# the webhook itself answers to its own security (Begin's settings), not to an API key
public_router = APIRouter(prefix="/api/v1", tags=["agents"])


async def _webhook_call(request: Request) -> WebhookCall:
    headers = {"-".join(p.capitalize() for p in k.split("-")): v for k, v in request.headers.items()}
    call = WebhookCall(method=request.method, query=dict(request.query_params), headers=headers,
                       client_ip=request.client.host if request.client else "", body=await request.body())
    if call.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=10, max_fields=1000)
        except Exception:  # noqa: BLE001 - RAGFlow reads a body it cannot parse as empty
            return call
        call.form = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
        call.files = {k: (v.filename or k, await v.read(), v.content_type) for k, v in form.items() if isinstance(v, UploadFile)}
    return call


def _webhook_reply(reply: WebhookReply) -> Response:
    tasks = BackgroundTasks()
    if reply.later is not None:
        tasks.add_task(reply.later)  # RAGFlow answers first and runs the agent after (Immediately mode)
    if reply.content_type == "text/plain":
        return Response(str(reply.body), status_code=reply.status, media_type="text/plain", background=tasks)
    return Response(json.dumps(reply.body, ensure_ascii=False), status_code=reply.status, media_type="application/json",
                    background=tasks)


async def webhook(agent_id: str, request: Request) -> Response:
    call = await _webhook_call(request)
    # a Streaming-mode call runs the agent (model calls block): off the event loop
    return _webhook_reply(await run_in_threadpool(bootstrap.agent_webhooks().handle, agent_id, call, test=False))


async def webhook_test(agent_id: str, request: Request, tenant: str = Depends(current_tenant)) -> Response:
    service = bootstrap.agent_webhooks()
    service.owner_check(tenant, agent_id)
    call = await _webhook_call(request)
    return _webhook_reply(await run_in_threadpool(service.handle, agent_id, call, test=True))


# one route per method: each gets an OpenAPI operation id of its own
for _method in WEBHOOK_METHODS:
    public_router.add_api_route("/agents/{agent_id}/webhook", webhook, methods=[_method])
    router.add_api_route("/agents/{agent_id}/webhook/test", webhook_test, methods=[_method])


@router.get("/agents/{agent_id}/webhook/logs")
def webhook_logs(agent_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.agent_webhooks().logs(tenant, agent_id, dict(request.query_params)))
