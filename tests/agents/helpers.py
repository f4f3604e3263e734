"""Build agent DSLs compactly and talk to the agent endpoints."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Api


def node(kind: str, params: dict[str, Any] | None = None, to: list[str] | None = None, parent: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "params": params or {}, "to": to or [], "parent": parent}


def dsl(nodes: dict[str, dict[str, Any]], variables: dict[str, Any] | None = None) -> dict[str, Any]:
    components: dict[str, Any] = {}
    for cid, n in nodes.items():
        components[cid] = {"obj": {"component_name": n["kind"], "params": n["params"]}, "downstream": list(n["to"]),
                           "upstream": [src for src, m in nodes.items() if cid in m["to"]]}
        if n["parent"]:
            components[cid]["parent_id"] = n["parent"]
    return {"components": components, "history": [], "path": [], "retrieval": [], "variables": variables or {},
            "globals": {"sys.query": "", "sys.user_id": "", "sys.conversation_turns": 0, "sys.files": []}}


def create_agent(api: Api, title: str, body: dict[str, Any], key: str | None = None) -> str:
    res = api.call("POST", "/api/v1/agents", json={"title": title, "dsl": body}, key=key)
    assert res["code"] == 0, res
    return str(res["data"]["id"])


def ask(api: Api, agent_id: str, query: str, **extra: Any) -> dict[str, Any]:
    res = api.call("POST", "/api/v1/agents/chat/completions", json={"agent_id": agent_id, "query": query, "stream": False, **extra})
    assert res["code"] == 0, res
    return dict(res["data"])


def ask_stream(api: Api, agent_id: str, query: str, **extra: Any) -> list[dict[str, Any]]:
    res = api.client.post("/api/v1/agents/chat/completions", headers=api.headers(),
                          json={"agent_id": agent_id, "query": query, "stream": True, **extra})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/event-stream"), res.text
    frames = [line[5:] for line in res.text.splitlines() if line.startswith("data:")]
    assert frames[-1] == "[DONE]"
    return [json.loads(f) for f in frames[:-1]]


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(e["data"]["content"] for e in events if e["event"] == "message")


ECHO = {"begin": node("Begin", to=["message"]), "message": node("Message", {"content": ["{sys.query}"]})}
