"""Dispatch by path prefix (api/route_index.py) hands every request to the route Starlette's own scan picks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ragcore.api.route_index import RouteIndex
from starlette.routing import BaseRoute, Match, Route

from functions.local import create_local_app


def starlette_pick(routes: list[BaseRoute], scope: dict[str, Any]) -> BaseRoute | None:
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+:path\}", "a/b", re.sub(r"\{[^}:]+\}", "x1", path))


@pytest.fixture(scope="module")
def app() -> Any:
    return create_local_app(background=False)


def test_every_route_and_method_goes_where_the_full_scan_sends_it(app: Any) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    routes = app.router.routes
    assert sum(not isinstance(route, Route) for route in routes) == 1  # the console mount; no nested router
    checked = 0
    for route in routes:
        if not isinstance(route, Route):
            continue
        path = concrete(route.path)
        for method in sorted(route.methods or {"GET"}) + ["PATCH", "TRACE"]:
            for variant in (path, path + "/", path.replace("/x1", "/tags", 1)):
                scope = {"type": "http", "path": variant, "method": method, "root_path": ""}
                expected = starlette_pick(routes, scope)
                sub = index.router_for(variant)
                got = starlette_pick(sub.routes, scope) if sub is not None else expected
                assert got is expected, (method, variant)
                checked += 1
    assert checked > 1000  # every route of RAGFlow's table, each with its methods and a wrong one


def test_unknown_path_wrong_method_and_console_answer_as_before(app: Any) -> None:
    with TestClient(app) as client:
        missing = client.get("/api/v1/no-such-area/x")
        assert missing.status_code == 404 and missing.json()["message"] == "Not Found: /api/v1/no-such-area/x"
        wrong = client.put("/api/v1/system/ping")
        assert wrong.json()["code"] == 100 and "405" in wrong.json()["message"]
        assert client.get("/console/", follow_redirects=False).status_code == 200
        assert client.get("/api/v1/system/ping").status_code == 200
        assert client.get("/api/v1/system/ping/", follow_redirects=False).status_code == 307  # the slash redirect
        assert client.get("/api/v1/datasets").json()["code"] != 0  # no key: the route's own dependency answers
