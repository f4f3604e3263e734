"""An MCP server on loopback built with the official SDK (MCPServer): the tools agent and mcp_api tests call, over
Streamable HTTP (stateful, SSE replies: what most servers run) and over the older SSE transport. Each request's
headers are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from tests.mcp.conftest import serve_app


@dataclass
class FakeMcp:
    url: str  # Streamable HTTP endpoint
    sse_url: str
    headers: list[dict[str, str]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def build(fake: FakeMcp) -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("weather-station")

    @server.tool(description="Today's weather in a city.")
    def get_weather(city: str) -> str:
        fake.calls.append(("get_weather", {"city": city}))
        return f"Sunny and 21 degrees in {city}"

    @server.tool(description="Add two whole numbers.")
    def add(a: int, b: int) -> str:
        fake.calls.append(("add", {"a": a, "b": b}))
        return str(a + b)

    @server.tool(description="Always fails.")
    def broken() -> str:
        from mcp.server.mcpserver.exceptions import ToolError

        raise ToolError("the station is offline")

    return server


def recording(app: ASGIApp, fake: FakeMcp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            fake.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await app(scope, receive, send)

    return wrapped


@contextmanager
def fake_mcp() -> Iterator[FakeMcp]:
    fake = FakeMcp(url="", sse_url="")
    server = build(fake)
    http_base, stop_http = serve_app(recording(server.streamable_http_app(), fake))
    sse_base, stop_sse = serve_app(recording(build(fake).sse_app(), fake))
    fake.url, fake.sse_url = f"{http_base}/mcp", f"{sse_base}/sse"
    try:
        yield fake
    finally:
        stop_http()
        stop_sse()
