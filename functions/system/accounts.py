"""Accounts: RAGFlow's user routes (register, log in and out, the profile, login channels, password reset), its
tenant (team) routes and its API-token routes. Mounted by the system router (the system Lambda)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant, current_user
from ragcore.api.client_address import client_address
from ragcore.api.envelope import error, ok
from ragcore.errors import ApiError, RetCode
from ragcore.ids import http_date
from ragcore.services.accounts.tenants import masked
from ragcore.services.accounts.users import SignedIn, safe_user
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["accounts"])
LIST_LIMIT = 1000  # RAGFlow returns these lists whole; a page of this size is the most one request reads


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent, or {} (RAGFlow's handlers then answer their own "required" message)."""
    raw = await request.body()
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _require(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if n not in body]
    if missing:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"required argument are missing: {','.join(missing)}; ")


def _page(request: Request) -> tuple[int, int]:
    """Optional `page`/`page_size` (RAGFlow has none: its lists come whole, up to LIST_LIMIT here)."""
    try:
        size = min(max(int(request.query_params.get("page_size", LIST_LIMIT)), 1), LIST_LIMIT)
        page = max(int(request.query_params.get("page", 1)), 1)
    except ValueError:
        raise ApiError(RetCode.ARGUMENT_ERROR, "page and page_size must be integers") from None
    return (page - 1) * size, size


def _signed_in(signed: SignedIn, message: str) -> JSONResponse:
    # RAGFlow's construct_response: the access token in the Authorization header, bare, readable by browsers
    return JSONResponse(
        {"code": 0, "message": message, "data": safe_user(signed.user, for_self=True)},
        headers={"Authorization": signed.token, "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Method": "*",
                 "Access-Control-Allow-Headers": "*", "Access-Control-Expose-Headers": "Authorization"},
    )


def _data_error(message: str, code: int = RetCode.DATA_ERROR) -> JSONResponse:
    return JSONResponse({"code": int(code), "message": message, "data": False})


# ---- users -----------------------------------------------------------------------------------------------------
@router.post("/api/v1/users")
async def register(request: Request) -> JSONResponse:
    body = await _body(request)
    _require(body, "nickname", "email", "password")
    signed = await run_in_threadpool(bootstrap.users().register, body)  # the password's hash: off the event loop
    return _signed_in(signed, f"{signed.user['nickname']}, welcome aboard!")


@router.post("/api/v1/auth/login")
async def login(request: Request) -> JSONResponse:
    address = client_address(request, bootstrap.trusted_proxies())
    return _signed_in(await run_in_threadpool(bootstrap.users().login, await _body(request), address), "Welcome back!")


