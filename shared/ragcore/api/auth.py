"""Who a request acts for. A bad key gets HTTP 401 with RAGFlow's exact envelope.

The Authorization header holds an API key or a login's access token, with or without "Bearer " (RAGFlow's web
console and test suites send the access token bare, as the login's Authorization response header gave it). A key
acts on its tenant; an access token on its user's own tenant. A registered user's tenant has the user's id, so a
key of that tenant also identifies the user (RAGFlow's APIToken -> User lookup); keys of tenants made on the
command line have no user and the user routes refuse them with the same 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ragcore import bootstrap
from ragcore.errors import ApiError, RetCode

UNAUTHORIZED_MESSAGE = "<Unauthorized '401: Unauthorized'>"


def unauthorized() -> ApiError:
    return ApiError(RetCode.UNAUTHORIZED, UNAUTHORIZED_MESSAGE, http_status=401)


def bearer_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "").strip()
    parts = header.split(None, 1)
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1].strip() or None
    return header if header and len(parts) == 1 else None


def current_tenant(request: Request) -> str:
    cached = getattr(request.state, "tenant_id", None)
    if cached:
        return str(cached)
    key = bearer_key(request)
    if key is None:
        raise unauthorized()
    tenant = bootstrap.tenants().resolve(key)
    if tenant is None:
        user = bootstrap.users().resolve_session(key)
        if user is None:
            raise unauthorized()
        tenant = str(user["tenant_id"])
        request.state.user = user
        request.state.session = True
    request.state.tenant_id = tenant
    return tenant


BETA_MISSING = "Authorization is not valid!"
BETA_INVALID = "Authentication error: API key is invalid! "  # sic: RAGFlow's message ends with a space


def beta_token(request: Request) -> str | None:
    """The token of an embedded bot's request, read as RAGFlow reads it: after "Bearer " when the header starts so
    (case-insensitively), else the whole header."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        parts = header.split(None, 1)
        return parts[1] if len(parts) == 2 else None
    return header or None


def current_bot_tenant(request: Request) -> str:
    """Who an embedded bot (chatbots/agentbots/searchbots) acts for: only a *beta* token authorises these routes,
    as in RAGFlow, whose pages publish it; an API key or login token is refused. A refusal is RAGFlow's data error
    in an HTTP 200, not the 401 of the other routes."""
    cached = getattr(request.state, "bot_tenant_id", None)
    if cached:
        return str(cached)
    token = beta_token(request)
    if token is None:
        raise ApiError(RetCode.DATA_ERROR, BETA_MISSING)
    tenant = bootstrap.tenants().resolve_beta(token)
    if tenant is None:
        raise ApiError(RetCode.DATA_ERROR, BETA_INVALID)
    request.state.bot_tenant_id = tenant
    return tenant


def current_user(request: Request) -> dict[str, Any]:
    """The signed-in user (by access token, or by a key of the user's own tenant); 401 without one."""
    tenant = current_tenant(request)
    user = getattr(request.state, "user", None)
    if user is None:
        user = bootstrap.users().get(tenant)
        if user is None or user.get("is_active") == "0":
            raise unauthorized()
        request.state.user = user
    return dict(user)
