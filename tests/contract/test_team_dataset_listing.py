"""A member's dataset list (its own datasets and its teams' team datasets, merged in one order) is the same on SQLite
and on DynamoDB (moto), and reads pages of each source rather than whole collections."""

from __future__ import annotations

import time
from typing import Any

from ragcore.domain.datasets import CreateDataset, parse_list_query
from ragcore.services.knowledge.datasets import DatasetService


def service(store: Any, teams: dict[str, list[str]]) -> DatasetService:
    return DatasetService(store, default_embedding_model="all-MiniLM-L6-v2@Builtin",
                          known_embedding_models=lambda: {"all-MiniLM-L6-v2@Builtin"},
                          team_owners=lambda tenant: teams.get(tenant, []))


def names(svc: DatasetService, tenant: str, **params: Any) -> list[str]:
    return [d["name"] for d in svc.list(tenant, parse_list_query({k: str(v) for k, v in params.items()}))[0]]


def test_own_and_team_datasets_merge_in_order_and_page(store: Any) -> None:
    svc = service(store, {"member": ["owner-a", "owner-b"]})
    plan = [("owner-a", "a1", "team"), ("member", "m1", "me"), ("owner-b", "b1", "team"), ("owner-a", "a2", "me"),
            ("member", "m2", "me"), ("owner-a", "a3", "team")]
    for tenant, name, permission in plan:
        svc.create(tenant, CreateDataset(name=name, permission=permission))
        time.sleep(0.002)  # distinct creation times
    assert names(svc, "member") == ["a3", "m2", "b1", "m1", "a1"]
    assert svc.list("member", parse_list_query({}))[1] == 5
    assert names(svc, "member", desc="false") == ["a1", "m1", "b1", "m2", "a3"]
    assert [names(svc, "member", page=p, page_size=2) for p in (1, 2, 3)] == [["a3", "m2"], ["b1", "m1"], ["a1"]]
    assert names(svc, "owner-a") == ["a3", "a2", "a1"]

    # an update moves it in update order; turning the permission off removes it from the member's list
    [a1] = [d for d in svc.list("owner-a", parse_list_query({}))[0] if d["name"] == "a1"]
    svc.update("owner-a", a1["id"], {"description": "touched"})
    assert names(svc, "member", orderby="update_time")[0] == "a1"
    svc.update("owner-a", a1["id"], {"permission": "me"})
    assert names(svc, "member") == ["a3", "m2", "b1", "m1"]
