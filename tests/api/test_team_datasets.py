"""Datasets with `permission: "team"`: members of the owner's team list them beside their own, read their documents
and chunks, retrieve from them and chat over them; they cannot change or delete them; and nobody else sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api

NILE = {"nile.txt": b"The Nile river flows north through Egypt into the Mediterranean Sea.\n"}
ALPS = {"alps.txt": b"The Alps are the highest mountain range in Europe.\n"}


@dataclass
class Team:
    owner: Api
    member: Api
    outsider: Api
    shared: str
    private: str
    mine: str


def user(c: TestClient, email: str) -> Api:
    res = c.post("/api/v1/users", json={"email": email, "nickname": email.split("@")[0], "password": "secret"})
    assert res.json()["code"] == 0, res.json()
    auth = {"Authorization": res.headers["Authorization"]}
    user_id = c.get("/api/v1/users/me", headers=auth).json()["data"]["id"]
    token = c.post("/api/v1/system/tokens", headers=auth).json()["data"]["token"]
    return Api(client=c, key=token, tenant=user_id)


@pytest.fixture
def team(api: Api) -> Team:
    c = api.client
    owner, member, outsider = user(c, "owner@example.com"), user(c, "member@example.com"), user(c, "x@example.com")
    assert owner.call("POST", f"/api/v1/tenants/{owner.tenant}/users", json={"email": "member@example.com"})["code"] == 0
    assert member.call("PATCH", f"/api/v1/tenants/{owner.tenant}")["data"] is True
    shared = make_dataset(owner, "handbook", permission="team")
    private = make_dataset(owner, "salaries")
    ingest(owner, shared, NILE)
    ingest(owner, private, NILE)
    mine = make_dataset(member, "notes")
    ingest(member, mine, ALPS)
    return Team(owner, member, outsider, shared, private, mine)


def names(api: Api, **params: Any) -> list[str]:
    res = api.call("GET", "/api/v1/datasets", params=params)
    assert res["code"] == 0, res
    return [d["name"] for d in res["data"]]


def test_members_list_team_datasets_beside_their_own(team: Team) -> None:
    assert names(team.member) == ["notes", "handbook"]  # newest first, across both tenants
    assert names(team.member, desc="false") == ["handbook", "notes"]
    assert names(team.member, page=2, page_size=1) == ["handbook"]
    listed = team.member.call("GET", "/api/v1/datasets")
    assert listed["total_datasets"] == 2 and listed["data"][1]["tenant_id"] == team.owner.tenant
    assert names(team.owner) == ["salaries", "handbook"]  # the owner's list is its own
    assert names(team.outsider) == []


def test_members_read_documents_and_chunks_of_a_team_dataset(team: Team) -> None:
    m = team.member
    docs = m.call("GET", f"/api/v1/datasets/{team.shared}/documents")
    assert docs["code"] == 0 and [d["name"] for d in docs["data"]["docs"]] == ["nile.txt"]
    doc_id = docs["data"]["docs"][0]["id"]
    raw = m.client.get(f"/api/v1/datasets/{team.shared}/documents/{doc_id}", headers=m.headers())
    assert raw.status_code == 200 and raw.content == NILE["nile.txt"]
    chunks = m.call("GET", f"/api/v1/datasets/{team.shared}/documents/{doc_id}/chunks")
    assert chunks["code"] == 0 and "Nile" in chunks["data"]["chunks"][0]["content"]

    # a private dataset of the same owner, and the team dataset for someone outside the team: as if unknown
    for api, dataset in ((m, team.private), (team.outsider, team.shared)):
        refused = api.call("GET", f"/api/v1/datasets/{dataset}/documents")
        unknown = api.call("GET", f"/api/v1/datasets/{'0' * 32}/documents")
        assert refused["code"] == unknown["code"] == 102
        assert refused["message"] == unknown["message"].replace("0" * 32, dataset)


def test_members_retrieve_and_chat_over_team_datasets(team: Team) -> None:
    m = team.member
    found = m.call("POST", "/api/v1/retrieval", json={"question": "Where does the Nile flow?", "dataset_ids": [team.shared]})
    assert found["code"] == 0 and "Nile" in found["data"]["chunks"][0]["content"]
    both = m.call("POST", "/api/v1/retrieval", json={"question": "Nile river Alps mountain", "dataset_ids": [team.shared, team.mine],
                                                      "similarity_threshold": 0})
    assert both["code"] == 0
    assert {c["dataset_id"] for c in both["data"]["chunks"]} == {team.shared, team.mine} and both["data"]["total"] == 2
    refused = m.call("POST", "/api/v1/retrieval", json={"question": "Nile", "dataset_ids": [team.private]})
    assert refused["code"] == 102 and refused["message"] == f"You don't own the dataset {team.private}."

    chat = m.call("POST", "/api/v1/chats", json={"name": "team chat", "dataset_ids": [team.shared]})
    assert chat["code"] == 0, chat
    assert chat["data"]["kb_names"] == ["handbook"]
    answer = m.call("POST", f"/api/v1/chats/{chat['data']['id']}/completions",
                    json={"question": "Where does the Nile flow?", "stream": False})
    assert answer["code"] == 0 and answer["data"]["reference"]["chunks"][0]["dataset_id"] == team.shared
    assert team.outsider.call("POST", "/api/v1/chats", json={"name": "c", "dataset_ids": [team.shared]})["code"] == 102


def test_members_cannot_change_or_delete_a_team_dataset(team: Team) -> None:
    m, o = team.member, team.owner
    deleted = m.call("DELETE", "/api/v1/datasets", json={"ids": [team.shared]})
    assert deleted["code"] == 102 and deleted["message"] == f"User '{m.tenant}' lacks permission for datasets: '{team.shared}'"
    renamed = m.call("PUT", f"/api/v1/datasets/{team.shared}", json={"name": "mine now"})
    assert renamed["code"] == 102 and "lacks permission" in renamed["message"]
    upload = m.client.post(f"/api/v1/datasets/{team.shared}/documents", headers=m.headers(),
                           files=[("file", ("x.txt", b"x"))]).json()
    assert upload["code"] != 0
    assert names(o) == ["salaries", "handbook"]
    assert [d["name"] for d in o.call("GET", f"/api/v1/datasets/{team.shared}/documents")["data"]["docs"]] == ["nile.txt"]


def test_sharing_ends_with_the_permission_or_the_membership(team: Team) -> None:
    m, o = team.member, team.owner
    assert o.call("PUT", f"/api/v1/datasets/{team.shared}", json={"permission": "me"})["code"] == 0
    assert names(m) == ["notes"]
    assert m.call("GET", f"/api/v1/datasets/{team.shared}/documents")["code"] == 102
    assert o.call("PUT", f"/api/v1/datasets/{team.private}", json={"permission": "team"})["code"] == 0
    assert names(m) == ["notes", "salaries"]
    # leaving the team ends it too
    assert m.call("DELETE", f"/api/v1/tenants/{o.tenant}/users", json={"user_id": m.tenant})["data"] is True
    assert names(m) == ["notes"]
    # a deleted team dataset leaves no entry behind
    assert o.call("DELETE", "/api/v1/datasets", json={"ids": [team.private]})["code"] == 0
    from ragcore.bootstrap.container import get_container
    from ragcore.ports import ListQuery

    assert get_container().store.count(ListQuery("team_dataset", o.tenant)) == 0
