"""Chat channel tests: the platforms' APIs faked on loopback (allowed through the channel guard), a knowledge base
whose chat assistant answers with citations, and helpers that post a delivery and wait for its answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.channels.fakes import Delivery, Platforms, credential
from tests.conftest import Api, app_with, start_server, stop_server
from tests.connectors.fake_http import serve

HANDBOOK = (b"Annual leave: staff get twenty days of annual leave each year.\n\n"
            b"Expenses: receipts are filed within thirty days of the purchase.\n")
QUESTION = "How many days of annual leave do staff get?"


@pytest.fixture(scope="module")
def platforms() -> Iterator[Platforms]:
    with serve() as fake:
        yield Platforms(fake)


def channel_env(platforms: Platforms) -> dict[str, str]:
    return {"CHANNEL_ALLOWED_HOSTS": "127.0.0.1", "CHANNEL_API_BASE_URLS": platforms.api_bases(),
            "INBOX_POLL_S": "3600", "CONNECTOR_TICK_S": "3600"}


@pytest.fixture(scope="module")
def server_api(tmp_path_factory: pytest.TempPathFactory, platforms: Platforms) -> Iterator[Api]:
    """The real local server (uvicorn on its own port and DATA_DIR) reaching the platform fakes."""
    server = start_server(tmp_path_factory.mktemp("channels") / "var", channel_env(platforms))
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield Api(client=client, key=server.key, tenant="")  # type: ignore[arg-type]
    stop_server(server)


@pytest.fixture
def chapi(data_dir: Path, platforms: Platforms, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The local app in process (its worker pool answers the queued deliveries), reaching the platform fakes."""
    yield from app_with(channel_env(platforms), monkeypatch)


def handbook_chat(api: Api, name: str = "handbook") -> str:
    """A chat assistant over a parsed handbook: it answers QUESTION citing the handbook."""
    ds = make_dataset(api, name)
    [doc] = ingest(api, ds, {"handbook.txt": HANDBOOK})
    assert doc["run"] == "DONE", doc
    res = api.call("POST", "/api/v1/chats", json={"name": f"{name} assistant", "dataset_ids": [ds]})
    assert res["code"] == 0, res
    return str(res["data"]["id"])


def create_channel(api: Api, kind: str, platforms: Platforms, chat_id: str | None, **extra: Any) -> dict[str, Any]:
    body = {"name": f"{kind} bot", "channel": kind, "config": {"credential": credential(kind, platforms)},
            "chat_id": chat_id, **extra}
    res = api.call("POST", "/api/v1/chat-channels", json=body)
    assert res["code"] == 0, res
    return dict(res["data"])


def post(api: Api, channel_id: str, sent: Delivery) -> httpx.Response:
    return api.client.request(sent.method, f"/api/v1/chat-channels/{channel_id}/webhook", headers=sent.headers,
                              content=sent.body, params=sent.query)


def runtime(api: Api, channel_id: str) -> dict[str, Any]:
    res = api.call("GET", f"/api/v1/chat-channels/{channel_id}/runtime")
    assert res["code"] == 0, res
    return dict(res["data"])


def wait_for(check: Callable[[], Any], timeout: float = 60, what: str = "the answer") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come within {timeout}s")
