"""MCP tests: the whole local app served by uvicorn on loopback (in this process, so tests can add tenants), driven
by the official MCP SDK's client over Streamable HTTP, as an MCP host drives it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api, free_port

T = TypeVar("T")
HANDBOOK = (b"Annual leave: staff get twenty days of annual leave each year.\n\n"
            b"Expenses: receipts are filed within thirty days of the purchase.\n")
ROVERS = b"Mars rovers: Curiosity landed in Gale crater in 2012 and still drives across the crater floor.\n"


@dataclass
class Served:
    base_url: str
    api: Api  # the REST API as the first tenant
    other: Api  # the REST API as a second tenant

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/api/v1/mcp"


def serve_app(app: Any) -> tuple[str, Callable[[], None]]:
    """uvicorn on a free loopback port in a thread; returns the base URL and how to stop it."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


@contextmanager
def start_local(tmp: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    from ragcore.bootstrap import container

    mp = pytest.MonkeyPatch()
    for name, value in {"DATA_DIR": str(tmp), "RAGFLOW_RUNTIME": "local", "INBOX_POLL_S": "3600",
                        "CONNECTOR_TICK_S": "3600", **(env or {})}.items():
        mp.setenv(name, value)
    container.reset()
    from functions.local import create_local_app

    base, stop = serve_app(create_local_app())
    try:
        yield base
    finally:
        stop()
        container.reset()
        mp.undo()


def tenant_api(base: str, name: str) -> Api:
    from ragcore.bootstrap import tenants

    service = tenants()
    tenant = service.create_tenant(name)
    client = httpx.Client(base_url=base, timeout=60)
    return Api(client=client, key=service.create_key(tenant).key, tenant=tenant)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Two tenants; the first has a parsed handbook and rovers dataset and a chat assistant over the handbook."""
    with start_local(tmp_path_factory.mktemp("mcp") / "var") as base:
        api, other = tenant_api(base, "first"), tenant_api(base, "second")
        yield Served(base, api, other)
        api.client.close()
        other.client.close()


@dataclass
class Knowledge:
    handbook: str
    rovers: str
    handbook_doc: dict[str, Any]
    rovers_doc: dict[str, Any]
    chat: str


@pytest.fixture(scope="module")
def knowledge(served: Served) -> Knowledge:
    api = served.api
    handbook = make_dataset(api, "handbook", description="The staff handbook")
    rovers = make_dataset(api, "rovers", description="Notes on Mars rovers")
    [handbook_doc] = ingest(api, handbook, {"handbook.txt": HANDBOOK})
    [rovers_doc] = ingest(api, rovers, {"rovers.txt": ROVERS})
    assert handbook_doc["run"] == rovers_doc["run"] == "DONE"
    res = api.call("PUT", f"/api/v1/datasets/{handbook}/documents/{handbook_doc['id']}",
                   json={"meta_fields": {"team": "hr"}})
    assert res["code"] == 0, res
    res = api.call("POST", "/api/v1/chats", json={"name": "handbook assistant", "dataset_ids": [handbook],
                                                  "description": "Answers staff questions"})
    assert res["code"] == 0, res
    return Knowledge(handbook, rovers, handbook_doc, rovers_doc, str(res["data"]["id"]))


async def with_session(url: str, headers: dict[str, str], use: Callable[[Any], Awaitable[T]]) -> T:
    """A ClientSession of the official SDK over Streamable HTTP, initialized, handed to `use` (whose error is
    raised as itself)."""
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (httpx2.AsyncClient(headers=headers, timeout=60) as http,
                streamable_http_client(url, http_client=http) as (read, write),
                ClientSession(read, write) as session):
        await session.initialize()
        try:
            return await use(session)
        except Exception as exc:  # raised out of the session's task groups it would come wrapped in a group
            failed = exc
    raise failed


def session_call(served: Served, use: Callable[[Any], Awaitable[T]], key: str | None = None,
                 headers: dict[str, str] | None = None) -> T:
    sent = headers if headers is not None else {"Authorization": f"Bearer {key or served.api.key}"}
    return asyncio.run(with_session(served.mcp_url, sent, use))


def call_tool(served: Served, name: str, arguments: dict[str, Any], key: str | None = None) -> Any:
    async def use(session: Any) -> Any:
        return await session.call_tool(name, arguments)

    return session_call(served, use, key=key)


def text_of(result: Any) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text", result
    return str(result.content[0].text)
