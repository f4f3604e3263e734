"""Accounts on both metadata stores (SQLite, DynamoDB under moto): users by e-mail, one access token per user, the
login lock, teams listed from both sides, API keys listed and revoked per tenant."""

from __future__ import annotations

from typing import Any

import pytest
from ragcore.errors import ApiError
from ragcore.services.accounts.teams import TeamService
from ragcore.services.accounts.tenants import TenantService, masked
from ragcore.services.accounts.users import LoginPolicy, UserService


def test_users_sessions_and_the_login_lock(store: Any) -> None:
    users = UserService(store, policy=LoginPolicy(max_failures=2, window_s=60, lock_s=60))
    signed = users.register({"email": "A@example.com", "nickname": "a", "password": "pw"})
    with pytest.raises(ApiError, match="has already registered"):
        users.register({"email": "a@EXAMPLE.com", "nickname": "b", "password": "pw"})
    assert users.by_email("a@example.com")["id"] == signed.user["id"]  # type: ignore[index]
    assert TenantService(store).tenant_exists(signed.user["id"])
    assert users.resolve_session(signed.token)["id"] == signed.user["id"]  # type: ignore[index]
    again = users.login({"email": "a@example.com", "password": "pw"})
    assert users.resolve_session(signed.token) is None and users.resolve_session(again.token) is not None
    users.logout(users.get(again.user["id"]) or {})
    assert users.resolve_session(again.token) is None
    for _ in range(2):
        with pytest.raises(ApiError, match="do not match"):
            users.login({"email": "a@example.com", "password": "nope"})
    with pytest.raises(ApiError, match="Too many failed login attempts"):
        users.login({"email": "a@example.com", "password": "pw"})


def test_teams_from_both_sides(store: Any) -> None:
    users = UserService(store)
    owner = users.register({"email": "o@example.com", "nickname": "o", "password": "pw"}).user
    member = users.register({"email": "m@example.com", "nickname": "m", "password": "pw"}).user
    teams = TeamService(store, users)
    teams.invite(owner["id"], owner["id"], "m@example.com")
    assert not teams.joined(member["id"], owner["id"])
    teams.accept(owner["id"], member["id"])
    assert teams.joined(member["id"], owner["id"])
    assert [r["email"] for r in teams.members(owner["id"], owner["id"], 0, 10)] == ["m@example.com"]
    assert {r["tenant_id"]: r["role"] for r in teams.teams(member["id"], 0, 10)} == {member["id"]: "owner", owner["id"]: "normal"}
    teams.remove(owner["id"], owner["id"], member["id"])
    assert teams.members(owner["id"], owner["id"], 0, 10) == [] and not teams.joined(member["id"], owner["id"])


def test_keys_listed_and_revoked_per_tenant(store: Any) -> None:
    tenants = TenantService(store)
    a, b = tenants.create_tenant("a"), tenants.create_tenant("b")
    first, second = tenants.create_key(a), tenants.create_key(a)
    tenants.create_key(b)
    listed = tenants.page_tokens(a, 0, 10)
    assert [item["id"] for item in listed] == [first.key_id, second.key_id]
    assert tenants.page_tokens(a, 1, 10)[0]["id"] == second.key_id
    assert not tenants.revoke_token(b, first.key) and tenants.resolve(first.key) == a
    assert tenants.revoke_token(a, masked(listed[0])) and tenants.resolve(first.key) is None
    assert tenants.revoke(second.key_id) and tenants.page_tokens(a, 0, 10) == []
