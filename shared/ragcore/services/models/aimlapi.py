"""The AI/ML API sign-in (RAGFlow's aimlapi_api: an OAuth 2.0 device authorization grant, RFC 8628): `start` asks
aimlapi.com for an authorization and answers the consent page's URL; `poll` asks its token endpoint until the user
has approved, then answers the issued API key, which the console fills into the aimlapi.com provider's form and
stores like every provider key (encrypted, shown masked).

The device code never reaches the browser: it is kept in the store, sealed with the provider-key cipher, under the
tenant that started the sign-in, until it is used or expires. The user's AI/ML API credentials never pass here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ragcore.domain.kinds import AIMLAPI_AUTHORIZATION
from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.ports import Cipher, HttpFetch, MetadataStore

log = logging.getLogger("ragcore.models")

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
HTTP_TIMEOUT_S = 15
TERMINAL = ("denied", "expired", "cancelled", "canceled", "rejected")


@dataclass(frozen=True)
class AimlapiSettings:
    app_url: str  # AIMLAPI_APP_URL: the agent-authorization host
    partner_id: str
    partner_name: str
    source: str  # the client identifier sent on every request and on the consent URL
    verification_base_url: str
    requested_usd_limit_minor: str

    def headers(self) -> dict[str, str]:
        """RAGFlow's attribution headers (common/aimlapi_utils.py)."""
        headers = {"X-AIMLAPI-Source": self.source.strip(), "Content-Type": "application/json"}
        if self.partner_id.strip():
            headers["X-AIMLAPI-Partner-ID"] = self.partner_id.strip()
        return headers

    def limit(self) -> int:
        try:
            return int(self.requested_usd_limit_minor)
        except (TypeError, ValueError):
            return 1000


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class AimlapiSignIn:
    def __init__(self, store: MetadataStore, settings: AimlapiSettings, fetch: HttpFetch, *,
                 cipher: Callable[[], Cipher]) -> None:
        self._store = store
        self._settings = settings
        self._fetch = fetch
        self._cipher = cipher

    def _post(self, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
        url = f"{self._settings.app_url.rstrip('/')}{path}"
        try:
            reply = self._fetch("POST", url, self._settings.headers(), json.dumps(payload).encode(), HTTP_TIMEOUT_S)
        except ValueError as exc:  # refused or unreachable (RAGFlow's server_error_response)
            raise ApiError(RetCode.EXCEPTION_ERROR, f"AIMLAPI is unreachable: {exc}") from None
        try:
            data = json.loads(reply.text) if reply.text.strip() else {}
        except ValueError:
            data = {}
        if reply.status in (200, 201) and not isinstance(data, dict):
            raise ApiError(RetCode.EXCEPTION_ERROR, "AIMLAPI answered something other than a JSON object.")
        if reply.status not in (200, 201):
            log.warning("AIMLAPI %s failed: status=%s body=%s", path, reply.status, reply.text[:300])
        return reply.status, data

    def start(self, tenant: str) -> dict[str, Any]:
        settings = self._settings
        if not settings.partner_id.strip():
            raise ApiError(RetCode.DATA_ERROR, "AIMLAPI partner id is not configured. Set AIMLAPI_PARTNER_ID.")
        # returnUrl is always the trusted verification host, never a client's value (no open redirect)
        payload = {"partnerId": settings.partner_id.strip(), "partnerName": settings.partner_name.strip(),
                   "agentName": "RAGFlow", "returnUrl": settings.verification_base_url.rstrip("/"),
                   "requestedUsdLimitMinor": settings.limit()}
        status, data = self._post("/v3/agent-auth/authorizations", payload)
        if status not in (200, 201):
            raise ApiError(RetCode.DATA_ERROR, f"AIMLAPI authorization request failed (HTTP {status}).")
        request_id, device_code = data.get("requestId"), data.get("deviceCode")
        if not request_id or not device_code:
            raise ApiError(RetCode.DATA_ERROR, "AIMLAPI authorization response is missing requestId/deviceCode.")
        interval, expires_in = _int(data.get("interval", 5), 5), _int(data.get("expiresIn", 900), 900)
        self._store.put(AIMLAPI_AUTHORIZATION, tenant, {
            "id": str(request_id), "_device_code": self._cipher().encrypt(str(device_code)),
            "expires_at": time.time() + expires_in,
        })
        log.info("AIMLAPI authorize start ok: request_id=%s", request_id)
        query = urlencode({"request": request_id, "source": settings.source.strip()})
        return {"request_id": request_id,
                "verification_uri": f"{settings.verification_base_url.rstrip('/')}/agent/authorize?{query}",
                "interval": interval, "expires_in": expires_in}

    def poll(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "request_id")
        request_id = str(body["request_id"])
        held = self._store.get(AIMLAPI_AUTHORIZATION, tenant, request_id) if request_id else None
        if held is None or float(held.get("expires_at") or 0) <= time.time():  # another tenant's: as if expired
            if held is not None:
                self._store.delete(AIMLAPI_AUTHORIZATION, tenant, request_id)
            return {"status": "expired"}
        payload = {"partnerId": self._settings.partner_id.strip(),
                   "deviceCode": self._cipher().decrypt(held["_device_code"]), "grant_type": DEVICE_CODE_GRANT}
        code, data = self._post("/v3/agent-auth/token", payload)
        if code not in (200, 201):
            raise ApiError(RetCode.DATA_ERROR, f"AIMLAPI token poll failed (HTTP {code}).")
        status = str(data.get("status", "")).lower()
        # the success field's name is not fixed yet (RAGFlow accepts these)
        api_key = data.get("apiKey") or data.get("api_key") or data.get("access_token") or data.get("key")
        if api_key:
            self._store.delete(AIMLAPI_AUTHORIZATION, tenant, request_id)
            log.info("AIMLAPI authorize poll ready: request_id=%s", request_id)
            return {"status": "ready", "api_key": api_key}
        if status in TERMINAL:
            self._store.delete(AIMLAPI_AUTHORIZATION, tenant, request_id)
            return {"status": status}
        return {"status": status or "pending"}
