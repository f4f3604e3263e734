"""HTTP routes of the mcp module: our MCP endpoint (/api/v1/mcp, Streamable HTTP, authenticated by its own reading
of the API key: ragcore.api.mcp_endpoint) and RAGFlow's mcp_api (api/apps/restful_apis/mcp_api.py): a tenant's MCP
servers, their import and test."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from ragcore.api.auth import current_tenant
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


@public_router.api_route("/mcp", methods=["POST", "GET", "DELETE"], response_class=Response)
async def mcp_endpoint(request: Request) -> Response:
    return _Delegated(request)
