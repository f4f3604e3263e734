"""Agent webhooks as RAGFlow's handler runs them: the public route answers to the Begin component's own security
(anonymous opt-in, token, basic, JWT, IP allow-list, body size, rate limit), checks method, content type and
schema, then runs the agent — answering at once (Immediately) or with the agent's answer. Test calls, by API key
and owner only, keep their events for the logs route."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from tests.agents.helpers import ECHO, create_agent, dsl, node
from tests.conftest import Api


def webhook_agent(api: Api, title: str, security: dict[str, Any] | None, key: str | None = None, **begin: Any) -> str:
    # only what the schema names reaches the agent
    schema = {"query": {"properties": {"lang": {"type": "string"}}}, "body": {"properties": {"name": {"type": "string"}}}}
    params: dict[str, Any] = {"mode": "Webhook", "methods": ["POST"], "content_types": "application/json",
                              "execution_mode": "Streaming", "schema": schema, **begin}
    if security is not None:
        params["security"] = security
    flow = dsl({"begin": node("Begin", params, to=["message"]),
                "message": node("Message", {"content": ["Hello {begin@body.name}, {begin@query.lang}"]})})
    return create_agent(api, title, flow, key=key)


def hook(api: Api, agent: str, *, method: str = "POST", headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return api.client.request(method, f"/api/v1/agents/{agent}/webhook", headers=headers or {}, **kw)


ANON = {"auth_type": "none", "allow_anonymous": True}


def test_an_anonymous_webhook_runs_the_agent_with_the_request(api: Api) -> None:
    agent = webhook_agent(api, "anon", ANON, schema={"query": {"properties": {"lang": {"type": "string"}}},
                                                      "body": {"properties": {"name": {"type": "string"}}, "required": ["name"]}})
    res = hook(api, agent, json={"name": "Ada"}, params={"lang": "en"})
    assert res.status_code == 200 and res.json() == {"message": "Hello Ada, en", "success": True, "code": 200}
    assert api.call("GET", f"/api/v1/agents/{agent}/sessions")["data"] == []  # a webhook run is no conversation
    unnamed = webhook_agent(api, "unnamed", ANON, schema={})
    assert hook(api, unnamed, json={"name": "Ada"}).json()["message"] == "Hello , "


def test_refusals_before_the_agent_runs(api: Api) -> None:
    def refused(res: Any, message: str) -> None:
        assert res.status_code == 400 and res.json() == {"code": 400, "message": message}, res.text

    refused(hook(api, "0" * 32, json={}), "Canvas not found.")
    plain = create_agent(api, "plain", dsl(ECHO))
    refused(hook(api, plain, json={}), "Webhook not configured for this agent.")
    refused(hook(api, webhook_agent(api, "nosec", None), json={}),
            "Webhook security is required. Set allow_anonymous to true to permit unauthenticated webhooks.")
    refused(hook(api, webhook_agent(api, "noopt", {"auth_type": "none"}), json={}),
            "Anonymous webhook access requires allow_anonymous to be true")
    agent = webhook_agent(api, "strict", {**ANON, "max_body_size": "1kb", "ip_whitelist": []},
                          schema={"body": {"properties": {"age": {"type": "number"}}, "required": ["age"]}})
    refused(hook(api, agent, method="GET"), "HTTP method 'GET' not allowed for this webhook.")
    refused(hook(api, agent, content=b"a=1", headers={"Content-Type": "text/plain"}),
            "Invalid Content-Type: expect 'application/json', got 'text/plain'")
    refused(hook(api, agent, content=b"{}" + b" " * 2000, headers={"Content-Type": "application/json"}),
            "Request body too large: 2002 > 1024")
    refused(hook(api, agent, json={}), "body missing required field: age")
    refused(hook(api, agent, json={"age": "old"}), "body.age auto-cast failed: Cannot convert 'old' to number")
    assert hook(api, agent, json={"age": "42"}).status_code == 200
    listed = webhook_agent(api, "listed", {**ANON, "ip_whitelist": ["203.0.113.9"]})
    refused(hook(api, listed, json={}), "IP testclient is not allowed by whitelist")
    huge = webhook_agent(api, "huge", {**ANON, "max_body_size": "20mb"})
    refused(hook(api, huge, json={}), "max_body_size exceeds maximum allowed size (10MB)")


def test_token_and_basic_auth(api: Api) -> None:
    token = webhook_agent(api, "token", {"auth_type": "token", "token": {"token_header": "X-Hook-Token", "token_value": "s3cret"}})
    assert hook(api, token, json={"name": "x"}, headers={"X-Hook-Token": "wrong"}).json()["message"] == "Invalid token authentication"
    assert hook(api, token, json={"name": "x"}).status_code == 400
    assert hook(api, token, json={"name": "T"}, headers={"X-Hook-Token": "s3cret"}).json()["message"] == "Hello T, "
    basic = webhook_agent(api, "basic", {"auth_type": "basic", "basic_auth": {"username": "u", "password": "p:w"}})
    good = "Basic " + base64.b64encode(b"u:p:w").decode()
    bad = "Basic " + base64.b64encode(b"u:nope").decode()
    assert hook(api, basic, json={}, headers={"Authorization": bad}).json() == {"code": 400, "message": "Invalid Basic Auth credentials"}
    assert hook(api, basic, json={}, headers={"Authorization": good}).status_code == 200
    odd = webhook_agent(api, "odd", {"auth_type": "hmac"})
    assert hook(api, odd, json={}).json()["message"] == "Unsupported auth_type: hmac"


def _jwt(claims: dict[str, Any], secret: str, alg: str = "HS256") -> str:
    enc = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")  # noqa: E731
    head = enc({"alg": alg, "typ": "JWT"}) + "." + enc(claims)
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    sig = base64.urlsafe_b64encode(hmac.new(secret.encode(), head.encode(), digest).digest()).decode().rstrip("=")
    return f"{head}.{sig}"


def test_jwt_auth(api: Api) -> None:
    agent = webhook_agent(api, "jwt", {"auth_type": "jwt", "jwt": {"secret": "k", "audience": "hooks", "required_claims": ["team"]}})
    bearer = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    message = lambda t: hook(api, agent, json={}, headers=bearer(t)).json().get("message")  # noqa: E731
    assert hook(api, agent, json={}).json()["message"] == "Missing Bearer token"
    assert message(_jwt({"aud": "hooks", "team": "a"}, "other")) == "Invalid JWT: Signature verification failed"
    assert message(_jwt({"aud": "hooks", "team": "a", "exp": time.time() - 5}, "k")) == "Invalid JWT: Signature has expired"
    assert message(_jwt({"aud": "elsewhere", "team": "a"}, "k")) == "Invalid JWT: Audience doesn't match"
    assert message(_jwt({"aud": "hooks"}, "k")) == "Missing JWT claim: team"
    assert message(_jwt({"aud": "hooks", "team": "a"}, "k", "HS512")) == "Invalid JWT: The specified alg value is not allowed"
    assert message("not-a-jwt") == "Invalid JWT: Not enough segments"
    assert hook(api, agent, json={"name": "J"}, headers=bearer(_jwt({"aud": "hooks", "team": "a"}, "k"))).json()["success"] is True
    reserved = webhook_agent(api, "jwt-reserved", {"auth_type": "jwt", "jwt": {"secret": "k", "required_claims": ["exp"]}})
    res = hook(api, reserved, json={}, headers=bearer(_jwt({}, "k"))).json()
    assert res["message"] == "Reserved JWT claim cannot be required: exp"


def test_rate_limit_per_agent(api: Api) -> None:
    agent = webhook_agent(api, "limited", {**ANON, "rate_limit": {"limit": 2, "per": "hour"}})
    other = webhook_agent(api, "unlimited", {**ANON, "rate_limit": {"limit": 2, "per": "hour"}})
    assert [hook(api, agent, json={}).status_code for _ in range(2)] == [200, 200]
    assert hook(api, agent, json={}).json() == {"code": 400, "message": "Rate limit error: Too many requests (rate limit exceeded)"}
    assert hook(api, other, json={}).status_code == 200
    bad = webhook_agent(api, "bad-rate", {**ANON, "rate_limit": {"limit": 1, "per": "week"}})
    assert hook(api, bad, json={}).json()["message"] == "Invalid rate_limit.per: week"


def test_immediately_answers_with_the_configured_response_and_still_runs(api: Api) -> None:
    agent = webhook_agent(api, "immediate", ANON, execution_mode="Immediately",
                          response={"status": 202, "body_template": '{"queued": true}'})
    res = hook(api, agent, json={"name": "Q"})
    assert res.status_code == 202 and res.json() == {"queued": True}
    text = webhook_agent(api, "immediate-text", ANON, execution_mode="Immediately", response={"body_template": "thanks"})
    res = hook(api, text, json={})
    assert res.status_code == 200 and res.text == "thanks" and res.headers["content-type"].startswith("text/plain")
    bad = webhook_agent(api, "bad-status", ANON, execution_mode="Immediately", response={"status": 500})
    assert hook(api, bad, json={}).json() == {"code": 400, "message": "Invalid response status code: 500, must be between 200 and 399"}


def test_test_calls_are_the_owners_and_their_events_are_logged(api: Api) -> None:
    agent = webhook_agent(api, "traced", ANON, execution_mode="Immediately")
    other = api.new_tenant_key()
    denied = api.client.post(f"/api/v1/agents/{agent}/webhook/test", headers=api.headers(other), json={})
    assert denied.json() == {"code": 103, "message": "Only the owner of the agent is authorized for this operation.", "data": None}
    assert api.call("GET", f"/api/v1/agents/{agent}/webhook/logs?since_ts=0", key=other) == {"code": 102, "message": "Canvas not found.", "data": None}

    start = api.call("GET", f"/api/v1/agents/{agent}/webhook/logs")["data"]
    assert start["webhook_id"] is None and start["events"] == [] and start["finished"] is False
    since = start["next_since_ts"]
    hook(api, agent, json={"name": "not logged"})  # the public route keeps no trace
    assert api.call("GET", f"/api/v1/agents/{agent}/webhook/logs?since_ts={since}")["data"]["webhook_id"] is None
    res = api.client.post(f"/api/v1/agents/{agent}/webhook/test?lang=fr", headers={**api.headers(), "Content-Type": "application/json"},
                          content=json.dumps({"name": "Trace"}))
    assert res.status_code == 200
    found = api.call("GET", f"/api/v1/agents/{agent}/webhook/logs?since_ts={since}")["data"]
    assert found["webhook_id"] and found["events"] == [] and found["next_since_ts"] > since
    logs = api.call("GET", f"/api/v1/agents/{agent}/webhook/logs?since_ts={since}&webhook_id={found['webhook_id']}")["data"]
    events = [e["event"] for e in logs["events"]]
    assert logs["finished"] is True and events[-1] == "finished" and "node_finished" in events
    said = "".join(e["data"]["content"] for e in logs["events"] if e["event"] == "message")
    assert said == "Hello Trace, fr"
    after = api.call("GET", f"/api/v1/agents/{agent}/webhook/logs?since_ts={logs['next_since_ts']}&webhook_id={found['webhook_id']}")["data"]
    assert after["events"] == [] and after["finished"] is False
    gone = api.call("GET", f"/api/v1/agents/{agent}/webhook/logs?since_ts={since}&webhook_id=unknown")["data"]
    assert gone == {"webhook_id": "unknown", "events": [], "next_since_ts": since, "finished": True}


def test_a_deleted_agent_has_no_webhook(api: Api) -> None:
    agent = webhook_agent(api, "deleted", ANON)
    assert hook(api, agent, json={}).status_code == 200
    assert api.call("DELETE", f"/api/v1/agents/{agent}")["code"] == 0
    assert hook(api, agent, json={}).json() == {"code": 400, "message": "Canvas not found."}
