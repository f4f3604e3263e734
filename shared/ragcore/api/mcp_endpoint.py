"""The MCP endpoint (POST /api/v1/mcp): the official MCP SDK's Streamable HTTP server, stateless with JSON
responses, so each request stands alone (a Lambda behind the HTTP API serves it like any other route).

The caller's API key comes as RAGFlow's MCP server reads it: `Authorization: Bearer <key>`, else an `api_key` or
`X-API-Key` header; a login's access token works too, as on every /api/v1 route. No key, or an unknown one, is an
HTTP 401 whose body is a JSON-RPC error. The tools are ragcore.services.mcp.toolbox's; an unknown tool is a
JSON-RPC "invalid params" error, a tool's refusal a result with `isError` (what hosts show the model).

The SDK (~0.7 s of imports) loads on the first MCP request, not when the function starts: the other routes of
the function, and its cold start, don't pay for it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from ragcore import bootstrap

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server

TENANT_STATE = "ragflow_mcp_tenant"
SERVER_NAME = "ragflow-serverless"
SERVER_VERSION = "0.1.0"  # the API's version (FastAPI's app version)
INSTRUCTIONS = ("Search this RAGFlow deployment's datasets (ragflow_retrieval), list its datasets, documents and chat "
                "assistants, read a document's chunks and ask a chat assistant. Lists are paged: pass `page`.")
UNAUTHORIZED = -32001  # a server-defined JSON-RPC error code: the request carried no valid API key
INVALID_REQUEST = -32600  # JSON-RPC's


def api_key(request: Request) -> str | None:
    """RAGFlow's MCP server's order: a Bearer token, else the `api_key` / `X-API-Key` header."""
    header = request.headers.get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    for name in ("api_key", "x-api-key", "api-key"):
        value = request.headers.get(name, "").strip()
        if value:
            return value
    return None


def resolve_tenant(request: Request) -> str | None:
    key = api_key(request)
    if key is None:
        return None
    tenant = bootstrap.tenants().resolve(key)
    if tenant is None:
        user = bootstrap.users().resolve_session(key)
        tenant = str(user["tenant_id"]) if user is not None else None
    return tenant


async def _refuse(send: Send, status: int, code: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def unauthorized(send: Send) -> None:
    await _refuse(send, 401, UNAUTHORIZED, "Unauthorized: send your RAGFlow API key as 'Authorization: Bearer <key>' "
                                           "(or an 'api_key' / 'X-API-Key' header).")


async def serve(scope: Scope, receive: Receive, send: Send) -> None:
    """One MCP request (ASGI), authenticated, answered by a session manager of its own (stateless: nothing is
    kept between requests, and no lifespan is needed, so Mangum's lifespan="off" is fine)."""
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.concurrency import run_in_threadpool

    tenant = await run_in_threadpool(resolve_tenant, Request(scope, receive))
    if tenant is None:
        await unauthorized(send)
        return
    if scope.get("method") != "POST":
        # stateless: no server-initiated stream to GET (it would stay open until the function times out) and no
        # session to DELETE; the transport's spec answers both with 405
        await _refuse(send, 405, INVALID_REQUEST, "Method Not Allowed: this MCP endpoint is stateless; send JSON-RPC "
                                                  "messages with POST", [(b"allow", b"POST")])
        return
    content_type = Request(scope).headers.get("content-type", "")
    if "application/json" not in content_type.lower():
        # the SDK's own answer is a bare text/plain 400: a host shows a JSON-RPC error, so answer one
        await _refuse(send, 415, INVALID_REQUEST, "Unsupported Media Type: send JSON-RPC messages as application/json", [])
        return
    scope.setdefault("state", {})[TENANT_STATE] = tenant
    manager = StreamableHTTPSessionManager(app=mcp_server(), json_response=True, stateless=True)
    async with manager.run():
        await manager.handle_request(scope, receive, send)


def _tenant_of(ctx: Any) -> str:
    request = getattr(ctx, "request", None)
    tenant = getattr(getattr(request, "state", None), TENANT_STATE, None)
    if not tenant:  # serve() always sets it; a request reaching here without one is refused, never served blind
        from mcp.shared.exceptions import MCPError

        raise MCPError(code=UNAUTHORIZED, message="Unauthorized")
    return str(tenant)


@cache
def mcp_server() -> Server[Any]:
    import mcp.types as types
    from anyio import to_thread
    from mcp.server.lowlevel import Server
    from mcp.shared.exceptions import MCPError
    from mcp_types import INVALID_PARAMS

    from ragcore.services.mcp.toolbox import ToolFailed, UnknownTool

    async def list_tools(ctx: Any, _params: Any) -> types.ListToolsResult:
        tenant = _tenant_of(ctx)
        tools = await to_thread.run_sync(bootstrap.mcp_toolbox().tools, tenant)
        return types.ListToolsResult(tools=[types.Tool.model_validate(t) for t in tools])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tenant = _tenant_of(ctx)
        try:
            text = await to_thread.run_sync(bootstrap.mcp_toolbox().call, tenant, params.name, params.arguments)
        except UnknownTool as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        except ToolFailed as exc:
            return types.CallToolResult(content=[types.TextContent(type="text", text=str(exc))], is_error=True)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

    return Server(SERVER_NAME, version=SERVER_VERSION, instructions=INSTRUCTIONS,
                  on_list_tools=list_tools, on_call_tool=call_tool)
