"""Agent components alone and in realistic flows, run through the HTTP API with a fake OpenAI-compatible LLM on
loopback: begin → retrieval → LLM → message, categorize → switch branches, iteration over a list, loops, variables,
text processing, and Invoke with its SSRF guard."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.agents.helpers import ask, ask_stream, create_agent, dsl, node, streamed_text
from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def llm_api(data_dir: Path, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LLM_BASE_URL": openai_fake.url, "LLM_MODEL": "fake-model", "LLM_API_KEY": "sk-agent"}, monkeypatch)


@pytest.fixture
def open_api(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"AGENT_INVOKE_ALLOWED_HOSTS": "127.0.0.1"}, monkeypatch)


def last_user(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["content"])


def test_retrieval_llm_message_streams_the_answer_with_references(llm_api: Api, openai_fake: FakeOpenAI) -> None:
    ds = make_dataset(llm_api, "rivers")
    ingest(llm_api, ds, {"rivers.txt": b"The Nile is the longest river in Africa.\n\nThe Amazon carries the most water.\n"})
    openai_fake.reply = lambda messages: "The Nile is the longest river, at about 6650 km." if "Nile" in messages[0]["content"] else "No idea."
    flow = dsl({
        "begin": node("Begin", to=["retrieval:0"]),
        "retrieval:0": node("Retrieval", {"kb_ids": [ds], "top_n": 3, "similarity_threshold": 0.0}, to=["llm:0"]),
        "llm:0": node("LLM", {"sys_prompt": "Answer from this knowledge:\n{retrieval:0@formalized_content}",
                              "prompts": [{"role": "user", "content": "{sys.query}"}], "temperature": 0.1}, to=["message:0"]),
        "message:0": node("Message", {"content": ["{llm:0@content}"]}),
    })
    agent_id = create_agent(llm_api, "River guide", flow)
    events = ask_stream(llm_api, agent_id, "Which river is the longest?")
    assert [e["event"] for e in events][0] == "workflow_started" and events[-1]["event"] == "workflow_finished"
    messages = [e for e in events if e["event"] == "message"]
    assert len(messages) > 3  # token by token, not one block
    assert streamed_text(events) == "The Nile is the longest river, at about 6650 km."
    [end] = [e for e in events if e["event"] == "message_end"]
    chunks = list(end["data"]["reference"]["chunks"].values())
    assert any("Nile" in c["content"] for c in chunks) and chunks[0]["dataset_id"] == ds
    assert end["data"]["reference"]["doc_aggs"]["rivers.txt"]["count"] >= 1
    request = openai_fake.chat_requests()[-1]["body"]
    assert request["stream"] is True and request["temperature"] == 0.1
    assert "Nile" in request["messages"][0]["content"] and request["messages"][-1] == {"role": "user", "content": "Which river is the longest?"}
    finished = {e["data"]["component_id"]: e["data"] for e in events if e["event"] == "node_finished"}
    assert finished["retrieval:0"]["outputs"]["json"] and finished["llm:0"]["error"] is None
    # the second turn of the session carries the first as history
    session_id = events[0]["session_id"]
    ask(llm_api, agent_id, "And the one with most water?", session_id=session_id)
    history = openai_fake.chat_requests()[-1]["body"]["messages"]
    assert [m["role"] for m in history] == ["system", "user", "assistant", "user"]


def test_categorize_routes_to_the_chosen_branch(llm_api: Api, openai_fake: FakeOpenAI) -> None:
    openai_fake.reply = lambda messages: "weather" if "rain" in last_user(messages) else "other"
    flow = dsl({
        "begin": node("Begin", to=["categorize:0"]),
        "categorize:0": node("Categorize", {"query": "sys.query", "category_description": {
            "weather": {"description": "Questions about the weather", "examples": ["Will it rain?"], "to": ["msg:weather"]},
            "other": {"description": "Anything else", "to": ["msg:other"]}}}),
        "msg:weather": node("Message", {"content": ["Forecast desk ({categorize:0@category_name})"]}, to=["msg:done"]),
        "msg:other": node("Message", {"content": ["General desk"]}, to=["msg:done"]),
        "msg:done": node("Message", {"content": [" - bye"]}),
    })
    agent_id = create_agent(llm_api, "Router", flow)
    assert ask(llm_api, agent_id, "Will it rain tomorrow?")["data"]["content"] == "Forecast desk (weather) - bye"
    assert ask(llm_api, agent_id, "Tell me a joke")["data"]["content"] == "General desk - bye"
    prompt = openai_fake.chat_requests()[-1]["body"]["messages"][0]["content"]
    assert "weather: Questions about the weather" in prompt


def test_categorize_without_a_model_matches_terms(api: Api) -> None:
    flow = dsl({
        "begin": node("Begin", to=["cat"]),
        "cat": node("Categorize", {"category_description": {
            "billing": {"description": "invoices, payments and refunds", "to": ["a"]},
            "other": {"description": "anything else", "to": ["b"]}}}),
        "a": node("Message", {"content": ["billing"]}), "b": node("Message", {"content": ["other"]}),
    })
    agent_id = create_agent(api, "Desk", flow)
    assert ask(api, agent_id, "I want a refund for my invoice")["data"]["content"] == "billing"
    assert ask(api, agent_id, "hello there")["data"]["content"] == "other"


def test_switch_on_begin_inputs(api: Api) -> None:
    flow = dsl({
        "begin": node("Begin", {"inputs": {"age": {"name": "age", "type": "integer", "optional": False}}}, to=["switch"]),
        "switch": node("Switch", {"conditions": [
            {"logical_operator": "and", "items": [{"cpn_id": "begin@age", "operator": "≥", "value": "18"}], "to": ["adult"]},
            {"logical_operator": "or", "items": [{"cpn_id": "sys.query", "operator": "contains", "value": "parent"},
                                                  {"cpn_id": "begin@age", "operator": "empty"}], "to": ["ask"]}],
            "end_cpn_ids": ["minor"]}),
        "adult": node("Message", {"content": ["adult"]}), "minor": node("Message", {"content": ["minor"]}),
        "ask": node("Message", {"content": ["ask a parent"]}),
    })
    agent_id = create_agent(api, "Gate", flow)
    assert ask(api, agent_id, "", inputs={"age": {"type": "integer", "value": 30}})["data"]["content"] == "adult"
    assert ask(api, agent_id, "", inputs={"age": {"type": "integer", "value": 12}})["data"]["content"] == "minor"
    assert ask(api, agent_id, "my parent is here", inputs={"age": {"value": 12}})["data"]["content"] == "ask a parent"
    assert ask(api, agent_id, "")["data"]["content"] == "ask a parent"


def test_iteration_over_a_split_list_with_an_llm_inside(llm_api: Api, openai_fake: FakeOpenAI) -> None:
    openai_fake.reply = lambda messages: last_user(messages).upper()
    flow = dsl({
        "begin": node("Begin", to=["split"]),
        "split": node("StringTransform", {"method": "split", "split_ref": "sys.query", "delimiters": [","]}, to=["iter"]),
        "iter": node("Iteration", {"items_ref": "split@result", "outputs": {"shouts": {"ref": "loud@content"}}}, to=["merge"]),
        "item": node("IterationItem", to=["loud"], parent="iter"),
        "loud": node("LLM", {"sys_prompt": "Shout it", "prompts": [{"role": "user", "content": "{item@item}"}]}, parent="iter"),
        "merge": node("StringTransform", {"method": "merge", "script": "{iter@shouts}", "delimiters": [" | "]}, to=["msg"]),
        "msg": node("Message", {"content": ["{merge@result}"]}),
    })
    agent_id = create_agent(llm_api, "Shouter", flow)
    result = ask(llm_api, agent_id, "apple, pear ,fig", return_trace=True)
    assert result["data"]["content"] == "APPLE | PEAR | FIG"
    assert [t["component_id"] for t in result["data"]["trace"]].count("loud") == 3


def test_loop_with_a_variable_assigner_and_aggregator(api: Api) -> None:
    flow = dsl({
        "begin": node("Begin", {"inputs": {"nick": {"name": "nick", "optional": True}}}, to=["loop"]),
        "loop": node("Loop", {"loop_variables": [{"variable": "count", "input_mode": "constant", "value": 0, "type": "number"},
                                                 {"variable": "log", "input_mode": "constant", "value": [], "type": "array"}],
                              "loop_termination_condition": [{"variable": "count", "operator": "≥", "value": 3, "input_mode": "constant"}],
                              "maximum_loop_count": 10}, to=["agg"]),
        "start": node("LoopItem", to=["inc"], parent="loop"),
        "inc": node("VariableAssigner", {"variables": [{"variable": "loop@count", "operator": "+=", "parameter": 1},
                                                       {"variable": "loop@log", "operator": "append", "parameter": "{start@index}"}]},
                    parent="loop"),
        "agg": node("VariableAggregator", {"groups": [{"group_name": "name", "variables": [{"value": "begin@nick"}, {"value": "sys.query"}]}]},
                    to=["msg"]),
        "msg": node("Message", {"content": ["{agg@name}: {loop@count} rounds, {loop@log}"]}),
    })
    agent_id = create_agent(api, "Counter", flow)
    assert ask(api, agent_id, "anon")["data"]["content"] == "anon: 3 rounds, [0, 1, 2]"
    assert ask(api, agent_id, "anon", inputs={"nick": {"value": "zed"}})["data"]["content"].startswith("zed: 3 rounds")


@pytest.fixture
def web() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802
            raw = json.dumps({"path": self.path, "agent": self.headers.get("x-agent")}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            raw = b"<html><body><p>got " + body + b"</p><script>x()</script></body></html>"
            self.send_response(200)
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def invoke_flow(url: str, method: str = "get", **params: Any) -> dict[str, Any]:
    return dsl({
        "begin": node("Begin", to=["inv"]),
        "inv": node("Invoke", {"url": url, "method": method, "headers": '{"x-agent": "yes"}',
                               "variables": [{"key": "q", "ref": "sys.query"}, {"key": "lang", "value": "en"}], **params}, to=["msg"]),
        "msg": node("Message", {"content": ["{inv@result}"]}),
    })


def test_invoke_calls_allowed_hosts(open_api: Api, web: str) -> None:
    api = open_api
    agent_id = create_agent(api, "Caller", invoke_flow(f"{web}/search"))
    reply = json.loads(ask(api, agent_id, "rivers of africa")["data"]["content"])
    assert reply == {"path": "/search?q=rivers+of+africa&lang=en", "agent": "yes"}
    poster = create_agent(api, "Poster", invoke_flow(f"{web}/form", "post", datatype="formdata", clean_html=True))
    assert ask(api, poster, "hi")["data"]["content"] == "got q=hi&lang=en"


@pytest.mark.parametrize("url", ["{web}/x", "http://localhost:9/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                                 "http://[::1]:9/", "file:///etc/passwd"])
def test_invoke_refuses_private_targets(api: Api, web: str, url: str) -> None:
    agent_id = create_agent(api, "SSRF", invoke_flow(url.format(web=web)))
    res = api.call("POST", "/api/v1/agents/chat/completions", json={"agent_id": agent_id, "query": "x", "stream": False})
    assert res["code"] == 100 and res["message"].startswith("**ERROR**: Component 'inv' (Invoke) failed: ")
    assert "private, loopback or link-local" in res["message"] or "is not an http(s) URL" in res["message"]
    events = ask_stream(api, agent_id, "x")
    assert streamed_text(events).startswith("**ERROR**: Component 'inv' (Invoke) failed")
    assert events[-1]["event"] == "workflow_finished" and events[-1]["data"]["error"]


def test_a_failing_llm_fails_the_run_with_a_clear_message(llm_api: Api, openai_fake: FakeOpenAI) -> None:
    openai_fake.fail_next(10, 503)
    flow = dsl({"begin": node("Begin", to=["llm"]), "llm": node("LLM", {"prompts": [{"role": "user", "content": "{sys.query}"}]}, to=["m"]),
                "m": node("Message", {"content": ["{llm@content}"]})})
    agent_id = create_agent(llm_api, "Flaky", flow)
    events = ask_stream(llm_api, agent_id, "hi")
    text = streamed_text(events)
    assert text.startswith("**ERROR**: Component 'llm' (LLM) failed:") and len(openai_fake.chat_requests()) >= 2  # retried first
    session = llm_api.call("GET", f"/api/v1/agents/{agent_id}/sessions")["data"][0]
    assert session["message"][-1]["content"].startswith("**ERROR**")
