"""McpClient over the official MCP SDK's client (Streamable HTTP, or the older SSE transport), one session per call.

Every HTTP request the SDK makes goes through a transport that resolves the host once, refuses private, loopback
and link-local addresses unless the host is allowed (the same check as the agent Invoke component's fetches,
ragcore.adapters.guarded_http) and connects to the very address it checked. The callers are synchronous (routes in
the thread pool, agent runs): each call runs its own event loop, on a thread of its own when the caller's thread
already runs one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx2

from ragcore.adapters.guarded_http import RefusedTarget, checked_address
from ragcore.ports import McpEndpoint, McpToolResult, McpUnreachable

T = TypeVar("T")
SSE = "sse"


class _GuardedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, allowed: frozenset[str], allow_setting: str) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._allowed = allowed
        self._setting = allow_setting

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        from anyio import to_thread

        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        if request.url.scheme not in ("http", "https") or not host:
            raise RefusedTarget(f"'{request.url}' is not an http(s) URL")
        ip = await to_thread.run_sync(checked_address, host, port, self._allowed, self._setting)
        if ip != host:  # connect to the checked address; the Host header and TLS name stay the host's
            request.extensions = {**request.extensions, "sni_hostname": host}
            request.url = request.url.copy_with(host=ip)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _reason(exc: BaseException) -> str:
    """What went wrong, for the user: the guard's refusal or the server's error as it said it; never headers."""
    from mcp.shared.exceptions import MCPError

    for leaf in _leaves(exc):
        if isinstance(leaf, RefusedTarget | MCPError):
            return str(leaf)
    for leaf in _leaves(exc):
        if isinstance(leaf, httpx2.HTTPStatusError):
            return f"the MCP server answered HTTP {leaf.response.status_code}"
        if isinstance(leaf, TimeoutError | httpx2.TimeoutException):
            return "the MCP server did not answer in time"
        if isinstance(leaf, httpx2.HTTPError | OSError):
            return f"could not connect to the MCP server ({type(leaf).__name__})"
    return f"the MCP session failed ({type(_leaves(exc)[0]).__name__})"


class SdkMcpClient:
    def __init__(self, *, allowed_hosts: frozenset[str], allow_setting: str = "MCP_ALLOWED_HOSTS",
                 max_timeout_s: float = 20.0) -> None:
        self._allowed = frozenset(h.lower() for h in allowed_hosts)
        self._setting = allow_setting
        self._max_timeout = max_timeout_s

    def refusal(self, url: str) -> str | None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "Invalid url."
        if parts.scheme not in ("http", "https"):
            return f"Disallowed URL scheme: {parts.scheme!r}. Only ['http', 'https'] are allowed."
        if not parts.hostname:
            return "URL is missing a host."
        try:
            checked_address(parts.hostname, port, self._allowed, self._setting)
        except RefusedTarget as exc:
            return str(exc)
        return None

    def list_tools(self, endpoint: McpEndpoint, timeout_s: float) -> list[dict[str, Any]]:
        async def use(session: Any) -> list[dict[str, Any]]:
            listed = await session.list_tools()
            return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed.tools]

        return self._session(endpoint, timeout_s, use)

    def call_tool(self, endpoint: McpEndpoint, name: str, arguments: dict[str, Any], timeout_s: float) -> McpToolResult:
        async def use(session: Any) -> McpToolResult:
            result = await session.call_tool(name, arguments)
            texts = [str(getattr(block, "text", "")) for block in result.content if getattr(block, "type", "") == "text"]
            if not texts and result.structured_content is not None:
                import json

                texts = [json.dumps(result.structured_content, ensure_ascii=False)]
            return McpToolResult(text="\n".join(texts), is_error=bool(result.is_error))

        return self._session(endpoint, timeout_s, use)

    # ---- one session ----------------------------------------------------------------------------
    def _session(self, endpoint: McpEndpoint, timeout_s: float, use: Callable[[Any], Awaitable[T]]) -> T:
        timeout = max(0.5, min(timeout_s or self._max_timeout, self._max_timeout))
        outcome: dict[str, Any] = {}

        async def run() -> None:
            try:
                with_timeout = asyncio.wait_for(self._open(endpoint, timeout, use), timeout)
                outcome["value"] = await with_timeout
            except Exception as exc:  # noqa: BLE001 - every failure of a remote session becomes McpUnreachable
                outcome["error"] = _reason(exc)
            except BaseExceptionGroup as group:  # groups of task-group failures (never KeyboardInterrupt alone)
                outcome["error"] = _reason(group)

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(run())
        else:  # called from code already on an event loop: a thread of its own
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, run()).result()
        if "error" in outcome:
            raise McpUnreachable(outcome["error"])
        return outcome["value"]  # type: ignore[no-any-return]

    async def _open(self, endpoint: McpEndpoint, timeout: float, use: Callable[[Any], Awaitable[T]]) -> T:
        from mcp import ClientSession

        headers = {str(k): str(v) for k, v in endpoint.headers.items()}
        failed: BaseException | None = None

        def client(headers: dict[str, str] | None = None, timeout: httpx2.Timeout | None = None,
                   auth: httpx2.Auth | None = None) -> httpx2.AsyncClient:
            return httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth,
                                      transport=_GuardedTransport(self._allowed, self._setting))

        if endpoint.server_type == SSE:
            from mcp.client.sse import sse_client

            async with (sse_client(endpoint.url, headers=headers, timeout=timeout, sse_read_timeout=timeout,
                                   httpx_client_factory=client) as (read, write),
                        ClientSession(read, write) as session):
                await session.initialize()
                try:
                    return await use(session)
                except Exception as exc:  # out of the session's task group it would come wrapped
                    failed = exc
        else:
            from mcp.client.streamable_http import streamable_http_client

            async with (client(headers=headers, timeout=httpx2.Timeout(timeout)) as http,
                        streamable_http_client(endpoint.url, http_client=http) as (read, write),
                        ClientSession(read, write) as session):
                await session.initialize()
                try:
                    return await use(session)
                except Exception as exc:
                    failed = exc
        raise failed
