"""Accounts over HTTP as RAGFlow's clients use them: register, log in (the access token in the Authorization
header, sent back bare), the profile, logout, the login rate limit, API tokens made over HTTP, teams."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, app_with

# what RAGFlow's test suites send for the password "123" (test/testcases/configs.py): RSA with RAGFlow's public key
RAGFLOW_123 = """ctAseGvejiaSWWZ88T/m4FQVOpQyUvP+x7sXtdv3feqZACiQleuewkUi35E16wSd5C5QcnkkcV9cYc8TKPTRZlxappDuirxghxoOvFcJxFU4ixLsD
fN33jCHRoDUW81IH9zjij/vaw8IbVyb6vuwg6MX6inOEBRRzVbRYxXOu1wkWY6SsI8X70oF9aeLFp/PzQpjoe/YbSqpTq8qqrmHzn9vO+yvyYyvmDsphXe
X8f7fp9c7vUsfOCkM+gHY3PadG+QHa7KI7mzTKgUTZImK6BZtfRBATDTthEUbbaTewY4H0MnWiCeeDhcbeQao6cFy1To8pE3RpmxnGnS8BsBn8w=="""
UNAUTHORIZED = {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}


def register(c: TestClient, email: str, password: str = RAGFLOW_123, nickname: str = "qa") -> str:
    res = c.post("/api/v1/users", json={"email": email, "nickname": nickname, "password": password})
    assert res.json()["code"] == 0, res.json()
    return str(res.headers["Authorization"])


def login(c: TestClient, email: str, password: str = RAGFLOW_123) -> str:
    res = c.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert res.json()["code"] == 0, res.json()
    return str(res.headers["Authorization"])


def me(c: TestClient, auth: str) -> dict:  # type: ignore[type-arg]
    return c.get("/api/v1/users/me", headers={"Authorization": auth}).json()  # type: ignore[no-any-return]


def test_register_and_login_as_ragflows_suites_do(api: Api) -> None:
    c = api.client
    res = c.post("/api/v1/users", json={"email": "qa@infiniflow.org", "nickname": "qa", "password": RAGFLOW_123})
    body = res.json()
    assert body["code"] == 0 and body["message"] == "qa, welcome aboard!"
    assert body["data"]["email"] == "qa@infiniflow.org" and body["data"]["nickname"] == "qa"
    assert not {"password", "password_hash", "access_token", "session_hash"} & set(body["data"])
    assert res.headers["Access-Control-Expose-Headers"] == "Authorization"
    again = c.post("/api/v1/users", json={"email": "QA@infiniflow.org", "nickname": "qa", "password": RAGFLOW_123}).json()
    assert again == {"code": 103, "message": "Email: QA@infiniflow.org has already registered!", "data": False}

    res = c.post("/api/v1/auth/login", json={"email": "qa@infiniflow.org", "password": RAGFLOW_123})
    assert res.json()["code"] == 0 and res.json()["message"] == "Welcome back!"
    auth = res.headers["Authorization"]
    assert not auth.lower().startswith("bearer")
    # the suites send it back bare; "Bearer <token>" works too
    assert me(c, auth)["data"]["email"] == "qa@infiniflow.org"
    assert c.get("/api/v1/datasets", headers={"Authorization": f"Bearer {auth}"}).json()["code"] == 0
    # the plain password is the same password
    assert login(c, "qa@infiniflow.org", "123")


def test_bad_registrations_get_ragflows_messages(api: Api) -> None:
    c = api.client
    assert c.post("/api/v1/users", json={"email": "a@b.co"}).json()["message"] == "required argument are missing: nickname,password; "
    assert c.post("/api/v1/users", content=b"not json").json()["code"] == 101
    bad_email = c.post("/api/v1/users", json={"email": "nope", "nickname": "x", "password": "p"}).json()
    assert bad_email == {"code": 103, "message": "Invalid email address: nope!", "data": False}
    bad_nick = c.post("/api/v1/users", json={"email": "a@b.co", "nickname": "<script>", "password": "p"}).json()
    assert bad_nick["code"] == 101 and bad_nick["message"] == "Nickname contains invalid characters."
    long_nick = c.post("/api/v1/users", json={"email": "a@b.co", "nickname": "n" * 101, "password": "p"}).json()
    assert long_nick["message"] == "Nickname must be at most 100 characters."
    bad_cipher = c.post("/api/v1/users", json={"email": "a@b.co", "nickname": "x", "password": "B" * 342 + "=="}).json()
    assert bad_cipher == {"code": 500, "message": "Fail to crypt password", "data": False}
    assert c.post("/api/v1/users", json={"email": "a@b.co", "nickname": "x", "password": ""}).json()["code"] == 500
    # nothing was half-registered by the refusals
    assert c.post("/api/v1/auth/login", json={"email": "a@b.co", "password": "p"}).json()["message"] == "Email: a@b.co is not registered!"


def test_bad_logins_get_ragflows_messages(api: Api) -> None:
    c = api.client
    register(c, "u@example.com", "secret")
    assert c.post("/api/v1/auth/login", json={}).json() == {"code": 109, "message": "Unauthorized!", "data": False}
    wrong = c.post("/api/v1/auth/login", json={"email": "u@example.com", "password": "wrong"})
    assert wrong.json() == {"code": 109, "message": "Email and password do not match!", "data": False}
    assert "authorization" not in wrong.headers
    unknown = c.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "secret"}).json()
    assert unknown == {"code": 109, "message": "Email: x@example.com is not registered!", "data": False}


@pytest.fixture
def strict(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LOGIN_MAX_FAILURES": "3", "LOGIN_LOCK_S": "1"}, monkeypatch)


def test_repeated_failed_logins_lock_the_email_for_a_while(strict: Api) -> None:
    c = strict.client
    register(c, "u@example.com", "secret")
    register(c, "other@example.com", "secret")
    for _ in range(3):
        assert c.post("/api/v1/auth/login", json={"email": "u@example.com", "password": "guess"}).json()["code"] == 109
    locked = c.post("/api/v1/auth/login", json={"email": "u@example.com", "password": "secret"})
    assert locked.json()["code"] == 10 and "Too many failed login attempts" in locked.json()["message"]
    assert "authorization" not in locked.headers
    assert login(c, "other@example.com", "secret")  # another e-mail is not affected
    time.sleep(1.1)
    assert login(c, "u@example.com", "secret")


@pytest.fixture
def per_address(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    env = {"LOGIN_MAX_FAILURES": "100", "LOGIN_ADDRESS_MAX_FAILURES": "3", "LOGIN_LOCK_S": "1"}
    yield from app_with(env, monkeypatch)


def attempt(c: TestClient, email: str, password: str, forwarded: str = "") -> dict:  # type: ignore[type-arg]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return c.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=headers).json()  # type: ignore[no-any-return]


def test_failed_logins_from_one_address_lock_that_address_whatever_email_it_names(per_address: Api) -> None:
    c = per_address.client
    register(c, "a@example.com", "secret")
    register(c, "b@example.com", "secret")
    # guessing across e-mails, known or not: no single account reaches its own limit
    assert attempt(c, "a@example.com", "guess")["code"] == 109
    assert attempt(c, "b@example.com", "guess")["code"] == 109
    assert attempt(c, "nobody@example.com", "guess")["code"] == 109
    locked = attempt(c, "b@example.com", "secret")
    assert (locked["code"], locked["data"]) == (10, False)
    assert locked["message"].startswith("Too many failed login attempts, please try again in")
    # X-Forwarded-For is not believed unless the peer is a configured proxy: a made-up address does not escape
    assert attempt(c, "b@example.com", "secret", forwarded="198.51.100.9")["code"] == 10
    time.sleep(1.1)
    assert login(c, "b@example.com", "secret")


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"LOGIN_MAX_FAILURES": "100", "LOGIN_ADDRESS_MAX_FAILURES": "2", "TRUSTED_PROXIES": "testclient"}
    for api in app_with(env, monkeypatch):
        c = api.client
        register(c, "a@example.com", "secret")
        for _ in range(2):
            assert attempt(c, "a@example.com", "guess", forwarded="198.51.100.1")["code"] == 109
        assert attempt(c, "a@example.com", "secret", forwarded="198.51.100.1")["code"] == 10
        # the proxy's other clients are not locked out with the first one
        assert attempt(c, "a@example.com", "secret", forwarded="198.51.100.2")["code"] == 0
        # a client's own X-Forwarded-For entries before the proxy's are not believed: the nearest hop counts
        assert attempt(c, "a@example.com", "secret", forwarded="198.51.100.2, 198.51.100.1")["code"] == 10


def test_logout_new_login_and_password_change_end_the_previous_token(api: Api) -> None:
    c = api.client
    first = register(c, "u@example.com", "secret")
    second = login(c, "u@example.com", "secret")
    assert me(c, first) == UNAUTHORIZED  # RAGFlow keeps one access token per user
    assert c.post("/api/v1/auth/logout", headers={"Authorization": second}).json() == {"code": 0, "message": "success", "data": True}
    assert me(c, second) == UNAUTHORIZED
    assert c.get("/api/v1/datasets", headers={"Authorization": second}).json() == UNAUTHORIZED

    third = login(c, "u@example.com", "secret")
    h = {"Authorization": third}
    wrong = c.patch("/api/v1/users/me", headers=h, json={"password": "nope", "new_password": "n2"}).json()
    assert wrong == {"code": 109, "message": "Password error!", "data": False}
    assert c.patch("/api/v1/users/me", headers=h, json={"nickname": "  New Name "}).json()["data"] is True
    assert me(c, third)["data"]["nickname"] == "New Name"
    assert c.patch("/api/v1/users/me", headers=h, json={"nickname": "bad<>"}).json()["message"] == "Nickname contains invalid characters."
    assert c.patch("/api/v1/users/me", headers=h, json={"email": "steal@x.com", "is_superuser": True}).json()["data"] is True
    assert me(c, third)["data"]["email"] == "u@example.com" and me(c, third)["data"]["is_superuser"] is False
    assert c.patch("/api/v1/users/me", headers=h, json={"password": "secret", "new_password": "n2"}).json()["data"] is True
    assert me(c, third) == UNAUTHORIZED
    assert c.post("/api/v1/auth/login", json={"email": "u@example.com", "password": "secret"}).json()["code"] == 109
    assert login(c, "u@example.com", "n2")


def test_keys_of_command_line_tenants_keep_working_and_have_no_user(api: Api) -> None:
    assert api.call("GET", "/api/v1/datasets")["code"] == 0
    assert api.call("GET", "/api/v1/users/me") == UNAUTHORIZED
    assert api.call("GET", "/api/v1/tenants") == UNAUTHORIZED
    made = api.call("POST", "/api/v1/system/tokens")["data"]  # the tenant's own keys over HTTP
    assert api.call("GET", "/api/v1/datasets", key=made["token"])["code"] == 0


def test_tokens_made_over_http_work_with_ragflow_sdk_and_revoke(api: Api) -> None:
    from ragflow_sdk import RAGFlow

    c = api.client
    auth = register(c, "u@example.com", "secret")
    h = {"Authorization": auth}
    made = c.post("/api/v1/system/tokens", headers=h).json()
    assert made["code"] == 0 and made["data"]["token"].startswith("ragflow-") and len(made["data"]["beta"]) == 32
    token = made["data"]["token"]

    listed = c.get("/api/v1/system/tokens", headers=h).json()["data"]
    assert [row["beta"] for row in listed] == [made["data"]["beta"]]
    assert token not in str(listed) and listed[0]["token"].startswith(token[:12])

    class InProcess(RAGFlow):  # the SDK's own requests, sent to the in-process app
        def __init__(self) -> None:
            super().__init__(token, "http://testserver")
            self.api_url = "/api/v1"

        def post(self, path, json=None, stream=False, files=None):  # type: ignore[no-untyped-def]
            return c.post(self.api_url + path, json=json, headers=self.authorization_header)

        def get(self, path, params=None, json=None):  # type: ignore[no-untyped-def]
            sent = {k: v for k, v in (params or {}).items() if v is not None}  # requests drops None; httpx would not
            return c.get(self.api_url + path, params=sent, headers=self.authorization_header)

    sdk = InProcess()
    sdk.create_dataset(name="made-over-http")
    assert [d.name for d in sdk.list_datasets()] == ["made-over-http"]
    # a login of the same user sees the key's dataset: one tenant
    assert [d["name"] for d in c.get("/api/v1/datasets", headers=h).json()["data"]] == ["made-over-http"]

    # revoked by its listed (masked) form, as the web console deletes what it lists
    assert c.delete(f"/api/v1/system/tokens/{listed[0]['token']}", headers=h).json() == {"code": 0, "message": "success", "data": True}
    assert c.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"}).json() == UNAUTHORIZED
    assert c.get("/api/v1/system/tokens", headers=h).json()["data"] == []
    assert c.delete("/api/v1/system/tokens/missing_token", headers=h).json()["data"] is True

    # and by the token itself; another tenant cannot revoke it
    second = c.post("/api/v1/system/tokens", headers=h).json()["data"]["token"]
    other = api.new_tenant_key()
    assert c.delete(f"/api/v1/system/tokens/{second}", headers={"Authorization": f"Bearer {other}"}).json()["data"] is True
    assert c.get("/api/v1/datasets", headers={"Authorization": f"Bearer {second}"}).json()["code"] == 0
    assert c.delete(f"/api/v1/system/tokens/{second}", headers=h).json()["data"] is True
    assert c.get("/api/v1/datasets", headers={"Authorization": f"Bearer {second}"}).json() == UNAUTHORIZED


def test_team_membership(api: Api) -> None:
    c = api.client
    owner = register(c, "owner@example.com", "secret", "owner")
    member = register(c, "member@example.com", "secret", "member")
    o, m = {"Authorization": owner}, {"Authorization": member}
    team = me(c, owner)["data"]["id"]
    member_id = me(c, member)["data"]["id"]

    assert c.get(f"/api/v1/tenants/{team}/users", headers=o).json() == {"code": 0, "message": "success", "data": []}
    assert c.post(f"/api/v1/tenants/{team}/users", headers=o, json={}).json()["message"] == "required argument are missing: email; "
    missing = c.post(f"/api/v1/tenants/{team}/users", headers=o, json={"email": "nobody@example.com"}).json()
    assert (missing["code"], missing["message"]) == (102, "User not found.")
    invited = c.post(f"/api/v1/tenants/{team}/users", headers=o, json={"email": "member@example.com"}).json()
    assert invited["data"] == {"id": member_id, "avatar": None, "email": "member@example.com", "nickname": "member"}
    assert c.post(f"/api/v1/tenants/{team}/users", headers=o, json={"email": "owner@example.com"}).json()["message"] == \
        "owner@example.com is the owner of the team."
    # only the owner manages the team
    assert c.get(f"/api/v1/tenants/{team}/users", headers=m).json() == {"code": 109, "message": "no authorization", "data": False}
    assert c.post(f"/api/v1/tenants/{team}/users", headers=m, json={"email": "x@example.com"}).json()["message"] == "no authorization"

    roles = {t["tenant_id"]: t["role"] for t in c.get("/api/v1/tenants", headers=m).json()["data"]}
    assert roles == {member_id: "owner", team: "invite"}
    assert c.patch(f"/api/v1/tenants/{team}", headers=m).json()["data"] is True
    joined = [t for t in c.get("/api/v1/tenants", headers=m).json()["data"] if t["tenant_id"] == team]
    assert joined[0]["role"] == "normal" and joined[0]["email"] == "owner@example.com"
    assert c.post(f"/api/v1/tenants/{team}/users", headers=o, json={"email": "member@example.com"}).json()["message"] == \
        "member@example.com is already in the team."
    listed = c.get(f"/api/v1/tenants/{team}/users", headers=o).json()["data"]
    assert [(u["user_id"], u["role"], u["email"]) for u in listed] == [(member_id, "normal", "member@example.com")]

    # the member leaves (RAGFlow lets either side remove the membership)
    assert c.request("DELETE", f"/api/v1/tenants/{team}/users", headers=m, json={"user_id": member_id}).json()["data"] is True
    assert c.get(f"/api/v1/tenants/{team}/users", headers=o).json()["data"] == []
    assert [t["tenant_id"] for t in c.get("/api/v1/tenants", headers=m).json()["data"]] == [member_id]


def test_login_channels_oauth_and_password_reset_without_mail_or_oauth(api: Api) -> None:
    c = api.client
    register(c, "u@example.com", "secret")
    assert c.get("/api/v1/auth/login/channels").json() == {"code": 0, "message": "success", "data": []}
    assert c.get("/api/v1/auth/login/github").json() == {"code": 100, "message": "ValueError('Invalid channel name: github')", "data": None}
    cb = c.get("/api/v1/auth/oauth/github/callback?code=x&state=y", follow_redirects=False)
    assert cb.status_code == 302 and cb.headers["location"] == "/?error=Invalid%20channel%20name%3A%20github"
    assert c.post("/api/v1/auth/password/forgot/captcha").json()["message"] == "email is required"
    assert c.post("/api/v1/auth/password/forgot/captcha?email=x@example.com").json()["message"] == "invalid email"
    sent = c.post("/api/v1/auth/password/forgot/otp", json={"email": "u@example.com", "captcha": "ABCD"}).json()
    assert sent == {"code": 500, "message": "failed to send email", "data": False}
    assert c.post("/api/v1/auth/password/forgot/otp/verify", json={"email": "u@example.com", "otp": "ABCDEF"}).json()["message"] == "expired otp"
    reset = c.post("/api/v1/auth/password/reset", json={"email": "u@example.com", "new_password": "a", "confirm_new_password": "a"}).json()
    assert reset == {"code": 109, "message": "email not verified", "data": False}


@pytest.fixture
def closed(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"REGISTER_ENABLED": "0"}, monkeypatch)


def test_registration_can_be_disabled(closed: Api) -> None:
    res = closed.client.post("/api/v1/users", json={"email": "u@example.com", "nickname": "u", "password": "p"}).json()
    assert res == {"code": 103, "message": "User registration is disabled!", "data": False}
    assert closed.client.get("/api/v1/system/config").json()["data"] == {"registerEnabled": 0, "disablePasswordLogin": False}


def test_team_datasets_are_readable_by_id_by_accepted_members_only(api: Api) -> None:
    c = api.client
    o = {"Authorization": register(c, "owner@example.com", "secret", "owner")}
    m = {"Authorization": register(c, "member@example.com", "secret", "member")}
    team = me(c, o["Authorization"])["data"]["id"]
    shared = c.post("/api/v1/datasets", headers=o, json={"name": "shared", "permission": "team"}).json()["data"]["id"]
    private = c.post("/api/v1/datasets", headers=o, json={"name": "private"}).json()["data"]["id"]

    def by_id(headers: dict[str, str], dataset_id: str) -> dict:  # type: ignore[type-arg]
        return c.get("/api/v1/datasets", headers=headers, params={"id": dataset_id}).json()  # type: ignore[no-any-return]

    member_tenant = me(c, m["Authorization"])["data"]["id"]
    refused = f"User '{member_tenant}' lacks permission for dataset '{shared}'"
    assert by_id(m, shared)["message"] == refused  # not a member yet
    c.post(f"/api/v1/tenants/{team}/users", headers=o, json={"email": "member@example.com"})
    assert by_id(m, shared)["message"] == refused  # invited, not yet accepted
    c.patch(f"/api/v1/tenants/{team}", headers=m)
    assert [d["name"] for d in by_id(m, shared)["data"]] == ["shared"]
    assert by_id(m, private)["message"] == f"User '{member_tenant}' lacks permission for dataset '{private}'"
    assert by_id({"Authorization": f"Bearer {api.key}"}, shared)["code"] == 102  # another tenant: as if absent
