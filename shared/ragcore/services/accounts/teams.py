"""Team membership as RAGFlow's tenant routes have it: a tenant's owner invites registered users by e-mail, the
invited user accepts, either side removes the membership.

Each membership is two items, one per side, so both lists are pages of one partition: `member` under the team's
tenant (its members by user id) and `membership` under the member's own tenant (the teams by tenant id).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import now_ms
from ragcore.ports import ListQuery, MetadataStore
from ragcore.services.accounts.users import INVITE, KIND_MEMBERSHIP, NORMAL, OWNER, UserService, membership

KIND_MEMBER = kinds.MEMBER
_T = TypeVar("_T")
TEAMS_SEARCHED = 50  # the joined teams a shared dataset is looked for in (one read each)


def no_authorization() -> ApiError:
    return ApiError(RetCode.AUTHENTICATION_ERROR, "no authorization", data=False)


def _delta_seconds(update_time: Any) -> float:
    """Seconds since the row's user was last updated (RAGFlow's `delta_seconds`)."""
    return round(time.time() - int(update_time or 0) / 1000, 3)


class TeamService:
    def __init__(self, store: MetadataStore, users: UserService) -> None:
        self._store = store
        self._users = users

    def members(self, tenant_id: str, user_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        if user_id != tenant_id:
            raise no_authorization()
        rows = self._store.page(ListQuery(KIND_MEMBER, tenant_id, desc=False), offset, limit)
        people = {u["id"]: u for u in self._users.get_many([r["user_id"] for r in rows])}
        out = []
        for row in rows:
            person = people.get(row["user_id"])
            if person is None:
                continue
            out.append({
                "id": row["row_id"], "user_id": row["user_id"], "role": row["role"],
                "nickname": person["nickname"], "email": person["email"], "avatar": person.get("avatar"),
                "is_authenticated": person["is_authenticated"], "is_active": person["is_active"],
                "is_anonymous": person["is_anonymous"], "status": person["status"],
                "update_date": person["update_date"], "is_superuser": person["is_superuser"],
                "delta_seconds": _delta_seconds(person.get("update_time")),
            })
        return out

    def invite(self, tenant_id: str, user_id: str, email: object) -> dict[str, Any]:
        if user_id != tenant_id:
            raise no_authorization()
        invited = self._users.by_email(email)
        if invited is None:
            raise ApiError(RetCode.DATA_ERROR, "User not found.")
        if invited["id"] == tenant_id:
            raise ApiError(RetCode.DATA_ERROR, f"{email} is the owner of the team.")
        existing = self._store.get(KIND_MEMBER, tenant_id, invited["id"])
        if existing is not None:
            role = existing["role"]
            if role == NORMAL:
                raise ApiError(RetCode.DATA_ERROR, f"{email} is already in the team.")
            raise ApiError(RetCode.DATA_ERROR, f"{email} is in the team, but the role: {role} is invalid.")
        row = membership(tenant_id, invited["id"], INVITE, user_id)
        self._store.put(KIND_MEMBERSHIP, invited["id"], row)
        self._store.put(KIND_MEMBER, tenant_id, {**row, "id": invited["id"]})
        # RAGFlow also e-mails the invitation; without a mail server the invited user sees it in GET /tenants
        return {k: invited.get(k) for k in ("id", "avatar", "email", "nickname")}

    def remove(self, tenant_id: str, user_id: str, member_id: str) -> None:
        if user_id not in (tenant_id, member_id):
            raise no_authorization()
        if member_id == tenant_id:
            return  # the owner's own membership stays: without it the owner's tokens would have no tenant
        self._store.delete(KIND_MEMBER, tenant_id, member_id)
        self._store.delete(KIND_MEMBERSHIP, member_id, tenant_id)

    def accept(self, tenant_id: str, user_id: str) -> None:
        mine = self._store.get(KIND_MEMBERSHIP, user_id, tenant_id)
        if mine is None or mine["role"] == OWNER:
            return  # RAGFlow updates no row and answers success
        changes = {"role": NORMAL, "update_time": now_ms()}
        self._store.update(KIND_MEMBERSHIP, user_id, tenant_id, changes)
        self._store.update(KIND_MEMBER, tenant_id, user_id, changes)

    def teams(self, user_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        rows = self._store.page(ListQuery(KIND_MEMBERSHIP, user_id, desc=False), offset, limit)
        owners = {u["id"]: u for u in self._users.get_many([r["tenant_id"] for r in rows])}
        out = []
        for row in rows:
            owner = owners.get(row["tenant_id"])
            if owner is None:
                continue
            out.append({"tenant_id": row["tenant_id"], "role": row["role"], "nickname": owner["nickname"],
                        "email": owner["email"], "avatar": owner.get("avatar"), "update_date": owner["update_date"],
                        "delta_seconds": _delta_seconds(owner.get("update_time"))})
        return out

    def joined(self, user_id: str, tenant_id: str) -> bool:
        """Whether the user is an accepted member (RAGFlow's `normal` role) of the tenant's team."""
        row = self._store.get(KIND_MEMBERSHIP, user_id, tenant_id)
        return row is not None and row["role"] == NORMAL

    def joined_teams(self, user_id: str) -> list[str]:
        """The tenants whose team the user joined (accepted; its own excluded), at most TEAMS_SEARCHED."""
        rows = self._store.page(ListQuery(KIND_MEMBERSHIP, user_id, desc=False), 0, TEAMS_SEARCHED)
        return [r["tenant_id"] for r in rows if r["role"] == NORMAL and r["tenant_id"] != user_id]

    def team_dataset(self, user_id: str, dataset_id: str) -> dict[str, Any] | None:
        """A dataset with `permission: "team"` in a team the user has joined (RAGFlow's team visibility); None for
        anything else, so another tenant's private dataset answers like one that does not exist."""
        for row in self._store.page(ListQuery(KIND_MEMBERSHIP, user_id, desc=False), 0, TEAMS_SEARCHED):
            if row["role"] != NORMAL or row["tenant_id"] == user_id:
                continue
            item = self._store.get(DATASET_KIND, row["tenant_id"], dataset_id)
            if item is not None and item.get("permission") == "team":
                return item
        return None

    def read_shared(self, tenant: str, dataset_id: str, read: Callable[[str], _T]) -> _T:
        """A read of a dataset's documents or chunks: as the caller, or — when the dataset is not the caller's but a
        team dataset of a team its user joined — as the dataset's owner. Only the caller's own miss pays the team
        lookup, and anything else answers the caller's own refusal."""
        try:
            return read(tenant)
        except ApiError:
            shared = self.team_dataset(tenant, dataset_id) if isinstance(dataset_id, str) and dataset_id else None
            if shared is None:
                raise
        return read(str(shared["tenant_id"]))

