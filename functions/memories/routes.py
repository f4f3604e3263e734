"""Memories and their messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, optional_json_object

router = APIRouter(prefix="/api/v1", tags=["memories"], dependencies=[Depends(current_tenant)])


def _many(request: Request, name: str) -> list[str]:
    return [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]


@router.post("/memories")
def create_memory(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.memories().create(tenant, body), message=True)


@router.get("/memories")
def list_memories(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.memories().list_memories(tenant, dict(request.query_params), _many(request, "memory_type")), message=True)


@router.put("/memories/{memory_id}")
def update_memory(memory_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.memories().update(tenant, memory_id, body), message=True)


@router.get("/memories/{memory_id}")
def list_memory_messages(memory_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    data = bootstrap.memories().list_messages(tenant, memory_id, dict(request.query_params), _many(request, "agent_id"))
    return ok(data, message=True)


@router.get("/memories/{memory_id}/config")
def memory_config(memory_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.memories()
    return ok(service.view(service.get(tenant, memory_id)), message=True)


@router.delete("/memories/{memory_id}")
def delete_memory(memory_id: str, tenant: str = Depends(current_tenant), _: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    bootstrap.memories().delete(tenant, memory_id)
    return ok(None, message=True)


@router.post("/messages")
def add_messages(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(None, message=bootstrap.memories().add(tenant, body))


@router.get("/messages")
def recent_messages(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.memories().recent(tenant, _many(request, "memory_id"), dict(request.query_params)), message=True)


@router.get("/messages/search")
def search_messages(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.memories().search(tenant, _many(request, "memory_id"), dict(request.query_params)), message=True)


@router.delete("/messages/{memory_id}:{message_id}")
def forget_message(memory_id: str, message_id: str, tenant: str = Depends(current_tenant),
                         _: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    bootstrap.memories().forget(tenant, memory_id, message_id)
    return ok(None, message=True)


@router.put("/messages/{memory_id}:{message_id}")
def message_status(memory_id: str, message_id: str, tenant: str = Depends(current_tenant),
                         body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    bootstrap.memories().set_status(tenant, memory_id, message_id, body)
    return ok(None, message=True)


@router.get("/messages/{memory_id}:{message_id}/content")
def message_content(memory_id: str, message_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.memories().content(tenant, memory_id, message_id), message=True)
