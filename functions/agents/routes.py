"""Agents (canvas DSLs), their sessions and run logs. Conversing with an agent is in functions/completions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, optional_json_object
from ragcore.services import registry

router = APIRouter(prefix="/api/v1", tags=["agents"], dependencies=[Depends(current_tenant)])


@router.get("/agents")
def list_agents(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(registry.agents().list_agents(tenant, dict(request.query_params)))


@router.post("/agents")
async def create_agent(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.agents().create(tenant, body), message="success")


@router.get("/agents/{agent_id}")
def get_agent(agent_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(registry.agents().get(tenant, agent_id))


@router.put("/agents/{agent_id}")
async def update_agent(agent_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(registry.agents().update(tenant, agent_id, body), message="success")


@router.delete("/agents/{agent_id}")
async def delete_agent(agent_id: str, tenant: str = Depends(current_tenant), _: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    registry.agents().delete(tenant, agent_id)
    return ok(True, message="success")


@router.post("/agents/{agent_id}/sessions")
async def create_session(agent_id: str, request: Request, tenant: str = Depends(current_tenant),
                         body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(registry.agents().create_session(tenant, agent_id, body, request.query_params.get("user_id", "")))


@router.get("/agents/{agent_id}/sessions")
def list_sessions(agent_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    sessions, total = registry.agents().list_sessions(tenant, agent_id, dict(request.query_params))
    return ok(sessions, message="success", total=total)


@router.delete("/agents/{agent_id}/sessions")
async def delete_sessions(agent_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    partial = registry.agents().delete_sessions(tenant, agent_id, body)
    if partial:
        return ok(partial, message=f"Partially deleted {partial['success_count']} sessions with {len(partial['errors'])} errors")
    return ok(None)


@router.get("/agents/{agent_id}/sessions/{session_id}")
def get_session(agent_id: str, session_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = registry.agents()
    return ok(service.session_view(service.get_session(tenant, agent_id, session_id)))


@router.delete("/agents/{agent_id}/sessions/{session_id}")
async def delete_session(agent_id: str, session_id: str, tenant: str = Depends(current_tenant),
                         _: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    registry.agents().delete_session(tenant, agent_id, session_id)
    return ok(True)


@router.get("/agents/{agent_id}/logs/{message_id}")
def run_log(agent_id: str, message_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(registry.agents().trace(tenant, agent_id, message_id))
