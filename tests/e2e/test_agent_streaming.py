"""Agents through the real server: ragflow-sdk creates, lists and converses (streaming and not), the openai SDK
uses both OpenAI-compatible agent paths, and tokens arrive as the fake LLM produces them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI
from ragflow_sdk import RAGFlow

from tests.agents.helpers import dsl, node
from tests.conftest import Server, start_server, stop_server
from tests.fakes.openai_server import FakeOpenAI

FLOW = dsl({
    "begin": node("Begin", {"prologue": "Ask me about rivers."}, to=["llm"]),
    "llm": node("Agent", {"sys_prompt": "You are terse.", "prompts": [{"role": "user", "content": "{sys.query}"}]}, to=["msg"]),
    "msg": node("Message", {"content": ["{llm@content}"]}),
})


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAI) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("agents") / "var", {"LLM_BASE_URL": llm.url, "LLM_MODEL": "fake-model"})
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def agent(server: Server) -> Any:
    rag = RAGFlow(api_key=server.key, base_url=server.base_url)
    rag.create_agent("River bot", FLOW, description="answers about rivers")
    [found] = [a for a in rag.list_agents() if a.title == "River bot"]
    return found


def test_sdk_sessions_and_streaming(server: Server, llm: FakeOpenAI, agent: Any) -> None:
    llm.reply = "The Nile is the longest river."
    session = agent.create_session()
    assert session.message == [{"role": "assistant", "content": "Ask me about rivers."}]  # RAGFlow's agent sessions say "message"
    pieces = list(session.ask("Which river is the longest?", stream=True))
    assert "".join(p.content for p in pieces) == "The Nile is the longest river." and len(pieces) > 2
    [reply] = list(session.ask("And in Europe?", stream=False))
    assert reply.content == "The Nile is the longest river."
    assert [m["role"] for m in llm.chat_requests()[-1]["body"]["messages"]] == ["system", "user", "assistant", "user"]
    [listed] = agent.list_sessions(id=session.id)
    assert len(listed.message) == 5
    agent.delete_sessions(ids=[session.id])
    assert agent.list_sessions() == []


def test_first_token_arrives_before_the_answer_ends(server: Server, llm: FakeOpenAI, agent: Any) -> None:
    llm.reply = "one two three four five six"
    llm.per_token_delay_s = 0.2
    try:
        started = time.perf_counter()
        arrivals = []
        with httpx.stream("POST", f"{server.base_url}/api/v1/agents/chat/completions", timeout=30,
                          headers={"Authorization": f"Bearer {server.key}"},
                          json={"agent_id": agent.id, "query": "count", "stream": True}) as r:
            for line in r.iter_lines():
                if line.startswith("data:") and '"event": "message"' in line:
                    arrivals.append(time.perf_counter() - started)
        assert len(arrivals) == 6 and arrivals[-1] - arrivals[0] > 0.6  # streamed as produced, not buffered
    finally:
        llm.per_token_delay_s = 0.0


@pytest.mark.parametrize("path", ["agents_openai/{id}", "agents_openai/{id}/"])
def test_openai_sdk_on_the_agent_path(server: Server, llm: FakeOpenAI, agent: Any, path: str) -> None:
    llm.reply = "Rivers flow to the sea."
    client = OpenAI(api_key=server.key, base_url=f"{server.base_url}/api/v1/" + path.format(id=agent.id))
    reply = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "rivers?"}])
    assert reply.choices[0].message.content == "Rivers flow to the sea." and reply.usage and reply.usage.total_tokens > 0
    stream = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "你好"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Rivers flow to the sea."


def test_openai_compatible_mode_on_the_native_path(server: Server, llm: FakeOpenAI, agent: Any) -> None:
    llm.reply = "Hello there."
    res = httpx.post(f"{server.base_url}/api/v1/agents/chat/completions", headers={"Authorization": f"Bearer {server.key}"},
                     json={"agent_id": agent.id, "openai-compatible": True, "stream": False, "model": "m",
                           "messages": [{"role": "user", "content": "Hello"}]}, timeout=30).json()
    assert res["object"] == "chat.completion" and res["choices"][0]["message"]["content"] == "Hello there."
    assert res["model"] == "m"
