"""The Bearer API-key dependency. A bad key gets HTTP 401 with RAGFlow's exact envelope."""

from __future__ import annotations

from fastapi import Request

from ragcore.container import get_container
from ragcore.errors import ApiError, RetCode
from ragcore.services.tenants import TenantService

UNAUTHORIZED_MESSAGE = "<Unauthorized '401: Unauthorized'>"


def unauthorized() -> ApiError:
    return ApiError(RetCode.UNAUTHORIZED, UNAUTHORIZED_MESSAGE, http_status=401)


def bearer_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    parts = header.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1].strip() or None


def current_tenant(request: Request) -> str:
    cached = getattr(request.state, "tenant_id", None)
    if cached:
        return str(cached)
    key = bearer_key(request)
    tenant = TenantService(get_container().store).resolve(key) if key else None
    if tenant is None:
        raise unauthorized()
    request.state.tenant_id = tenant
    return tenant
