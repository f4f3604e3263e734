"""The AI/ML API sign-in (RAGFlow's aimlapi_api) against a loopback fake of aimlapi.com's agent-authorization
endpoints: start answers the consent URL (the device code stays here, sealed), poll answers pending until the user
approves, then the key, which is stored like every provider key; refusals answer RAGFlow's messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Api, app_with
from tests.connectors.fake_http import FakeServer, Request, json_reply, serve
from tests.fakes.openai_server import FakeOpenAI

DEVICE_CODE = "device-code-ABCDEFGHIJKLMNOP"
ISSUED_KEY = "aiml-issued-key-0123456789abcdef"


class FakeAimlapi:
    """aimlapi.com's agent-auth API: one authorization, approved when the test says so."""

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        self.outcome: dict[str, Any] = {"status": "pending"}
        fake.route("POST", "/v3/agent-auth/authorizations", self._authorize)
        fake.route("POST", "/v3/agent-auth/token", self._token)

    def _authorize(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        return json_reply({"requestId": "req_42", "deviceCode": DEVICE_CODE, "interval": 2, "expiresIn": 600,
                           "verificationUri": "https://aimlapi.com/agent/authorize?request=req_42"}, 201)

    def _token(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        body = request.json()
        if body.get("deviceCode") != DEVICE_CODE:
            return json_reply({"error": "invalid_grant"}, 400)
        return json_reply(self.outcome)


@pytest.fixture
def aiml() -> Iterator[FakeAimlapi]:
    with serve() as fake:
        yield FakeAimlapi(fake)


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    yield fake
    fake.close()


@pytest.fixture
def aapi(data_dir: Any, aiml: FakeAimlapi, llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"AIMLAPI_APP_URL": aiml.fake.base_url, "PROVIDER_BASE_URLS": json.dumps({"aimlapi.com": llm.url})},
                        monkeypatch)


def test_device_flow_to_a_stored_provider_key(aapi: Api, aiml: FakeAimlapi, llm: FakeOpenAI, data_dir: Any) -> None:
    started = aapi.call("POST", "/api/v1/llm/aimlapi/authorize/start")
    assert started["code"] == 0 and started["message"] == "success", started
    data = started["data"]
    assert (data["request_id"], data["interval"], data["expires_in"]) == ("req_42", 2, 600)
    consent = urlsplit(data["verification_uri"])
    assert (consent.scheme, consent.netloc, consent.path) == ("https", "aimlapi.com", "/agent/authorize")
    assert parse_qs(consent.query) == {"request": ["req_42"], "source": ["agent/ragflow"]}
    [asked] = aiml.fake.calls("POST", "/v3/agent-auth/authorizations")
    assert asked.json() == {"partnerId": "part_yNkcOvbGLtgxWLjy4sRysaer", "partnerName": "RAGFlow", "agentName": "RAGFlow",
                            "returnUrl": "https://aimlapi.com", "requestedUsdLimitMinor": 1000}
    assert asked.headers["x-aimlapi-source"] == "agent/ragflow"
    assert DEVICE_CODE not in json.dumps(started) and DEVICE_CODE.encode() not in (data_dir / "ragflow.sqlite3").read_bytes()

    poll = {"request_id": "req_42"}
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json=poll)["data"] == {"status": "pending"}
    [first] = aiml.fake.calls("POST", "/v3/agent-auth/token")
    assert first.json() == {"partnerId": "part_yNkcOvbGLtgxWLjy4sRysaer", "deviceCode": DEVICE_CODE,
                            "grant_type": "urn:ietf:params:oauth:grant-type:device_code"}
    aiml.outcome = {"status": "approved", "apiKey": ISSUED_KEY}
    ready = aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json=poll)
    assert ready == {"code": 0, "message": "success", "data": {"status": "ready", "api_key": ISSUED_KEY}}
    # used once: the next poll finds nothing held
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json=poll)["data"] == {"status": "expired"}

    # the console fills the key into the aimlapi.com provider's form: stored like every provider key
    assert aapi.call("PUT", "/api/v1/providers", json={"provider_name": "aimlapi.com"}) == {"code": 0}
    made = aapi.call("POST", "/api/v1/providers/aimlapi.com/instances",
                     json={"instance_name": "aiml", "api_key": ISSUED_KEY, "region": "default", "base_url": ""})
    assert made == {"code": 0}, made
    shown = aapi.call("GET", "/api/v1/providers/aimlapi.com/instances")
    assert ISSUED_KEY not in json.dumps(shown) and ISSUED_KEY.encode() not in (data_dir / "ragflow.sqlite3").read_bytes()
    sent = [{k.lower(): v for k, v in r["headers"].items()}.get("authorization") for r in llm.chat_requests()]
    assert f"Bearer {ISSUED_KEY}" in sent  # the key was checked against the provider when stored


@pytest.mark.parametrize("outcome", ["denied", "expired", "cancelled"])
def test_a_refused_authorization_ends_the_sign_in(aapi: Api, aiml: FakeAimlapi, outcome: str) -> None:
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/start")["code"] == 0
    aiml.outcome = {"status": outcome.upper()}
    poll = {"request_id": "req_42"}
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json=poll)["data"] == {"status": outcome}
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json=poll)["data"] == {"status": "expired"}


def test_refusals_and_tenants(aapi: Api, aiml: FakeAimlapi) -> None:
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json={}) == {
        "code": 101, "message": "required argument are missing: request_id; ", "data": None}
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json={"request_id": "nope"})["data"] == {"status": "expired"}
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/start")["code"] == 0
    # another tenant can't poll this tenant's sign-in (as if it did not exist)
    other = aapi.new_tenant_key()
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", key=other, json={"request_id": "req_42"})["data"] == {
        "status": "expired"}
    aiml.fake.route("POST", "/v3/agent-auth/token", lambda r: json_reply({"error": "server"}, 502))
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/poll", json={"request_id": "req_42"}) == {
        "code": 102, "message": "AIMLAPI token poll failed (HTTP 502).", "data": None}
    aiml.fake.route("POST", "/v3/agent-auth/authorizations", lambda r: json_reply({"message": "bad partner"}, 403))
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/start") == {
        "code": 102, "message": "AIMLAPI authorization request failed (HTTP 403).", "data": None}
    aiml.fake.route("POST", "/v3/agent-auth/authorizations", lambda r: json_reply({"requestId": "r"}))
    assert aapi.call("POST", "/api/v1/llm/aimlapi/authorize/start")["message"] == (
        "AIMLAPI authorization response is missing requestId/deviceCode.")


def test_without_a_partner_id_start_says_what_to_set(aiml: FakeAimlapi, data_dir: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for api in app_with({"AIMLAPI_APP_URL": aiml.fake.base_url, "AIMLAPI_PARTNER_ID": ""}, monkeypatch):
        assert api.call("POST", "/api/v1/llm/aimlapi/authorize/start") == {
            "code": 102, "message": "AIMLAPI partner id is not configured. Set AIMLAPI_PARTNER_ID.", "data": None}
    assert aiml.fake.requests == []
