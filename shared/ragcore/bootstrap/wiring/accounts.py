"""Wiring of the accounts area: users and sign-in, tenants and API keys, teams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container

if TYPE_CHECKING:
    from ragcore.services.accounts.teams import TeamService
    from ragcore.services.accounts.tenants import TenantService
    from ragcore.services.accounts.users import UserService


@cached
def tenants() -> TenantService:
    from ragcore.services.accounts.tenants import TenantService

    return TenantService(get_container().store)


def users() -> UserService:
    from ragcore.services.accounts.users import LoginPolicy, UserService

    settings = get_container().settings
    policy = LoginPolicy(settings.login_max_failures, settings.login_failure_window_s, settings.login_lock_s,
                         settings.login_address_max_failures)
    return UserService(get_container().store, register_enabled=bool(settings.register_enabled), policy=policy)


def teams() -> TeamService:
    from ragcore.services.accounts.teams import TeamService

    return TeamService(get_container().store, users())


def trusted_proxies() -> frozenset[str]:
    return frozenset(h.strip() for h in get_container().settings.trusted_proxies.split(",") if h.strip())
