"""Every route API Gateway sends to a function is served by that function's handler (the deployed entry point,
through Mangum with an HTTP API v2 event), and every completion route by the streaming function's server.

A route mapped to a function whose app lacks it answers 404/405; an unauthenticated request to a route that
exists answers 401 before any work (or 200 for the public health/version routes).
"""

from __future__ import annotations

import base64
import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.route_map import route_table

DUMMY_ID = "0" * 32
PARAM = re.compile(r"\{[^}]+\}")


def http_api_event(method: str, path: str) -> dict[str, Any]:
    """The shape API Gateway HTTP API (payload 2.0) hands a Lambda integration."""
    return {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": PARAM.sub(DUMMY_ID, path), "rawQueryString": "",
        "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", "content-type": "application/json",
                    "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {"method": method, "path": PARAM.sub(DUMMY_ID, path), "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "pytest"},
            "requestId": "req-1", "routeKey": f"{method} {path}", "stage": "$default", "timeEpoch": 1795546801000,
        },
        "body": base64.b64encode(b"{}").decode() if method in ("POST", "PUT", "PATCH", "DELETE") else None,
        "isBase64Encoded": method in ("POST", "PUT", "PATCH", "DELETE"),
    }


class Context:
    function_name = "ragflow-test"
    aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ragflow-test"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def test_each_route_is_served_by_the_handler_it_is_deployed_to(data_dir: Path) -> None:
    routes = [r for r in route_table() if "{proxy+}" not in r[1]]
    assert routes
    seen_status: dict[int, int] = {}
    for method, path, module in routes:
        handler = importlib.import_module(f"functions.{module}.handler").handler
        reply = handler(http_api_event(method, path), Context())
        status = reply["statusCode"]
        body = reply.get("body") or ""
        # a 405 is RAGFlow's code 100 in a 200; a webhook of an unknown agent is RAGFlow's HTTP 400 "Canvas not found.",
        # and one of an unknown chat channel is our HTTP 404 naming it
        webhook_unknown = path.endswith("/webhook") and (status, json.loads(body)) in (
            (400, {"code": 400, "message": "Canvas not found."}), (404, {"code": 404, "message": "No chat channel has this id."}))
        # the OAuth sign-in callback sends the browser back to the console (RAGFlow's redirect with the error)
        oauth_redirect = status == 302 and path == "/api/v1/auth/oauth/{channel}/callback"
        wrong_route = (status not in (200, 401) and not webhook_unknown and not oauth_redirect) or "MethodNotAllowed" in body
        assert not wrong_route, f"{method} {path} → functions/{module}/handler.py answered {status}: {body[:200]}"
        if status == 401:  # RAGFlow's envelope; the MCP endpoint's JSON-RPC error (no key)
            refusal = json.loads(body)
            assert refusal.get("code") == 401 or (path == "/api/v1/mcp" and refusal["error"]["code"] == -32001), body
        seen_status[status] = seen_status.get(status, 0) + 1
    assert seen_status.get(401, 0) > seen_status.get(200, 0)  # nearly every route wants a key


@pytest.mark.parametrize(("method", "path"), sorted({(m, p) for m, p, module in route_table() if module == "completions"}))
def test_the_streaming_server_serves_every_completion_route(data_dir: Path, method: str, path: str) -> None:
    from functions.completions.server import app

    with TestClient(app) as client:
        reply = client.request(method, PARAM.sub(DUMMY_ID, path), json={})
    if "bots/" in path:  # the embeddable bots refuse a request without a beta token as RAGFlow does
        assert reply.status_code == 200 and reply.json() == {"code": 102, "message": "Authorization is not valid!", "data": None}
    else:
        assert reply.status_code == 401 and reply.json()["code"] == 401
