"""The OAuth 2.0 authorization-code exchanges of RAGFlow's web flows (Google Drive, Gmail, Box), over the connector
guard: the authorization URL the browser is sent to, and the code → token exchange with the provider's token
endpoint. Google's endpoints come from the uploaded client configuration (`web.auth_uri`, `web.token_uri`), as
google-auth-oauthlib reads them; Box's from settings. PKCE (S256) as google-auth-oauthlib's Flow sends it.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.domain.sources import SourceError

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")


class OAuthClient:
    def __init__(self, guard: OutboundGuard, *, box_authorize_url: str, box_token_url: str) -> None:
        self._guard = guard
        self._box_authorize = box_authorize_url
        self._box_token = box_token_url

    def google_authorization_url(self, client: dict[str, Any], scopes: list[str], redirect_uri: str, state: str,
                                 verifier: str) -> str:
        query = urlencode({"response_type": "code", "client_id": client.get("client_id", ""), "redirect_uri": redirect_uri,
                           "scope": " ".join(scopes), "state": state, "access_type": "offline",
                           "include_granted_scopes": "true", "prompt": "consent",
                           "code_challenge": code_challenge(verifier), "code_challenge_method": "S256"})
        return f"{client.get('auth_uri') or GOOGLE_AUTH_URI}?{query}"

    def google_exchange(self, client: dict[str, Any], scopes: list[str], redirect_uri: str, code: str,
                        verifier: str | None) -> dict[str, Any]:
        """The authorized user's credentials, in google.oauth2.credentials.Credentials.to_json()'s fields."""
        token_uri = str(client.get("token_uri") or GOOGLE_TOKEN_URI)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": client.get("client_id", ""), "client_secret": client.get("client_secret", "")}
        if verifier:
            form["code_verifier"] = verifier
        got = self._post(token_uri, form)
        expiry = datetime.now(UTC) + timedelta(seconds=int(got.get("expires_in") or 3600))
        return {"token": got.get("access_token"), "refresh_token": got.get("refresh_token"), "token_uri": token_uri,
                "client_id": client.get("client_id"), "client_secret": client.get("client_secret"),
                "scopes": str(got.get("scope") or " ".join(scopes)).split(), "universe_domain": "googleapis.com",
                "account": "", "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}

    def box_authorization_url(self, client_id: str, redirect_uri: str, state: str) -> str:
        query = urlencode({"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri, "state": state})
        return f"{self._box_authorize}?{query}"

    def box_exchange(self, client_id: str, client_secret: str, code: str) -> dict[str, Any]:
        got = self._post(self._box_token, {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                           "client_secret": client_secret})
        return {"access_token": got.get("access_token"), "refresh_token": got.get("refresh_token")}

    def _post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            with self._guard.client() as http:
                reply = http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise SourceError(f"the token endpoint could not be reached: {exc}") from exc
        try:
            body = reply.json()
        except ValueError:
            body = {}
        if reply.status_code >= 400 or not isinstance(body, dict) or not body.get("access_token"):
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else ""
            raise SourceError(f"the token endpoint refused the code (HTTP {reply.status_code}{': ' + str(reason) if reason else ''})")
        return body