@router.post("/api/v1/auth/logout")
def logout(user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    bootstrap.users().logout(user)
    return ok(True, message="success")


@router.get("/api/v1/users/me")
def profile(user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    return ok(safe_user(user, for_self=True), message="success")


@router.patch("/api/v1/users/me")
async def update_profile(request: Request, user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    bootstrap.users().update_me(user, await _body(request))
    return ok(True, message="success")


# ---- login channels: no OAuth/OIDC channel is configured ---------------------------------------------------------
@router.get("/api/v1/auth/login/channels")
def login_channels() -> JSONResponse:
    return ok([], message="success")


@router.get("/api/v1/auth/login/{channel}")
def oauth_login(channel: str) -> JSONResponse:
    # RAGFlow raises ValueError for an unknown channel and its error handler answers the exception's repr
    return error(RetCode.EXCEPTION_ERROR, repr(ValueError(f"Invalid channel name: {channel}")))


@router.get("/api/v1/auth/oauth/{channel}/callback")
def oauth_callback(channel: str) -> RedirectResponse:
    return RedirectResponse("/?error=" + quote(f"Invalid channel name: {channel}"), status_code=302)


# ---- password reset: RAGFlow's answers where no mail server is configured (no code is ever sent) -----------------
@router.post("/api/v1/auth/password/forgot/captcha")
def forgot_captcha(request: Request) -> JSONResponse:
    email = request.query_params.get("email") or ""
    if not email:
        return _data_error("email is required", RetCode.ARGUMENT_ERROR)
    if bootstrap.users().by_email(email) is None:
        return _data_error("invalid email")
    return _data_error("failed to send email", RetCode.SERVER_ERROR)


@router.post("/api/v1/auth/password/forgot/otp")
async def forgot_otp(request: Request) -> JSONResponse:
    body = await _body(request)
    if not body.get("email") or not str(body.get("captcha") or "").strip():
        return _data_error("email and captcha required", RetCode.ARGUMENT_ERROR)
    if bootstrap.users().by_email(body["email"]) is None:
        return _data_error("invalid email")
    return _data_error("failed to send email", RetCode.SERVER_ERROR)


@router.post("/api/v1/auth/password/forgot/otp/verify")
async def forgot_verify(request: Request) -> JSONResponse:
    body = await _body(request)
    if not body.get("email") or not str(body.get("otp") or "").strip():
        return _data_error("email and otp are required", RetCode.ARGUMENT_ERROR)
    if bootstrap.users().by_email(body["email"]) is None:
        return _data_error("invalid email")
    return _data_error("expired otp", RetCode.NOT_EFFECTIVE)


@router.post("/api/v1/auth/password/reset")
async def reset_password(request: Request) -> JSONResponse:
    body = await _body(request)
    if not (body.get("email") and body.get("new_password") and body.get("confirm_new_password")):
        return _data_error("email and passwords are required", RetCode.ARGUMENT_ERROR)
    return _data_error("email not verified", RetCode.AUTHENTICATION_ERROR)


# ---- tenants (teams) ----------------------------------------------------------------------------------------------
@router.get("/api/v1/tenants")
def tenant_list(request: Request, user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    return ok(bootstrap.teams().teams(user["id"], *_page(request)), message="success")


@router.patch("/api/v1/tenants/{tenant_id}")
def tenant_accept(tenant_id: str, user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    bootstrap.teams().accept(tenant_id, user["id"])
    return ok(True, message="success")


@router.get("/api/v1/tenants/{tenant_id}/users")
def member_list(tenant_id: str, request: Request, user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    return ok(bootstrap.teams().members(tenant_id, user["id"], *_page(request)), message="success")


@router.post("/api/v1/tenants/{tenant_id}/users")
async def member_invite(tenant_id: str, request: Request, user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    body = await _body(request)
    _require(body, "email")
    return ok(bootstrap.teams().invite(tenant_id, user["id"], body["email"]), message="success")


@router.delete("/api/v1/tenants/{tenant_id}/users")
async def member_remove(tenant_id: str, request: Request, user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    body = await _body(request)
    _require(body, "user_id")
    bootstrap.teams().remove(tenant_id, user["id"], str(body["user_id"]))
    return ok(True, message="success")


# ---- API tokens: the tenant's keys ------------------------------------------------------------------------------
def _token_row(tenant: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"tenant_id": tenant, "token": masked(item), "dialog_id": None, "source": None, "beta": item.get("beta"),
            "create_time": item["create_time"], "create_date": http_date(int(item["create_time"])),
            "update_time": None, "update_date": None}


@router.get("/api/v1/system/tokens")
def token_list(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    items = bootstrap.tenants().page_tokens(tenant, *_page(request))
    return ok([_token_row(tenant, item) for item in items], message="success")


@router.post("/api/v1/system/tokens")
def token_create(tenant: str = Depends(current_tenant)) -> JSONResponse:
    new = bootstrap.tenants().create_key(tenant)
    return ok({"tenant_id": tenant, "token": new.key, "beta": new.beta, "create_time": new.create_time,
               "create_date": http_date(new.create_time), "update_time": None, "update_date": None}, message="success")


@router.delete("/api/v1/system/tokens/{token}")
def token_delete(token: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    bootstrap.tenants().revoke_token(tenant, token)
    return ok(True, message="success")
