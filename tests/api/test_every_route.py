"""Properties every /api/v1 route must have, checked over the app's own route table, so a new route cannot skip them:
a missing or bad key is refused with RAGFlow's 401 envelope, and another tenant's ids answer exactly like ids that
do not exist (and change nothing)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.api.docs_helpers import make_dataset, upload
from tests.conftest import Api

OPEN = {"/api/v1/system/healthz", "/v1/system/healthz", "/api/v1/system/ping", "/api/v1/system/version",
        "/api/v1/language", "/api/v1/system/config", "/api/v1/dify/retrieval/health",
        "/api/v1/uploads/{token}", "/openapi.json", "/docs", "/docs/oauth2-redirect",
        "/api/v1/agents/{agent_id}/webhook",  # answers to the webhook's own security (tests/agents/test_agent_webhooks.py)
        "/api/v1/chat-channels/{channel_id}/webhook",  # answers to the platform's signature (tests/channels/)
        "/api/v1/mcp",  # the MCP endpoint refuses with a JSON-RPC error in its 401 (tests/mcp/test_mcp_endpoint.py)
        # accounts: registering, logging in and the password-reset and OAuth steps come before any key
        "/api/v1/users", "/api/v1/auth/login", "/api/v1/auth/login/channels", "/api/v1/auth/login/{channel}",
        "/api/v1/auth/oauth/{channel}/callback", "/api/v1/auth/password/forgot/captcha",
        "/api/v1/auth/password/forgot/otp", "/api/v1/auth/password/forgot/otp/verify", "/api/v1/auth/password/reset",
        # the OAuth providers send the user's browser back here (tests/connectors/test_oauth_flows.py)
        "/api/v1/connectors/gmail/oauth/web/callback", "/api/v1/connectors/google-drive/oauth/web/callback",
        "/api/v1/connectors/box/oauth/web/callback"}
UNAUTHORIZED = {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}
# the embeddable bots answer to a beta token instead, and refuse as RAGFlow's bot routes do: a data error in a 200
BOTS = ("/api/v1/chatbots/", "/api/v1/agentbots/", "/api/v1/searchbots/")
BOT_MISSING = {"code": 102, "message": "Authorization is not valid!", "data": None}
BOT_INVALID = {"code": 102, "message": "Authentication error: API key is invalid! ", "data": None}


def is_bot(path: str) -> bool:
    return path.startswith(BOTS)


def api_routes(api: Api) -> list[tuple[str, str]]:
    from functions.local import routers

    out: list[tuple[str, str]] = []
    for router in routers():
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path not in OPEN:
                out.extend((m, route.path) for m in sorted(route.methods or []))
    return out


def fill(path: str, values: dict[str, str]) -> str:
    """The path with the given ids; any other parameter (a provider's name, a channel) gets one fixed unknown value,
    the same in the foreign and the missing request."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), uuid.uuid5(uuid.NAMESPACE_URL, m.group(1)).hex), path)


def test_every_route_refuses_missing_and_bad_keys(api: Api) -> None:
    routes = api_routes(api)
    assert len(routes) > 60
    assert sum(is_bot(path) for _, path in routes) == 10
    for method, path in routes:
        url = fill(path, {})
        for headers in ({}, {"Authorization": "Bearer invalid_key_123"}, {"Authorization": "Basic abc"}):
            r = api.client.request(method, url, headers=headers, json={})
            if is_bot(path):
                assert r.status_code == 200 and r.json() == (BOT_INVALID if headers else BOT_MISSING), (method, path, r.text[:200])
            else:
                assert r.status_code == 401 and r.json() == UNAUTHORIZED, (method, path, r.text[:200])
        if is_bot(path):  # an API key is not a beta token
            r = api.client.request(method, url, headers=api.headers(), json={})
            assert r.json() == BOT_INVALID, (method, path)


def test_revoked_keys_are_refused(api: Api) -> None:
    from ragcore.bootstrap import tenants

    key = tenants().create_key(api.tenant).key
    assert api.call("GET", "/api/v1/datasets", key=key)["code"] == 0
    assert tenants().revoke(key)
    assert api.client.get("/api/v1/datasets", headers=api.headers(key)).json() == UNAUTHORIZED


@pytest.fixture
def owned(api: Api) -> dict[str, str]:
    """One of each thing tenant A owns, by path parameter name."""
    ds = make_dataset(api, "tenant-a")
    [doc] = upload(api, ds, {"a.txt": b"Tenant A's private text.\n"})
    chunk = api.call("POST", f"/api/v1/datasets/{ds}/documents/{doc['id']}/chunks", json={"content": "A's chunk"})["data"]["chunk"]
    chat = api.call("POST", "/api/v1/chats", json={"name": "a-chat", "dataset_ids": [ds]})["data"]
    session = api.call("POST", f"/api/v1/chats/{chat['id']}/sessions", json={"name": "s"})["data"]
    folder = api.call("POST", "/api/v1/files", json={"name": "a-folder", "type": "folder"})["data"]
    memory = api.call("POST", "/api/v1/memories", json={"name": "a-memory", "memory_type": ["raw"],
                                                         "embd_id": "all-MiniLM-L6-v2@Builtin", "llm_id": "extractive@Builtin"})["data"]
    from tests.agents.helpers import ECHO, create_agent, dsl

    agent_id = create_agent(api, "a-agent", dsl(ECHO))
    connector = api.call("POST", "/api/v1/connectors", json={"name": "a-feed", "source": "rss",
                                                              "config": {"feed_url": "https://example.com/feed.xml"}})["data"]
    channel = api.call("POST", "/api/v1/chat-channels", json={"name": "a-bot", "channel": "feishu", "chat_id": chat["id"],
                                                               "config": {"credential": {
                                                                   "app_id": "cli_a", "app_secret": "secret-a",
                                                                   "verification_token": "token-a"}}})["data"]
    mcp_id = uuid.uuid4().hex  # written directly: saving one through the API would reach its URL
    from ragcore.bootstrap import get_container
    from ragcore.domain.kinds import MCP_SERVER

    get_container().store.put(MCP_SERVER, api.tenant, {"id": mcp_id, "name": "a-mcp", "tenant_id": api.tenant, "url": "https://mcp.example/mcp",
                                                       "server_type": "streamable-http", "headers": {}, "variables": {"tools": {}}})
    return {"mcp_id": mcp_id, "channel_id": channel["id"], "connector_id": connector["id"], "agent_id": agent_id, "shared_id": agent_id, "dialog_id": chat["id"], "message_id": "m", "memory_id": memory["id"], "dataset_id": ds, "document_id": doc["id"], "doc_id": doc["id"], "chunk_id": chunk["id"], "chat_id": chat["id"],
            "session_id": session["id"], "msg_id": "m", "file_id": folder["id"], "workspace_id": folder["id"], "index_type": "graph"}


def snapshot(api: Api, ids: dict[str, str]) -> Any:
    ds, doc, chat = ids["dataset_id"], ids["document_id"], ids["chat_id"]
    return (
        api.call("GET", f"/api/v1/datasets/{ds}")["data"]["name"],
        [d["name"] for d in api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["docs"]],
        [c["content"] for c in api.call("GET", f"/api/v1/datasets/{ds}/documents/{doc}/chunks")["data"]["chunks"]],
        api.call("GET", f"/api/v1/chats/{chat}")["data"]["name"],
        [s["name"] for s in api.call("GET", f"/api/v1/chats/{chat}/sessions")["data"]],
        [f["name"] for f in api.call("GET", "/api/v1/files")["data"]["files"]],
        api.call("GET", f"/api/v1/memories/{ids['memory_id']}/config")["data"]["name"],
        api.call("GET", f"/api/v1/agents/{ids['agent_id']}")["data"]["title"],
        len(api.call("GET", f"/api/v1/agents/{ids['agent_id']}/sessions")["data"]),
        api.call("GET", f"/api/v1/chat-channels/{ids['channel_id']}")["data"]["name"],
        api.call("GET", f"/api/v1/mcp/servers/{ids['mcp_id']}")["data"]["name"],
    )


def strip_ids(body: Any, ids: list[str]) -> Any:
    text = str(body)
    for value in ids:
        if len(value) >= 16:  # ids only, not the "m"/"graph" fillers
            text = text.replace(value, "<id>")
    return text


def test_foreign_ids_answer_like_missing_ids_and_change_nothing(api: Api, owned: dict[str, str]) -> None:
    before = snapshot(api, owned)
    other = api.new_tenant_key()
    other_beta = api.call("POST", "/api/v1/system/tokens", other)["data"]["beta"]
    missing = {k: uuid.uuid4().hex if len(v) >= 16 else v for k, v in owned.items()}  # fillers ("graph") stay
    checked = 0
    for method, path in api_routes(api):
        if "{" not in path:
            continue
        body = {"ids": list(dict.fromkeys(owned.values())), "document_ids": [owned["document_id"]], "chunk_ids": [owned["chunk_id"]],
                "name": "stolen", "question": "private", "dataset_ids": [owned["dataset_id"]], "content": "x",
                "messages": [{"role": "user", "content": "x"}], "src_file_ids": [owned["file_id"]], "new_name": "x.txt",
                "thumbup": True, "stream": False}
        headers = {"Authorization": f"Bearer {other_beta}"} if is_bot(path) else api.headers(other)
        foreign = api.client.request(method, fill(path, owned), headers=headers, json=body)
        body_missing = {**body, "ids": list(dict.fromkeys(missing.values())), "document_ids": [missing["document_id"]],
                        "chunk_ids": [missing["chunk_id"]], "dataset_ids": [missing["dataset_id"]], "src_file_ids": [missing["file_id"]]}
        absent = api.client.request(method, fill(path, missing), headers=headers, json=body_missing)
        assert foreign.status_code == absent.status_code, (method, path)
        if foreign.headers.get("content-type", "").startswith("application/json"):
            a, b = foreign.json(), absent.json()
            assert a.get("code") == b.get("code"), (method, path, a, b)
            assert a.get("code") != 0 or a.get("data") in (None, [], {}, True), (method, path, a)
            if a.get("code") != 101:  # argument errors echo the (different) input and come before any lookup
                assert strip_ids(a.get("message"), list(owned.values())) == strip_ids(b.get("message"), list(missing.values())), (method, path)
        checked += 1
    assert checked > 30
    assert snapshot(api, owned) == before
