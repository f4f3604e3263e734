"""System routes (health, version, status, configuration, runtime log levels, usage stats), the task stop routes and
the agent tool listing: no key for the health check, version, language and configuration, as in RAGFlow."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import error, ok
from ragcore.bootstrap.container import get_container
from ragcore.errors import RetCode
from ragcore.services.system.status import component_status, gaussdb_status, oceanbase_status

from functions.system.accounts import router as accounts_router
from functions.system.aimlapi import router as aimlapi_router
from functions.system.models import router as models_router

router = APIRouter(tags=["system"])
# users, teams and tokens ride on the same Lambda as the system routes, and so do model providers, the tenant's
# models and the AI/ML API sign-in; their routes carry their own paths and keys, so they join this router as they
# are (include_router would nest a router that every request scans twice)
router.routes.extend([*accounts_router.routes, *models_router.routes, *aimlapi_router.routes])
VERSION = "0.1.0"


def _health() -> dict[str, str]:
    container = get_container()
    container.store.get("tenant", "_health", "_health")  # the metadata store answers
    return {"status": "ok", "db": "ok", "storage": "ok", "runtime": container.settings.runtime}


@router.get("/api/v1/system/healthz")
def healthz() -> JSONResponse:
    return ok(_health())


@router.get("/v1/system/healthz", include_in_schema=False)
def healthz_legacy() -> JSONResponse:
    return ok(_health())


@router.get("/api/v1/system/ping", response_class=PlainTextResponse)
def ping() -> PlainTextResponse:
    return PlainTextResponse("pong")  # RAGFlow answers the bare text, no envelope


@router.get("/api/v1/system/version")
def version() -> JSONResponse:
    return ok(VERSION)


@router.get("/api/v1/language")
def language() -> JSONResponse:
    # RAGFlow's front end asks which backend runtime answers; this one is Python too
    return ok({"language": "python"}, message="success")


@router.get("/api/v1/system/config")
def config() -> JSONResponse:
    registered = int(bool(get_container().settings.register_enabled))
    return ok({"registerEnabled": registered, "disablePasswordLogin": False}, message="success")


@router.get("/api/v1/system/status", dependencies=[Depends(current_tenant)])
def status() -> JSONResponse:
    return ok(component_status(bootstrap.status_probes()), message="success")


@router.get("/api/v1/system/oceanbase/status", dependencies=[Depends(current_tenant)])
def oceanbase() -> JSONResponse:
    data, code = oceanbase_status()
    return JSONResponse({"code": code, "message": "success", "data": data})  # RAGFlow: code 500 under HTTP 200


@router.get("/api/v1/system/gaussdb/status", dependencies=[Depends(current_tenant)])
def gaussdb() -> JSONResponse:
    return ok(gaussdb_status(), message="success")


@router.get("/api/v1/system/config/log", dependencies=[Depends(current_tenant)])
def get_log_levels() -> JSONResponse:
    return ok(bootstrap.log_levels().get(), message="success")


@router.put("/api/v1/system/config/log", dependencies=[Depends(current_tenant)])
async def set_log_level(request: Request) -> JSONResponse:
    return ok(bootstrap.log_levels().set(_json_or_none(await request.body(), request)), message="success")


@router.get("/api/v1/system/stats")
def stats(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.conversation_stats().report(tenant, dict(request.query_params)), message="success")


# ---- tasks: a dataset's GraphRAG / RAPTOR / mind-map runs (the task ids POST /datasets/{id}/index returns) ----
@router.post("/api/v1/tasks/{task_id}/cancel")
def cancel_task(task_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    bootstrap.index_tasks().cancel(tenant, task_id)
    return ok(True, message="success")


@router.patch("/api/v1/tasks/{task_id}")
async def patch_task(task_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    body = _json_or_none(await request.body(), request)
    if not isinstance(body, dict) or "action" not in body:
        return error(RetCode.ARGUMENT_ERROR, "required argument are missing: action; ")
    if body["action"] != "stop":
        return error(RetCode.ARGUMENT_ERROR, f"Invalid action '{body['action']}'. Only 'stop' is supported.")
    bootstrap.index_tasks().cancel(tenant, task_id)
    return ok(True, message="success")


# ---- agent tools ---------------------------------------------------------------------------------
@router.get("/api/v1/plugin/tools", dependencies=[Depends(current_tenant)])
def plugin_tools() -> JSONResponse:
    from ragcore.services.agents.engine.llm_tools import llm_tools

    return ok(llm_tools(), message="success")


def _json_or_none(raw: bytes, request: Request) -> Any:
    """The JSON body, or None when there is none or it is not JSON (RAGFlow's handlers then answer their own
    "required" message)."""
    if not raw.strip() or "json" not in request.headers.get("content-type", "application/json").lower():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
