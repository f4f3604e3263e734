"""RAGFlow's OAuth web flows for Google Drive, Gmail and Box connectors (connector_api.py): start (an
authorization URL and a flow id), the provider's callback (the code exchanged for tokens), and the console's poll
for the result, with RAGFlow's replies and messages.

RAGFlow keeps a flow's state and result in Redis for 15 minutes; here they are store items in a partition of their
own (the callback knows only the flow id), sealed with the provider-key cipher, and refused once 15 minutes old.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ragcore.domain import kinds
from ragcore.domain.sources import SourceError
from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.ports import Cipher, MetadataStore

WEB_FLOW_TTL_SECS = 15 * 60
STATE_KIND = kinds.OAUTH_STATE
RESULT_KIND = kinds.OAUTH_RESULT
FLOW_TENANT = "~oauth"
GOOGLE_TYPES = ("google-drive", "gmail")
GOOGLE_SCOPES = {
    "google-drive": ["https://www.googleapis.com/auth/drive.readonly",
                     "https://www.googleapis.com/auth/drive.metadata.readonly",
                     "https://www.googleapis.com/auth/admin.directory.group.readonly",
                     "https://www.googleapis.com/auth/admin.directory.user.readonly"],
    "gmail": ["https://www.googleapis.com/auth/gmail.readonly",
              "https://www.googleapis.com/auth/admin.directory.user.readonly",
              "https://www.googleapis.com/auth/admin.directory.group.readonly"],
}


class OAuthClient(Protocol):
    def google_authorization_url(self, client: dict[str, Any], scopes: list[str], redirect_uri: str, state: str,
                                 verifier: str) -> str: ...

    def google_exchange(self, client: dict[str, Any], scopes: list[str], redirect_uri: str, code: str,
                        verifier: str | None) -> dict[str, Any]: ...

    def box_authorization_url(self, client_id: str, redirect_uri: str, state: str) -> str: ...

    def box_exchange(self, client_id: str, client_secret: str, code: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RedirectUris:
    google_drive: str
    gmail: str
    box: str


@dataclass(frozen=True)
class Popup:
    """What a callback shows in the browser's popup window (the route renders RAGFlow's page)."""

    flow_id: str
    success: bool
    message: str
    source: str


class OAuthFlows:
    def __init__(self, store: MetadataStore, *, cipher: Callable[[], Cipher], client: OAuthClient,
                 redirects: RedirectUris, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._cipher = cipher
        self._client = client
        self._redirects = redirects
        self._clock = clock

    # ---- sealed, expiring records -----------------------------------------------------------------------------
    def _put(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        self._store.put(kind, FLOW_TENANT, {"id": key, "sealed": self._cipher().encrypt(json.dumps(payload)),
                                            "created_at": int(self._clock())})

    def _get(self, kind: str, key: str) -> dict[str, Any] | None:
        item = self._store.get(kind, FLOW_TENANT, key) if key else None
        if item is None:
            return None
        if self._clock() - int(item.get("created_at") or 0) > WEB_FLOW_TTL_SECS:
            self._store.delete(kind, FLOW_TENANT, key)
            return None
        return json.loads(self._cipher().decrypt(str(item["sealed"])))  # type: ignore[no-any-return]

    # ---- Google Drive and Gmail -------------------------------------------------------------------------------
    def start_google(self, tenant: str, source: str | None, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "credentials")
        source = source or "google-drive"
        if source not in GOOGLE_TYPES:
            raise ApiError(RetCode.ARGUMENT_ERROR, "Invalid Google OAuth type.")
        default = self._redirects.gmail if source == "gmail" else self._redirects.google_drive
        redirect_uri = body.get("redirect_uri", default)
        redirect_uri = redirect_uri.strip() if isinstance(redirect_uri, str) else redirect_uri
        if not redirect_uri:
            raise ApiError(RetCode.SERVER_ERROR, "Google OAuth redirect URI is not configured on the server.")
        raw = body.get("credentials", "")
        try:
            credentials = raw if isinstance(raw, dict) else json.loads(raw)
        except (TypeError, json.JSONDecodeError):
            raise ApiError(RetCode.ARGUMENT_ERROR, "Invalid Google credentials JSON.") from None
        if not isinstance(credentials, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "Invalid Google credentials JSON.")
        if credentials.get("refresh_token"):
            raise ApiError(RetCode.ARGUMENT_ERROR, "Uploaded credentials already include a refresh token.")
        web = credentials.get("web")
        if not isinstance(web, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR,
                           "Google OAuth JSON must include a 'web' client configuration to use browser-based authorization.")
        flow_id = str(uuid.uuid4())
        verifier = secrets.token_urlsafe(64)
        url = self._client.google_authorization_url(web, GOOGLE_SCOPES[source], str(redirect_uri), flow_id, verifier)
        self._put(STATE_KIND, f"{source}:{flow_id}", {"user_id": tenant, "client_config": {"web": web},
                                                      "redirect_uri": redirect_uri, "code_verifier": verifier})
        return {"flow_id": flow_id, "authorization_url": url, "expires_in": WEB_FLOW_TTL_SECS}

    def google_callback(self, source: str, params: dict[str, str]) -> Popup:
        state_id, error = params.get("state") or "", params.get("error")
        description = params.get("error_description") or error
        if not state_id:
            return Popup("", False, "Missing OAuth state parameter.", source)
        key = f"{source}:{state_id}"
        state = self._get(STATE_KIND, key)
        if state is None:
            return Popup(state_id, False, "Authorization session expired. Please restart from the main window.", source)
        client = (state.get("client_config") or {}).get("web")
        if not client:
            self._store.delete(STATE_KIND, FLOW_TENANT, key)
            return Popup(state_id, False, "Authorization session was invalid. Please retry.", source)
        if error:
            self._store.delete(STATE_KIND, FLOW_TENANT, key)
            return Popup(state_id, False, description or "Authorization was cancelled.", source)
        code = params.get("code")
        if not code:
            return Popup(state_id, False, "Missing authorization code from Google.", source)
        try:
            credentials = self._client.google_exchange(client, GOOGLE_SCOPES[source], str(state["redirect_uri"]), code,
                                                       state.get("code_verifier"))
        except SourceError:
            self._store.delete(STATE_KIND, FLOW_TENANT, key)
            return Popup(state_id, False, "Failed to exchange tokens with Google. Please retry.", source)
        self._put(RESULT_KIND, key, {"user_id": state["user_id"], "credentials": json.dumps(credentials)})
        self._store.delete(STATE_KIND, FLOW_TENANT, key)
        return Popup(state_id, True, "Authorization completed successfully.", source)

    def google_result(self, tenant: str, source: str | None, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "flow_id")
        if source not in GOOGLE_TYPES:
            raise ApiError(RetCode.ARGUMENT_ERROR, "Invalid Google OAuth type.")
        return {"credentials": self._result(tenant, f"{source}:{body.get('flow_id')}")["credentials"]}

    def _result(self, tenant: str, key: str) -> dict[str, Any]:
        result = self._get(RESULT_KIND, key)
        if result is None:
            raise ApiError(RetCode.RUNNING, "Authorization is still pending.")
        if result.get("user_id") != tenant:
            raise ApiError(RetCode.PERMISSION_ERROR, "You are not allowed to access this authorization result.")
        self._store.delete(RESULT_KIND, FLOW_TENANT, key)
        return result

    # ---- Box ----------------------------------------------------------------------------------------------------
    def start_box(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        client_id, client_secret = body.get("client_id"), body.get("client_secret")
        if not client_id or not client_secret or not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise ApiError(RetCode.ARGUMENT_ERROR, "Box client_id and client_secret are required.")
        redirect_uri = str(body.get("redirect_uri") or self._redirects.box)
        flow_id = str(uuid.uuid4())
        url = self._client.box_authorization_url(client_id, redirect_uri, flow_id)
        self._put(STATE_KIND, f"box:{flow_id}", {"user_id": tenant, "auth_url": url, "client_id": client_id,
                                                 "client_secret": client_secret})
        return {"flow_id": flow_id, "authorization_url": url, "expires_in": WEB_FLOW_TTL_SECS}

    def box_callback(self, params: dict[str, str]) -> Popup:
        flow_id = params.get("state") or ""
        if not flow_id:
            return Popup("", False, "Missing OAuth parameters.", "box")
        code = params.get("code")
        if not code:
            return Popup(flow_id, False, "Missing authorization code from Box.", "box")
        key = f"box:{flow_id}"
        state = self._get(STATE_KIND, key)
        if state is None:
            raise ApiError(RetCode.ARGUMENT_ERROR, "Box OAuth session expired or invalid.")
        error = params.get("error")
        if error:
            self._store.delete(STATE_KIND, FLOW_TENANT, key)
            return Popup(flow_id, False, params.get("error_description") or error or "Authorization failed.", "box")
        try:
            tokens = self._client.box_exchange(str(state["client_id"]), str(state["client_secret"]), code)
        except SourceError:
            self._store.delete(STATE_KIND, FLOW_TENANT, key)
            return Popup(flow_id, False, "Failed to exchange tokens with Box. Please retry.", "box")
        self._put(RESULT_KIND, key, {"user_id": state["user_id"], "client_id": state["client_id"],
                                     "client_secret": state["client_secret"], **tokens})
        self._store.delete(STATE_KIND, FLOW_TENANT, key)
        return Popup(flow_id, True, "Authorization completed successfully.", "box")

    def box_result(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "flow_id")
        return {"credentials": self._result(tenant, f"box:{body.get('flow_id')}")}
