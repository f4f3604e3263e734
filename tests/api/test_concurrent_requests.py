"""Requests wait for their own slow work, never for each other's: a route's blocking work (the store, the
embedder, a provider) runs off the event loop, so one slow request does not hold up the rest of the server."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api


def test_a_retrieval_waiting_on_its_embedder_does_not_hold_up_other_requests(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.adapters.local_embedder import LocalEmbedder

    ds = make_dataset(api, "rivers")
    ingest(api, ds, {"nile.txt": b"The Nile flows north through Africa.\n"})
    embed = LocalEmbedder.embed
    waiting, release = threading.Event(), threading.Event()

    def slow_embed(self: LocalEmbedder, texts: list[str]) -> list[list[float]]:
        waiting.set()
        release.wait(20)  # a provider that takes its time
        return embed(self, texts)

    monkeypatch.setattr(LocalEmbedder, "embed", slow_embed)
    answers: dict[str, Any] = {}
    slow = threading.Thread(target=lambda: answers.update(retrieval=api.call(
        "POST", "/api/v1/retrieval", json={"question": "Which way does the Nile flow?", "dataset_ids": [ds]})))
    slow.start()
    try:
        assert waiting.wait(20)
        # while that retrieval waits on its embedder, other requests are answered
        listed = api.call("GET", "/api/v1/datasets")
        created = api.call("POST", "/api/v1/datasets", json={"name": "meanwhile"})
        assert listed["code"] == 0 and [d["id"] for d in listed["data"]] == [ds]
        assert created["code"] == 0 and created["data"]["name"] == "meanwhile"
        assert slow.is_alive() and "retrieval" not in answers
    finally:
        release.set()
        slow.join(30)
    assert answers["retrieval"]["code"] == 0
    assert "Nile" in answers["retrieval"]["data"]["chunks"][0]["content"]


def test_every_async_route_awaits_its_work() -> None:
    """An `async def` route runs on the event loop: one that awaits nothing does its blocking work there, holding up
    every other request (FastAPI runs a plain `def` route in its threadpool)."""
    import ast
    from pathlib import Path

    blocking = []
    for path in sorted((Path(__file__).resolve().parents[2] / "functions").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            routed = isinstance(node, ast.AsyncFunctionDef) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr in ("get", "post", "put", "patch", "delete", "api_route") for d in node.decorator_list)
            if routed and not any(isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith)) for n in ast.walk(node)):
                blocking.append(f"{path.name}:{node.lineno} {node.name}")
    assert blocking == []
