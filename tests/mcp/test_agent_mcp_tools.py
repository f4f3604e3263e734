"""MCP servers as agent tools: an Agent component names a tenant's MCP server (RAGFlow's `mcp` parameter), the chat
model (the OpenAI fake) calls its tool, the loopback MCP server built with the SDK answers, the model answers with
it, and the call is in the run's trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agents.helpers import ask, create_agent, dsl, node
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI
from tests.mcp.fake_mcp import FakeMcp, fake_mcp


@pytest.fixture(scope="module")
def station() -> Iterator[FakeMcp]:
    with fake_mcp() as fake:
        yield fake


@pytest.fixture
def llm_api(data_dir: Path, openai_fake: FakeOpenAI, station: FakeMcp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LLM_BASE_URL": openai_fake.url, "LLM_MODEL": "fake-model", "LLM_API_KEY": "sk-agent",
                         "MCP_ALLOWED_HOSTS": "127.0.0.1"}, monkeypatch)


def weather_server(api: Api, station: FakeMcp, key: str | None = None) -> dict[str, Any]:
    res = api.call("POST", "/api/v1/mcp/servers", key=key,
                   json={"name": "weather", "url": station.url, "server_type": "streamable-http"})
    assert res["code"] == 0, res
    return dict(res["data"])


def agent_with(server: dict[str, Any], tools: tuple[str, ...] = ("get_weather",)) -> dict[str, Any]:
    mcp = [{"mcp_id": server["id"], "tools": {name: server["variables"]["tools"][name] for name in tools}}]
    return dsl({"begin": node("Begin", to=["agent"]),
                "agent": node("Agent", {"sys_prompt": "You report the weather.", "mcp": mcp, "max_rounds": 3}, to=["message"]),
                "message": node("Message", {"content": ["{agent@content}"]})})


def calls_the_weather_tool(messages: list[dict[str, Any]]) -> Any:
    if messages[-1]["role"] == "tool":
        return "Station report: " + messages[-1]["content"]
    return {"tool_calls": [{"name": "get_weather_0", "arguments": {"city": "Oslo"}}]}


def test_the_agents_model_calls_an_mcp_tool_and_the_trace_keeps_the_call(
        llm_api: Api, openai_fake: FakeOpenAI, station: FakeMcp) -> None:
    server = weather_server(llm_api, station)
    agent_id = create_agent(llm_api, "weather agent", agent_with(server))
    openai_fake.reply = calls_the_weather_tool
    answer = ask(llm_api, agent_id, "What is the weather in Oslo?")
    assert answer["data"]["content"] == "Station report: Sunny and 21 degrees in Oslo"
    assert ("get_weather", {"city": "Oslo"}) in station.calls
    first, second = openai_fake.chat_requests()[-2:]
    [offered] = first["body"]["tools"]
    assert offered["function"]["name"] == "get_weather_0" and offered["function"]["parameters"]["required"] == ["city"]
    assert second["body"]["messages"][-1] == {"role": "tool", "tool_call_id": "call_0",
                                              "content": "Sunny and 21 degrees in Oslo"}
    log = llm_api.call("GET", f"/api/v1/agents/{agent_id}/logs/{answer['message_id']}")["data"]
    [entry] = [e for e in log["trace"] if e["component_id"] == "agent"]
    [call] = entry["trace"]
    assert call["tool_name"] == "get_weather_0" and call["mcp_tool"] == "get_weather" and call["mcp_id"] == server["id"]
    assert call["arguments"] == {"city": "Oslo"} and call["result"] == "Sunny and 21 degrees in Oslo"


def test_a_failing_tool_is_told_to_the_model(llm_api: Api, openai_fake: FakeOpenAI, station: FakeMcp) -> None:
    server = weather_server(llm_api, station)
    agent_id = create_agent(llm_api, "broken agent", agent_with(server, ("broken",)))
    openai_fake.reply = lambda m: ("Sorry: " + m[-1]["content"]) if m[-1]["role"] == "tool" else \
        {"tool_calls": [{"name": "broken_0", "arguments": {}}]}
    answer = ask(llm_api, agent_id, "Status?")
    assert answer["data"]["content"].startswith("Sorry: MCP server error:") and "the station is offline" in answer["data"]["content"]


def test_another_tenants_mcp_server_fails_the_run(llm_api: Api, openai_fake: FakeOpenAI, station: FakeMcp) -> None:
    other = llm_api.new_tenant_key()
    foreign = weather_server(llm_api, station, key=other)
    agent_id = create_agent(llm_api, "sneaky agent", agent_with(foreign))
    openai_fake.reply = calls_the_weather_tool
    before = len(station.calls)
    res = llm_api.call("POST", "/api/v1/agents/chat/completions",
                       json={"agent_id": agent_id, "query": "Weather in Oslo?", "stream": False})
    assert res["code"] != 0 and f"Cannot find MCP server {foreign['id']}" in res["message"], res
    assert len(station.calls) == before  # the other tenant's server was never called


def test_without_a_tool_calling_model_the_run_says_why(data_dir: Path, station: FakeMcp,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for api in app_with({"MCP_ALLOWED_HOSTS": "127.0.0.1"}, monkeypatch):  # no LLM_BASE_URL: the extractive answerer
        agent_id = create_agent(api, "weather agent", agent_with(weather_server(api, station)))
        res = api.call("POST", "/api/v1/agents/chat/completions", json={"agent_id": agent_id, "query": "Oslo?", "stream": False})
        assert res["code"] != 0 and "MCP tools need a chat model that can call tools" in res["message"], res
