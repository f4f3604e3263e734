"""User accounts as RAGFlow has them: register (which makes the user's own tenant, whose id is the user's), log in
and out with an access token, the profile, and the login rate limit.

Stored: users by id under a pseudo-tenant, e-mail uniqueness as a claimed key (one read finds a user by e-mail),
an access-token index by SHA-256 hash. As in RAGFlow a user has one access token at a time: logging in again,
logging out or changing the password invalidates the previous one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import ApiError, RetCode
from ragcore.ids import http_date, new_id, now_ms
from ragcore.ports import MetadataStore
from ragcore.services.accounts.passwords import PasswordFormatError, client_password, hash_password, verify_password
from ragcore.services.accounts.tenants import TenantService

USERS = "_users"  # pseudo-tenant of the user items and the e-mail claims
KIND_USER = kinds.USER
SESSIONS = "_sessions"
KIND_SESSION = kinds.ACCESS_TOKEN
LOGINS = "_logins"
KIND_LOGIN_FAILURES = kinds.LOGIN_FAILURES
KIND_MEMBERSHIP = kinds.MEMBERSHIP  # under the user's tenant: the teams (tenants) the user belongs to, by tenant id
OWNER, NORMAL, INVITE, ADMIN = "owner", "normal", "invite", "admin"

EMAIL_PATTERN = re.compile(r"^[\w\._-]+@([\w_-]+\.)+[\w-]{2,}$")
NICKNAME_PATTERN = re.compile(r"^[\w ._'-]+$", re.UNICODE)
NICKNAME_MAX_LENGTH = 100
# columns of RAGFlow's user row that PATCH /users/me may change (the others it skips or cannot write)
EDITABLE = ("nickname", "avatar", "language", "color_schema", "timezone")
SKIPPED = {"password", "new_password", "email", "status", "is_superuser", "login_channel", "is_anonymous", "is_active",
           "is_authenticated", "last_login_time"}
HIDDEN = {"password_hash", "session_hash", "tenant_id", "email_key"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def email_key(email: str) -> str:
    return email.strip().lower()


def nickname_error(nickname: object) -> str | None:
    """RAGFlow's nickname rules and messages (api/utils/nickname_validation.py)."""
    if nickname is None:
        return "Nickname is required."
    if not isinstance(nickname, str):
        return "Nickname must be a string."
    nickname = nickname.strip()
    if not nickname:
        return "Nickname cannot be empty."
    if len(nickname) > NICKNAME_MAX_LENGTH:
        return f"Nickname must be at most {NICKNAME_MAX_LENGTH} characters."
    if not NICKNAME_PATTERN.fullmatch(nickname):
        return "Nickname contains invalid characters."
    return None


def safe_user(user: Mapping[str, Any], *, for_self: bool) -> dict[str, Any]:
    out = {k: v for k, v in user.items() if k not in HIDDEN and k != "email"}
    if for_self:
        out["email"] = user["email"]
    return out


def _password(value: object) -> str:
    try:
        password = client_password(value)
    except PasswordFormatError:
        raise ApiError(RetCode.SERVER_ERROR, "Fail to crypt password", data=False) from None
    if not password:
        raise ApiError(RetCode.SERVER_ERROR, "Fail to crypt password", data=False)
    return password


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5  # wrong passwords for one e-mail within `window_s` before it is locked
    window_s: float = 900.0
    lock_s: float = 900.0
    max_address_failures: int = 20  # failed log-ins (any e-mail, known or not) from one client address


@dataclass(frozen=True)
class SignedIn:
    user: dict[str, Any]
    token: str  # the access token, shown once (the Authorization response header)


