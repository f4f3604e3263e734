"""HTTP routes of the mcp module: our MCP endpoint (/api/v1/mcp, Streamable HTTP, authenticated by its own reading
of the API key: ragcore.api.mcp_endpoint) and RAGFlow's mcp_api (api/apps/restful_apis/mcp_api.py): a tenant's MCP
servers, their import and test."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object
from starlette.types import Receive, Scope, Send

router = APIRouter(prefix="/api/v1", tags=["mcp"], dependencies=[Depends(current_tenant)])
public_router = APIRouter(prefix="/api/v1", tags=["mcp"])


class _Delegated(Response):
    """The MCP SDK answers the request itself (its body unread by FastAPI): a FastAPI route, so API Gateway and the
    route table see it like any other."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        self._request = request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from ragcore.api.mcp_endpoint import serve

        await serve(self._request.scope, self._request.receive, send)


async def mcp_endpoint(request: Request) -> Response:
    return _Delegated(request)


public_router.add_api_route("/mcp", mcp_endpoint, methods=["POST"], response_class=Response)
# GET (a server-sent event stream) and DELETE (a session's end) exist only to be refused with a JSON-RPC error: the
# endpoint is stateless, and a stream would hold a Lambda until its timeout; not published in the OpenAPI schema
public_router.add_api_route("/mcp", mcp_endpoint, methods=["GET", "DELETE"], response_class=Response,
                            include_in_schema=False)


# ---- RAGFlow's mcp_api: sync handlers (FastAPI runs them in its thread pool), as listing a server's tools waits on it


def _mcp_ids(request: Request) -> list[str]:
    """RAGFlow's `mcp_ids` (repeatable, comma-separated), else `mcp_id`."""
    raw = request.query_params.getlist("mcp_ids") or [request.query_params.get("mcp_id", "")]
    return [i for item in raw for i in item.split(",") if i]


@router.get("/mcp/servers")
def list_mcp_servers(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.mcp_servers().list_servers(tenant, dict(request.query_params), _mcp_ids(request)), message="success")


@router.post("/mcp/servers")
def create_mcp_server(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.mcp_servers().create(tenant, body), message="success")


@router.post("/mcp/servers/import")
def import_mcp_servers(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.mcp_servers().import_many(tenant, body), message="success")


@router.get("/mcp/servers/{mcp_id}")
def get_mcp_server(mcp_id: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    service = bootstrap.mcp_servers()
    if request.query_params.get("mode") == "download":
        return ok(service.export(tenant, mcp_id), message="success")
    return ok(service.get(tenant, mcp_id), message="success")


@router.put("/mcp/servers/{mcp_id}")
def update_mcp_server(mcp_id: str, tenant: str = Depends(current_tenant),
                      body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.mcp_servers().update(tenant, mcp_id, body), message="success")


@router.delete("/mcp/servers/{mcp_id}")
def delete_mcp_server(mcp_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.mcp_servers().delete(tenant, mcp_id), message="success")


@router.post("/mcp/servers/{mcp_id}/test")
def test_mcp_server(mcp_id: str, tenant: str = Depends(current_tenant),
                    body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.mcp_servers().test(tenant, mcp_id, body), message="success")
