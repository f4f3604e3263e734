"""RAGFlow's mcp_api (/api/v1/mcp/servers…) against an MCP server built with the official SDK on loopback (allowed
through MCP_ALLOWED_HOSTS): saving a server lists its tools, `test` lists them now, import takes an MCP host's
config; URLs go through the outbound guard; another tenant's server answers like a missing one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, app_with, free_port
from tests.mcp.fake_mcp import FakeMcp, fake_mcp

TOOLS = {"get_weather", "add", "broken"}


@pytest.fixture(scope="module")
def station() -> Iterator[FakeMcp]:
    with fake_mcp() as fake:
        yield fake


@pytest.fixture
def mapi(data_dir: Path, station: FakeMcp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"MCP_ALLOWED_HOSTS": "127.0.0.1", "MCP_TIMEOUT_S": "10"}, monkeypatch)


def create(api: Api, station: FakeMcp, name: str = "weather", **extra: Any) -> dict[str, Any]:
    res = api.call("POST", "/api/v1/mcp/servers", json={"name": name, "url": station.url, "server_type": "streamable-http",
                                                         **extra})
    assert res["code"] == 0, res
    return dict(res["data"])


def test_create_lists_the_servers_tools_and_crud_round_trip(mapi: Api, station: FakeMcp) -> None:
    made = create(mapi, station, description="the weather station", headers={"X-Station": "${station}"},
                  variables={"station": "north"})
    assert set(made["variables"]["tools"]) == TOOLS and made["variables"]["station"] == "north"
    weather = made["variables"]["tools"]["get_weather"]
    assert weather["enabled"] is True and weather["inputSchema"]["required"] == ["city"]
    assert made["tenant_id"] == mapi.tenant and made["server_type"] == "streamable-http"
    assert station.headers[-1].get("x-station") == "north"  # the header's variable substituted
    listed = mapi.call("GET", "/api/v1/mcp/servers")
    assert listed["code"] == 0 and listed["data"]["total"] == 1
    [row] = listed["data"]["mcp_servers"]
    assert set(row) == {"id", "name", "server_type", "url", "description", "variables", "create_date", "update_date"}
    assert mapi.call("GET", f"/api/v1/mcp/servers/{made['id']}")["data"]["headers"] == {"X-Station": "${station}"}
    exported = mapi.call("GET", f"/api/v1/mcp/servers/{made['id']}", params={"mode": "download"})["data"]
    assert exported["mcpServers"]["weather"]["url"] == station.url and set(exported["mcpServers"]["weather"]["tools"]) == TOOLS
    updated = mapi.call("PUT", f"/api/v1/mcp/servers/{made['id']}", json={"name": "weather2", "description": "renamed"})
    assert updated["code"] == 0 and updated["data"]["name"] == "weather2" and set(updated["data"]["variables"]["tools"]) == TOOLS
    assert create(mapi, station, name="weather")["name"] == "weather"  # the old name is free again
    assert mapi.call("GET", "/api/v1/mcp/servers", params={"keywords": "WEATHER2"})["data"]["total"] == 1
    assert mapi.call("DELETE", f"/api/v1/mcp/servers/{made['id']}") == {"code": 0, "message": "success", "data": True}
    gone = mapi.call("GET", f"/api/v1/mcp/servers/{made['id']}")
    assert gone == {"code": 102, "message": f"Cannot find MCP server {made['id']} for user {mapi.tenant}", "data": None}


def test_an_sse_server(mapi: Api, station: FakeMcp) -> None:
    res = mapi.call("POST", "/api/v1/mcp/servers", json={"name": "sse", "url": station.sse_url, "server_type": "sse"})
    assert res["code"] == 0 and set(res["data"]["variables"]["tools"]) == TOOLS, res


@pytest.mark.parametrize(("body", "code", "message"), [
    ({"name": "x"}, 101, "required argument are missing: url,server_type; "),
    ({"name": "x", "url": "http://example.com/mcp", "server_type": "stdio"}, 102, "Unsupported MCP server type."),
    ({"name": "", "url": "http://example.com/mcp", "server_type": "sse"}, 102,
     "Invalid MCP name or length is 0 which is large than 255."),
    ({"name": "x" * 256, "url": "http://example.com/mcp", "server_type": "sse"}, 102,
     "Invalid MCP name or length is 256 which is large than 255."),
    ({"name": "x", "url": "ftp://example.com/mcp", "server_type": "sse"}, 102,
     "Disallowed URL scheme: 'ftp'. Only ['http', 'https'] are allowed."),
    ({"name": "x", "url": 5, "server_type": "sse"}, 102, "Invalid url."),
])
def test_create_refusals(mapi: Api, body: dict[str, Any], code: int, message: str) -> None:
    assert mapi.call("POST", "/api/v1/mcp/servers", json=body) == {"code": code, "message": message, "data": None}


def test_duplicate_names_are_refused(mapi: Api, station: FakeMcp) -> None:
    create(mapi, station, name="dup")
    res = mapi.call("POST", "/api/v1/mcp/servers", json={"name": "dup", "url": station.url, "server_type": "streamable-http"})
    assert res == {"code": 102, "message": "Duplicated MCP server name.", "data": None}


def test_test_lists_the_tools_now_and_says_why_it_cannot(mapi: Api, station: FakeMcp) -> None:
    res = mapi.call("POST", "/api/v1/mcp/servers/anything/test", json={"url": station.url, "server_type": "streamable-http"})
    assert res["code"] == 0 and {t["name"] for t in res["data"]} == TOOLS and all(t["enabled"] for t in res["data"])
    dead = f"http://127.0.0.1:{free_port()}/mcp"
    res = mapi.call("POST", "/api/v1/mcp/servers/anything/test", json={"url": dead, "server_type": "streamable-http"})
    assert res["code"] == 102 and res["message"].startswith("Test MCP error: could not connect to the MCP server"), res
    res = mapi.call("POST", "/api/v1/mcp/servers/x/test", json={"url": "", "server_type": "sse"})
    assert res == {"code": 102, "message": "Invalid MCP url.", "data": None}


def test_a_server_that_cannot_be_reached_is_saved_without_tools(mapi: Api) -> None:
    res = mapi.call("POST", "/api/v1/mcp/servers", json={"name": "down", "url": f"http://127.0.0.1:{free_port()}/mcp",
                                                         "server_type": "streamable-http"})
    assert res["code"] == 0 and res["data"]["variables"]["tools"] == {}, res


def test_import_an_mcp_hosts_config(mapi: Api, station: FakeMcp) -> None:
    create(mapi, station, name="weather")
    config = {"mcpServers": {"weather": {"type": "streamable-http", "url": station.url},
                             "old": {"type": "sse", "url": station.sse_url, "authorization_token": "tok"},
                             "broken": {"url": station.url}, "odd": {"type": "stdio", "url": station.url}}}
    res = mapi.call("POST", "/api/v1/mcp/servers/import", json=config)
    assert res["code"] == 0, res
    by = {r["server"]: r for r in res["data"]["results"]}
    assert by["weather"]["success"] and by["weather"]["new_name"] == "weather_0"
    assert by["weather"]["message"] == "Renamed from 'weather' to 'weather_0' avoid duplication"
    assert by["old"]["success"] and by["old"]["new_name"] == "old"
    assert by["broken"] == {"server": "broken", "success": False, "message": "Missing required fields (type or url)"}
    assert by["odd"] == {"server": "odd", "success": False, "message": "Unsupported MCP server type."}
    saved = mapi.call("GET", f"/api/v1/mcp/servers/{by['old']['id']}")["data"]
    assert saved["variables"]["authorization_token"] == "tok" and set(saved["variables"]["tools"]) == TOOLS
    assert mapi.call("POST", "/api/v1/mcp/servers/import", json={"mcpServers": {}}) == \
        {"code": 102, "message": "No MCP servers provided.", "data": None}


def test_another_tenants_server_answers_like_a_missing_one(mapi: Api, station: FakeMcp) -> None:
    made = create(mapi, station)
    other = mapi.new_tenant_key()
    missing = {"code": 102, "data": None}
    for method, body in (("GET", None), ("PUT", {"name": "mine"}), ("DELETE", None)):
        res = mapi.call(method, f"/api/v1/mcp/servers/{made['id']}", key=other, json=body)
        assert {k: res[k] for k in missing} == missing and res["message"].startswith(f"Cannot find MCP server {made['id']}")
    assert mapi.call("GET", "/api/v1/mcp/servers", key=other)["data"] == {"mcp_servers": [], "total": 0}
    assert mapi.call("GET", "/api/v1/mcp/servers", key=other, params={"mcp_ids": made["id"]})["data"]["total"] == 0
    assert mapi.call("GET", f"/api/v1/mcp/servers/{made['id']}")["data"]["name"] == "weather"  # untouched


def test_private_addresses_are_refused_unless_allowed(data_dir: Path, station: FakeMcp, monkeypatch: pytest.MonkeyPatch) -> None:
    for api in app_with({"MCP_ALLOWED_HOSTS": ""}, monkeypatch):
        res = api.call("POST", "/api/v1/mcp/servers", json={"name": "x", "url": station.url, "server_type": "streamable-http"})
        assert res["code"] == 102 and "private, loopback or link-local" in res["message"] and "MCP_ALLOWED_HOSTS" in res["message"]
        res = api.call("POST", "/api/v1/mcp/servers/x/test", json={"url": station.url, "server_type": "streamable-http"})
        assert res["code"] == 102 and "MCP_ALLOWED_HOSTS" in res["message"]
        res = api.call("POST", "/api/v1/mcp/servers/import", json={"mcpServers": {"w": {"type": "sse", "url": station.sse_url}}})
        assert "MCP_ALLOWED_HOSTS" in res["data"]["results"][0]["message"]
        assert api.call("GET", "/api/v1/mcp/servers")["data"]["total"] == 0