class UserService:
    def __init__(self, store: MetadataStore, *, register_enabled: bool = True, policy: LoginPolicy | None = None) -> None:
        self._store = store
        self._tenants = TenantService(store)
        self._register_enabled = register_enabled
        self._policy = policy or LoginPolicy()

    # ---- lookups ---------------------------------------------------------------------------------------------
    def get(self, user_id: str) -> dict[str, Any] | None:
        return self._store.get(KIND_USER, USERS, user_id) if user_id else None

    def get_many(self, user_ids: list[str]) -> list[dict[str, Any]]:
        return self._store.get_many(KIND_USER, USERS, user_ids)

    def by_email(self, email: object) -> dict[str, Any] | None:
        if not isinstance(email, str) or not email.strip() or len(email) > 255:
            return None
        owner = self._store.owner(USERS, "email", email_key(email))
        return self.get(owner) if owner else None

    def resolve_session(self, token: str) -> dict[str, Any] | None:
        """The user an access token belongs to while it is the user's current one."""
        if not token or len(token) > 512:
            return None
        digest = token_hash(token)
        session = self._store.get(KIND_SESSION, SESSIONS, digest)
        user = self.get(str(session["user_id"])) if session else None
        if user is None or user.get("session_hash") != digest or user.get("is_active") == "0":
            return None
        return user

    # ---- register, log in, log out -----------------------------------------------------------------------------
    def register(self, body: Mapping[str, Any]) -> SignedIn:
        if not self._register_enabled:
            raise ApiError(RetCode.OPERATING_ERROR, "User registration is disabled!", data=False)
        email = body["email"]
        if not isinstance(email, str) or not EMAIL_PATTERN.match(email):
            raise ApiError(RetCode.OPERATING_ERROR, f"Invalid email address: {email}!", data=False)
        if self.by_email(email) is not None:
            raise ApiError(RetCode.OPERATING_ERROR, f"Email: {email} has already registered!", data=False)
        problem = nickname_error(body["nickname"])
        if problem:
            raise ApiError(RetCode.ARGUMENT_ERROR, problem, data=False)
        nickname = str(body["nickname"]).strip()
        password = _password(body["password"])
        user_id = new_id()
        if not self._store.claim(USERS, "email", email_key(email), user_id):
            # a concurrent registration of the same address won the claim
            raise ApiError(RetCode.OPERATING_ERROR, f"Email: {email} has already registered!", data=False)
        try:
            now = now_ms()
            user: dict[str, Any] = {
                "id": user_id, "email": email, "nickname": nickname, "password_hash": hash_password(password),
                "tenant_id": user_id, "avatar": None, "language": "English", "color_schema": "Bright",
                "timezone": "UTC+8\tAsia/Shanghai", "last_login_time": http_date(now), "is_authenticated": "1",
                "is_active": "1", "is_anonymous": "0", "login_channel": "password", "status": "1",
                "is_superuser": False, "create_time": now, "create_date": http_date(now), "update_time": now,
                "update_date": http_date(now),
            }
            self._tenants.create_tenant(f"{nickname}‘s Kingdom", tenant_id=user_id, owner=user_id)
            self._store.put(KIND_MEMBERSHIP, user_id, membership(user_id, user_id, OWNER, user_id))
            self._store.put(KIND_USER, USERS, user)
            return SignedIn(user, self._new_session(user))
        except Exception as exc:
            self._store.delete(KIND_USER, USERS, user_id)
            self._store.delete(KIND_MEMBERSHIP, user_id, user_id)
            self._tenants.delete_tenant(user_id)
            self._store.release(USERS, "email", email_key(email), user_id)
            raise ApiError(RetCode.EXCEPTION_ERROR, f"User registration failure, error: {type(exc).__name__}", data=False) from exc

    def login(self, body: Mapping[str, Any], address: str = "") -> SignedIn:
        """A password log-in. Failures are counted per account and per client address (`address`, "" when unknown):
        an address that guesses across many e-mails is locked out as one account is."""
        address_key = "addr-" + hashlib.sha256(address.encode()).hexdigest()[:32] if address else ""
        if address_key:
            self._refuse_if_locked(address_key)
        if not body:
            raise ApiError(RetCode.AUTHENTICATION_ERROR, "Unauthorized!", data=False)
        email = body.get("email", "")
        user = self.by_email(email)
        if user is None:
            self._count_failure(address_key, self._policy.max_address_failures)
            raise ApiError(RetCode.AUTHENTICATION_ERROR, f"Email: {email} is not registered!", data=False)
        password = _password(body.get("password"))
        self._refuse_if_locked(user["id"])
        if user.get("status") != "1" or not verify_password(str(user.get("password_hash", "")), password):
            self._count_failure(user["id"], self._policy.max_failures)
            self._count_failure(address_key, self._policy.max_address_failures)
            raise ApiError(RetCode.AUTHENTICATION_ERROR, "Email and password do not match!", data=False)
        if user.get("is_active") == "0":
            raise ApiError(RetCode.FORBIDDEN, "This account has been disabled, please contact the administrator!", data=False)
        self._store.delete(KIND_LOGIN_FAILURES, LOGINS, user["id"])
        now = now_ms()
        user = self._store.update(KIND_USER, USERS, user["id"], {"last_login_time": http_date(now), "update_time": now,
                                                                 "update_date": http_date(now)}) or user
        return SignedIn(user, self._new_session(user))

    def logout(self, user: Mapping[str, Any]) -> None:
        self._end_session(user)
        self._store.update(KIND_USER, USERS, str(user["id"]), {"session_hash": ""})

    def _new_session(self, user: dict[str, Any]) -> str:
        self._end_session(user)
        token = secrets.token_urlsafe(32)
        digest = token_hash(token)
        self._store.put(KIND_SESSION, SESSIONS, {"id": digest, "user_id": user["id"], "create_time": now_ms()})
        self._store.update(KIND_USER, USERS, user["id"], {"session_hash": digest})
        user["session_hash"] = digest
        return token

    def _end_session(self, user: Mapping[str, Any]) -> None:
        if user.get("session_hash"):
            self._store.delete(KIND_SESSION, SESSIONS, str(user["session_hash"]))

    # ---- the login rate limit -----------------------------------------------------------------------------------
    def _refuse_if_locked(self, key: str) -> None:
        record = self._store.get(KIND_LOGIN_FAILURES, LOGINS, key)
        wait = int((record or {}).get("locked_until", 0)) - now_ms()
        if wait > 0:
            seconds = max(1, wait // 1000)
            raise ApiError(RetCode.NOT_EFFECTIVE, f"Too many failed login attempts, please try again in {seconds} seconds.",
                           data=False)

    def _count_failure(self, user_id: str, max_failures: int) -> None:
        """One more failure for an account (its id) or an address (its key); at max_failures it is locked."""
        if not user_id:
            return
        now = now_ms()
        record = self._store.get(KIND_LOGIN_FAILURES, LOGINS, user_id)
        if record is None or now - int(record.get("window_start", 0)) > self._policy.window_s * 1000:
            self._store.put(KIND_LOGIN_FAILURES, LOGINS, {"id": user_id, "failures": 1, "window_start": now, "locked_until": 0})
            record = {"failures": 1}
        else:
            record = self._store.increment(KIND_LOGIN_FAILURES, LOGINS, user_id, {"failures": 1}) or record
        if int(record.get("failures", 0)) >= max_failures:
            self._store.update(KIND_LOGIN_FAILURES, LOGINS, user_id,
                               {"locked_until": now + int(self._policy.lock_s * 1000), "failures": 0, "window_start": now})

    # ---- the profile ---------------------------------------------------------------------------------------------
    def update_me(self, user: Mapping[str, Any], body: Mapping[str, Any]) -> None:
        changes: dict[str, Any] = {}
        password_changed = False
        if body.get("password"):
            if not verify_password(str(user.get("password_hash", "")), _password(body["password"])):
                raise ApiError(RetCode.AUTHENTICATION_ERROR, "Password error!", data=False)
            if body.get("new_password"):
                changes["password_hash"] = hash_password(_password(body["new_password"]))
                password_changed = True
        unknown = [k for k in body if k not in SKIPPED and k not in EDITABLE]
        if unknown:
            raise ApiError(RetCode.EXCEPTION_ERROR, "Update failure!", data=False)  # RAGFlow: no such column
        changes.update({k: body[k] for k in EDITABLE if k in body})
        if "nickname" in changes:
            problem = nickname_error(changes["nickname"])
            if problem:
                raise ApiError(RetCode.ARGUMENT_ERROR, problem, data=False)
            changes["nickname"] = changes["nickname"].strip()
        if password_changed:
            self._end_session(user)  # RAGFlow logs the user out everywhere on a new password
            changes["session_hash"] = ""
        now = now_ms()
        self._store.update(KIND_USER, USERS, str(user["id"]), {**changes, "update_time": now, "update_date": http_date(now)})


def membership(tenant_id: str, user_id: str, role: str, invited_by: str) -> dict[str, Any]:
    now = now_ms()
    return {"id": tenant_id, "row_id": new_id(), "tenant_id": tenant_id, "user_id": user_id, "role": role,
            "invited_by": invited_by, "status": "1", "create_time": now, "update_time": now}
