"""An agent's versions on both metadata stores: newest first, the 20 newest unreleased kept, releases never
pruned, a same-DSL save refreshing the latest — the store filters and orders, the service never lists all."""

from __future__ import annotations

from typing import Any

from ragcore.services.agents.versions import AgentVersions


def _dsl(n: int) -> dict[str, Any]:
    return {"components": {"begin": {"obj": {"component_name": "Begin", "params": {"n": n}}}}}


def test_versions_retention_and_order(store: Any) -> None:
    versions = AgentVersions(store)
    versions.save("t1", "agent", _dsl(0), "first", True)
    for n in range(1, 24):
        versions.save("t1", "agent", _dsl(n), f"v{n}", False)
    versions.save("t1", "agent", _dsl(23), "again", False)  # same DSL: no new version
    versions.save("t1", "other", _dsl(99), "elsewhere", False)
    listed = versions.listing("t1", "agent")
    assert [v["title"] for v in listed] == [f"v{n}" for n in range(23, 3, -1)] + ["first"]
    assert all("dsl" not in v for v in listed)
    assert versions.get("t1", "agent", listed[0]["id"])["dsl"] == _dsl(23)
    assert versions.last_published("t1", "agent") is not None and versions.last_published("t1", "other") is None
    assert versions.listing("t2", "agent") == []
