"""HTTP routes of chat assistants and their sessions (messages, feedback)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, json_value, optional_json_object

router = APIRouter(prefix="/api/v1", tags=["chats"], dependencies=[Depends(current_tenant)])


@router.post("/chats")
def create_chat(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.chats().create(tenant, body), message="success")


@router.get("/chats")
def list_chats(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    owners = [o for raw in request.query_params.getlist("owner_ids") for o in raw.split(",") if o]
    chats, total = bootstrap.chats().list_chats(tenant, dict(request.query_params), owners)
    return ok({"chats": chats, "total": total}, message="success")


@router.get("/chats/{chat_id}")
def get_chat(chat_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.chats()
    return ok(service.view(tenant, service.get_owned(tenant, chat_id)), message="success")


@router.put("/chats/{chat_id}")
def update_chat(chat_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.chats().update(tenant, chat_id, body), message="success")


@router.patch("/chats/{chat_id}")
def patch_chat(chat_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.chats().update(tenant, chat_id, body, patch=True), message="success")


@router.delete("/chats")
def delete_chats(tenant: str = Depends(current_tenant), body: Any = Depends(json_value)) -> JSONResponse:
    data, message = bootstrap.chats().delete(tenant, body)
    return ok(data, message=message or "success")


@router.delete("/chats/{chat_id}")
def delete_chat(chat_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.chats()
    service.delete(tenant, {"chat_id": service.get_owned(tenant, chat_id)["id"]})
    return ok(True, message="success")


@router.post("/chats/{chat_id}/sessions")
def create_session(chat_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(bootstrap.chats().create_session(tenant, chat_id, body), message="success")


@router.get("/chats/{chat_id}/sessions")
def list_sessions(chat_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.chats().list_sessions(tenant, chat_id, dict(request.query_params)), message="success")


@router.get("/chats/{chat_id}/sessions/{session_id}")
def get_session(chat_id: str, session_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.chats()
    return ok(service.session_view(service.get_session(tenant, chat_id, session_id)), message="success")


@router.patch("/chats/{chat_id}/sessions/{session_id}")
@router.put("/chats/{chat_id}/sessions/{session_id}")
def update_session(
    chat_id: str, session_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    return ok(bootstrap.chats().update_session(tenant, chat_id, session_id, body), message="success")


@router.delete("/chats/{chat_id}/sessions")
def delete_sessions(chat_id: str, tenant: str = Depends(current_tenant), body: Any = Depends(json_value)) -> JSONResponse:
    data, message = bootstrap.chats().delete_sessions(tenant, chat_id, body)
    return ok(data, message=message or "success")


@router.delete("/chats/{chat_id}/sessions/{session_id}/messages/{msg_id}")
def delete_message(chat_id: str, session_id: str, msg_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.chats().delete_message(tenant, chat_id, session_id, msg_id), message="success")


@router.put("/chats/{chat_id}/sessions/{session_id}/messages/{msg_id}/feedback")
def message_feedback(
    chat_id: str, session_id: str, msg_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)
) -> JSONResponse:
    return ok(bootstrap.chats().set_feedback(tenant, chat_id, session_id, msg_id, body), message="success")


# Langfuse keys: the tenant's chat completions are traced there (RAGFlow's langfuse_api)
@router.post("/langfuse/api-key")
@router.put("/langfuse/api-key")
def set_langfuse_key(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.langfuse().set_keys(tenant, body), message="success")


@router.get("/langfuse/api-key")
def get_langfuse_key(tenant: str = Depends(current_tenant)) -> JSONResponse:
    data, message = bootstrap.langfuse().get_keys(tenant)
    return ok(data, message=message or "success")


@router.delete("/langfuse/api-key")
def delete_langfuse_key(tenant: str = Depends(current_tenant)) -> JSONResponse:
    deleted = bootstrap.langfuse().delete_keys(tenant)
    return ok(True, message="success") if deleted else ok(None, message="Have not record any Langfuse keys.")
