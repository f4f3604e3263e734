"""RAGFlow's OAuth web flows (Google Drive, Gmail, Box) against an OAuth token endpoint on loopback: start →
the provider sends the browser to the callback → the console polls the result; RAGFlow's replies and messages."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Api, app_with
from tests.connectors.conftest import LOOPBACK
from tests.connectors.fake_http import FakeServer, Reply, Request, json_reply, serve


@pytest.fixture
def provider() -> Iterator[FakeServer]:
    """An OAuth 2.0 token endpoint: one good code per test, PKCE checked against the challenge the flow sent."""
    with serve() as fake:
        fake.challenge = ""  # type: ignore[attr-defined]

        def token(req: Request) -> Reply:
            form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
            if form.get("code") != "good-code" or form.get("client_secret") != "s3cret-client" \
                    or form.get("grant_type") != "authorization_code":
                return json_reply({"error": "invalid_grant", "error_description": "Bad code"}, 400)
            verifier = form.get("code_verifier")
            if verifier is not None:
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if digest != fake.challenge:  # type: ignore[attr-defined]
                    return json_reply({"error": "invalid_grant", "error_description": "PKCE mismatch"}, 400)
            return json_reply({"access_token": "ya29.access", "refresh_token": "1//refresh", "expires_in": 3599,
                               "scope": "https://www.googleapis.com/auth/drive.readonly", "token_type": "Bearer"})

        fake.route("POST", "/token", token)
        yield fake


@pytest.fixture
def oapi(data_dir: object, provider: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({**LOOPBACK, "BOX_OAUTH_AUTHORIZE_URL": f"{provider.base_url}/box/authorize",
                         "BOX_OAUTH_TOKEN_URL": f"{provider.base_url}/token"}, monkeypatch)


def google_client(provider: FakeServer) -> dict[str, Any]:
    return {"web": {"client_id": "client-123.apps.googleusercontent.com", "client_secret": "s3cret-client",
                    "auth_uri": f"{provider.base_url}/authorize", "token_uri": f"{provider.base_url}/token"}}


def popup_payload(html: str) -> dict[str, Any]:
    start = html.index("postMessage(") + len("postMessage(")
    return dict(json.loads(html[start : html.index(', "*")', start)]))


@pytest.mark.parametrize("kind", ["google-drive", "gmail"])
def test_google_flow_completes(oapi: Api, provider: FakeServer, kind: str) -> None:
    started = oapi.call("POST", f"/api/v1/connectors/google/oauth/web/start?type={kind}",
                        json={"credentials": json.dumps(google_client(provider))})
    assert started["code"] == 0 and started["data"]["expires_in"] == 900
    flow_id, url = started["data"]["flow_id"], started["data"]["authorization_url"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{provider.base_url}/authorize?") and query["state"] == flow_id
    assert query["redirect_uri"].endswith(f"/api/v1/connectors/{kind}/oauth/web/callback")
    assert query["access_type"] == "offline" and query["code_challenge_method"] == "S256"
    provider.challenge = query["code_challenge"]  # type: ignore[attr-defined]

    pending = oapi.call("POST", f"/api/v1/connectors/google/oauth/web/result?type={kind}", json={"flow_id": flow_id})
    assert pending == {"code": 106, "message": "Authorization is still pending.", "data": None}

    # the provider sends the browser back: no API key on this request
    page = oapi.client.get(f"/api/v1/connectors/{kind}/oauth/web/callback", params={"state": flow_id, "code": "good-code"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Authorization complete" in page.text and "window.close();" in page.text
    assert popup_payload(page.text) == {"type": f"ragflow-{kind}-oauth", "status": "success", "flowId": flow_id,
                                        "message": "Authorization completed successfully."}

    other = oapi.new_tenant_key()
    refused = oapi.call("POST", f"/api/v1/connectors/google/oauth/web/result?type={kind}", key=other, json={"flow_id": flow_id})
    assert refused == {"code": 108, "message": "You are not allowed to access this authorization result.", "data": None}
    result = oapi.call("POST", f"/api/v1/connectors/google/oauth/web/result?type={kind}", json={"flow_id": flow_id})
    creds = json.loads(result["data"]["credentials"])
    assert (creds["token"], creds["refresh_token"], creds["client_id"]) == \
        ("ya29.access", "1//refresh", "client-123.apps.googleusercontent.com")
    assert oapi.call("POST", f"/api/v1/connectors/google/oauth/web/result?type={kind}", json={"flow_id": flow_id})["code"] == 106


@pytest.mark.parametrize(("query", "body", "message"), [
    ("", {}, "required argument are missing: credentials; "),
    ("?type=dropbox", {"credentials": "{}"}, "Invalid Google OAuth type."),
    ("", {"credentials": "{not json"}, "Invalid Google credentials JSON."),
    ("", {"credentials": {"refresh_token": "x", "web": {}}}, "Uploaded credentials already include a refresh token."),
    ("", {"credentials": {"installed": {}}},
     "Google OAuth JSON must include a 'web' client configuration to use browser-based authorization."),
])
def test_google_start_says_what_to_configure(oapi: Api, query: str, body: dict[str, Any], message: str) -> None:
    res = oapi.call("POST", f"/api/v1/connectors/google/oauth/web/start{query}", json=body)
    assert res["code"] == 101 and res["message"] == message


def test_google_callback_failures_show_in_the_popup(oapi: Api, provider: FakeServer) -> None:
    def callback(**params: str) -> tuple[str, dict[str, Any]]:
        page = oapi.client.get("/api/v1/connectors/google-drive/oauth/web/callback", params=params)
        return page.text, popup_payload(page.text)

    assert callback()[1]["message"] == "Missing OAuth state parameter."
    assert callback(state="unknown")[1]["message"] == "Authorization session expired. Please restart from the main window."
    flow = oapi.call("POST", "/api/v1/connectors/google/oauth/web/start", json={"credentials": google_client(provider)})["data"]
    text, payload = callback(state=flow["flow_id"])
    assert payload["message"] == "Missing authorization code from Google." and "Authorization failed" in text
    text, payload = callback(state=flow["flow_id"], code="bad-code")
    assert payload == {"type": "ragflow-google-drive-oauth", "status": "error", "flowId": flow["flow_id"],
                       "message": "Failed to exchange tokens with Google. Please retry."}
    flow = oapi.call("POST", "/api/v1/connectors/google/oauth/web/start", json={"credentials": google_client(provider)})["data"]
    assert callback(state=flow["flow_id"], error="access_denied", error_description="The user said no")[1]["message"] == "The user said no"


def test_box_flow_completes(oapi: Api, provider: FakeServer) -> None:
    missing = oapi.call("POST", "/api/v1/connectors/box/oauth/web/start", json={"client_id": "abc"})
    assert missing == {"code": 101, "message": "Box client_id and client_secret are required.", "data": None}
    started = oapi.call("POST", "/api/v1/connectors/box/oauth/web/start",
                        json={"client_id": "box-client", "client_secret": "s3cret-client"})["data"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(started["authorization_url"]).query).items()}
    assert started["authorization_url"].startswith(f"{provider.base_url}/box/authorize?")
    assert (query["client_id"], query["response_type"], query["state"]) == ("box-client", "code", started["flow_id"])
    assert oapi.call("POST", "/api/v1/connectors/box/oauth/web/result", json={"flow_id": started["flow_id"]})["code"] == 106
    page = oapi.client.get("/api/v1/connectors/box/oauth/web/callback", params={"state": started["flow_id"], "code": "good-code"})
    assert popup_payload(page.text)["status"] == "success"
    creds = oapi.call("POST", "/api/v1/connectors/box/oauth/web/result", json={"flow_id": started["flow_id"]})["data"]["credentials"]
    assert (creds["access_token"], creds["refresh_token"], creds["client_id"]) == ("ya29.access", "1//refresh", "box-client")
    expired = oapi.client.get("/api/v1/connectors/box/oauth/web/callback", params={"state": "gone", "code": "x"}).json()
    assert expired == {"code": 101, "message": "Box OAuth session expired or invalid.", "data": None}
    assert popup_payload(oapi.client.get("/api/v1/connectors/box/oauth/web/callback").text)["message"] == "Missing OAuth parameters."


def test_a_flow_older_than_15_minutes_is_refused(oapi: Api, provider: FakeServer) -> None:
    from ragcore import bootstrap
    from ragcore.services.connectors.oauth import FLOW_TENANT, STATE_KIND

    flow = oapi.call("POST", "/api/v1/connectors/google/oauth/web/start", json={"credentials": google_client(provider)})["data"]
    store = bootstrap.oauth_flows()._store
    store.update(STATE_KIND, FLOW_TENANT, f"google-drive:{flow['flow_id']}", {"created_at": 0})
    page = oapi.client.get("/api/v1/connectors/google-drive/oauth/web/callback", params={"state": flow["flow_id"], "code": "good-code"})
    assert popup_payload(page.text)["message"] == "Authorization session expired. Please restart from the main window."
    assert not provider.calls("POST", "/token")
