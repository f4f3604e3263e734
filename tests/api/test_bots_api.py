"""The embeddable bots (chatbots, agentbots, searchbots): authorised by the tenant's beta token only, answered by
the same chat, agent, search-app and retrieval services as the API-key routes, with RAGFlow's bot messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.agents.helpers import ECHO, create_agent, dsl, node
from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI

NO_CHATBOT = "Authentication error: no access to this chatbot!"
TEXT = b"Parental leave lasts sixteen weeks at full pay.\n\nThe office opens at nine in the morning.\n"


def beta_of(api: Api, key: str | None = None) -> str:
    res = api.call("POST", "/api/v1/system/tokens", key)
    assert res["code"] == 0, res
    return str(res["data"]["beta"])


def bot(api: Api, method: str, path: str, beta: str, **kw: Any) -> dict[str, Any]:
    res = api.client.request(method, path, headers={"Authorization": f"Bearer {beta}"}, **kw)
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/json"), res.text
    return res.json()  # type: ignore[no-any-return]


def sse(api: Api, path: str, beta: str, body: dict[str, Any]) -> list[Any]:
    res = api.client.post(path, headers={"Authorization": f"Bearer {beta}"}, json=body)
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/event-stream"), res.text
    return [json.loads(line[5:]) for line in res.text.splitlines() if line.startswith("data:") and line[5:] != "[DONE]"]


@pytest.fixture
def world(api: Api) -> dict[str, str]:
    ds = make_dataset(api, "handbook")
    ingest(api, ds, {"handbook.txt": TEXT})
    chat = api.call("POST", "/api/v1/chats", json={"name": "helper", "dataset_ids": [ds],
                                                   "prompt_config": {"prologue": "Welcome to the handbook bot."}})["data"]
    agent = create_agent(api, "echo", dsl({"begin": node("Begin", {"prologue": "Ask me.", "mode": "conversational",
                                                                   "inputs": {"city": {"name": "City", "type": "line"}}},
                                                         to=["message"]),
                                           "message": ECHO["message"]}))
    search = api.call("POST", "/api/v1/searches", json={"name": "finder"})["data"]["search_id"]
    return {"dataset": ds, "chat": chat["id"], "agent": agent, "search": search, "beta": beta_of(api)}


ROUTES = [("POST", "/api/v1/chatbots/{id}/completions"), ("GET", "/api/v1/chatbots/{id}/info"),
          ("POST", "/api/v1/agentbots/{id}/completions"), ("GET", "/api/v1/agentbots/{id}/inputs"),
          ("GET", "/api/v1/agentbots/{id}/logs/m"), ("POST", "/api/v1/searchbots/ask"),
          ("POST", "/api/v1/searchbots/retrieval_test"), ("POST", "/api/v1/searchbots/related_questions"),
          ("GET", "/api/v1/searchbots/detail"), ("POST", "/api/v1/searchbots/mindmap")]


def test_only_a_beta_token_opens_the_bot_routes(api: Api, world: dict[str, str]) -> None:
    from ragcore.bootstrap import tenants

    for method, path in ROUTES:
        url = path.format(id=world["chat"])
        for headers, message in [({}, "Authorization is not valid!"),
                                 ({"Authorization": "Bearer not-a-beta"}, "Authentication error: API key is invalid! "),
                                 ({"Authorization": f"Bearer {api.key}"}, "Authentication error: API key is invalid! ")]:
            res = api.client.request(method, url, headers=headers, json={"question": "x"})
            assert (res.status_code, res.json()) == (200, {"code": 102, "message": message, "data": None}), (method, path)
    # the token works with or without "Bearer ", as RAGFlow reads it
    for header in (f"Bearer {world['beta']}", world["beta"], f"bearer {world['beta']}"):
        res = api.client.get(f"/api/v1/chatbots/{world['chat']}/info", headers={"Authorization": header})
        assert res.json()["code"] == 0, header
    # a revoked key takes its beta token with it
    new = tenants().create_key(api.tenant)
    assert bot(api, "GET", f"/api/v1/chatbots/{world['chat']}/info", new.beta)["code"] == 0
    assert api.call("DELETE", f"/api/v1/system/tokens/{new.key}")["code"] == 0
    assert bot(api, "GET", f"/api/v1/chatbots/{world['chat']}/info", new.beta)["code"] == 102


def test_chatbot_opens_a_session_with_the_prologue_then_answers_in_it(api: Api, world: dict[str, str]) -> None:
    chat, beta = world["chat"], world["beta"]
    info = bot(api, "GET", f"/api/v1/chatbots/{chat}/info", beta)["data"]
    assert info == {"title": "helper", "avatar": "", "prologue": "Welcome to the handbook bot.", "has_tavily_key": False,
                    "has_web_search_provider": False, "llm_id": info["llm_id"]} and info["llm_id"]

    opening = sse(api, f"/api/v1/chatbots/{chat}/completions", beta, {"question": "hi", "user_id": "visitor-1"})
    assert opening[-1] == {"code": 0, "message": "", "data": True}
    first = opening[0]["data"]
    assert first["answer"] == "Welcome to the handbook bot." and first["id"] is None
    session_id = first["session_id"]
    sessions = api.call("GET", f"/api/v1/chats/{chat}/sessions")["data"]
    assert [(s["id"], s["user_id"]) for s in sessions] == [(session_id, "visitor-1")]

    reply = bot(api, "POST", f"/api/v1/chatbots/{chat}/completions", beta,
                json={"question": "How long is parental leave?", "session_id": session_id, "stream": False})
    assert reply["code"] == 0, reply
    assert "sixteen weeks" in reply["data"]["answer"] and reply["data"]["session_id"] == session_id
    assert reply["data"]["reference"]["chunks"][0]["document_name"] == "handbook.txt"
    streamed = sse(api, f"/api/v1/chatbots/{chat}/completions", beta,
                   {"question": "When does the office open?", "session_id": session_id})
    assert streamed[-1]["data"] is True and "nine" in "".join(f["data"]["answer"] for f in streamed[:-1])
    kept = api.call("GET", f"/api/v1/chats/{chat}/sessions/{session_id}")["data"]["messages"]
    assert [m["role"] for m in kept] == ["assistant", "user", "assistant", "user", "assistant"]
    assert kept[1]["content"] == "How long is parental leave?"

    # a session of another chat, an unknown session, an unknown chat: one refusal, nothing kept
    other = api.call("POST", "/api/v1/chats", json={"name": "other"})["data"]["id"]
    for path, body in [(f"/api/v1/chatbots/{other}/completions", {"question": "x", "session_id": session_id}),
                       (f"/api/v1/chatbots/{chat}/completions", {"question": "x", "session_id": uuid.uuid4().hex}),
                       (f"/api/v1/chatbots/{uuid.uuid4().hex}/completions", {"question": "x"}),
                       (f"/api/v1/chatbots/{uuid.uuid4().hex}/info", None)]:
        res = bot(api, "GET" if body is None else "POST", path, beta, json=body)
        assert res == {"code": 102, "message": NO_CHATBOT, "data": None}, path
    assert len(api.call("GET", f"/api/v1/chats/{chat}/sessions/{session_id}")["data"]["messages"]) == 5


def test_another_tenants_bots_answer_like_unknown_ones(api: Api, world: dict[str, str]) -> None:
    other_beta = beta_of(api, api.new_tenant_key())
    for method, path, body in [
        ("GET", "/api/v1/chatbots/{}/info", None), ("POST", "/api/v1/chatbots/{}/completions", {"question": "x"}),
    ]:
        assert bot(api, method, path.format(world["chat"]), other_beta, json=body) == \
            bot(api, method, path.format(uuid.uuid4().hex), other_beta, json=body) == \
            {"code": 102, "message": NO_CHATBOT, "data": None}
    for path in ("/api/v1/agentbots/{}/inputs", "/api/v1/agentbots/{}/logs/m"):
        assert bot(api, "GET", path.format(world["agent"]), other_beta) == \
            {"code": 102, "message": f"Can't find agent by ID: {world['agent']}", "data": None}
    res = bot(api, "POST", f"/api/v1/agentbots/{world['agent']}/completions", other_beta, json={"query": "hi", "stream": False})
    assert res["message"] == f"Can't find agent by ID: {world['agent']}"
    detail = bot(api, "GET", "/api/v1/searchbots/detail", other_beta, params={"search_id": world["search"]})
    assert detail == {"code": 103, "message": "Has no permission for this operation.", "data": False}
    test = bot(api, "POST", "/api/v1/searchbots/retrieval_test", other_beta, json={"kb_id": world["dataset"], "question": "leave"})
    assert test == {"code": 103, "message": "Only owner of dataset authorized for this operation.", "data": False}
    ask = bot(api, "POST", "/api/v1/searchbots/ask", other_beta, json={"question": "leave", "kb_ids": [world["dataset"]]})
    assert ask["code"] == 102 and world["dataset"] in ask["message"]
    assert len(api.call("GET", f"/api/v1/chats/{world['chat']}/sessions")["data"]) == 0


def test_agentbot_inputs_completions_and_logs(api: Api, world: dict[str, str]) -> None:
    agent, beta = world["agent"], world["beta"]
    inputs = bot(api, "GET", f"/api/v1/agentbots/{agent}/inputs", beta)["data"]
    assert inputs == {"title": "echo", "avatar": None, "inputs": {"city": {"name": "City", "type": "line"}},
                      "prologue": "Ask me.", "mode": "conversational"}

    reply = bot(api, "POST", f"/api/v1/agentbots/{agent}/completions", beta, json={"query": "ping", "stream": False})
    assert reply["code"] == 0 and reply["data"]["data"]["content"] == "ping", reply
    events = sse(api, f"/api/v1/agentbots/{agent}/completions", beta, {"query": "pong"})
    assert "".join(e["data"]["content"] for e in events if e["event"] == "message") == "pong"
    message_id = events[-1]["message_id"]
    log = bot(api, "GET", f"/api/v1/agentbots/{agent}/logs/{message_id}", beta)
    assert log["code"] == 0 and log["data"]["message_id"] == message_id and log["data"]["trace"]
    assert bot(api, "GET", f"/api/v1/agentbots/{agent}/logs/{uuid.uuid4().hex}", beta) == {"code": 0, "message": "success", "data": {}}
    # both turns were kept as the agent's sessions, like any API-key run
    assert len(api.call("GET", f"/api/v1/agents/{agent}/sessions")["data"]) == 2


def test_searchbots_answer_with_the_search_apps_services(api: Api, world: dict[str, str]) -> None:
    ds, beta, search = world["dataset"], world["beta"], world["search"]
    frames = sse(api, "/api/v1/searchbots/ask", beta, {"question": "How long is parental leave?", "kb_ids": [ds]})
    assert frames[-1] == {"code": 0, "message": "", "data": True}
    assert "sixteen weeks" in "".join(f["data"]["answer"] for f in frames[:-1])
    assert frames[-2]["data"]["reference"]["chunks"][0]["dataset_id"] == ds
    assert bot(api, "POST", "/api/v1/searchbots/ask", beta, json={"question": "x"}) == \
        {"code": 101, "message": "required argument are missing: kb_ids; ", "data": None}

    test = bot(api, "POST", "/api/v1/searchbots/retrieval_test", beta, json={"kb_id": ds, "question": "parental leave"})["data"]
    assert test["total"] == len(test["chunks"]) >= 1 and "sixteen weeks" in test["chunks"][0]["content"]
    assert test["labels"] == {} and test["doc_aggs"][0]["doc_name"] == "handbook.txt"
    for body, expected in [
        ({"question": "x"}, (101, "required argument are missing: kb_id; ")),
        ({"kb_id": [], "question": "x"}, (102, "Please specify dataset firstly.")),
        ({"kb_id": ds, "question": "x", "top_k": 0}, (102, "`top_k` must be greater than 0")),
        ({"kb_id": ds, "question": "x", "size": 101}, (101, "page_size must be less than or equal to 100")),
        ({"kb_id": ds, "question": "x", "similarity_threshold": "high"}, (101, "`similarity_threshold` should be a number.")),
    ]:
        res = bot(api, "POST", "/api/v1/searchbots/retrieval_test", beta, json=body)
        assert (res["code"], res["message"]) == expected, body
    # a search app's threshold applies where the request leaves it out: nothing reaches 0.99
    api.call("PUT", f"/api/v1/searches/{search}", json={"name": "finder", "search_config": {"similarity_threshold": 0.99}})
    strict = bot(api, "POST", "/api/v1/searchbots/retrieval_test", beta,
                 json={"kb_id": ds, "question": "parental leave", "search_id": search})["data"]
    assert strict["chunks"] == [] and strict["total"] == 0

    detail = bot(api, "GET", "/api/v1/searchbots/detail", beta, params={"search_id": search})["data"]
    assert detail["id"] == search and detail["search_config"]["similarity_threshold"] == 0.99
    assert bot(api, "GET", "/api/v1/searchbots/detail", beta)["message"] == "required argument are missing: search_id; "

    related = bot(api, "POST", "/api/v1/searchbots/related_questions", beta, json={"question": "parental leave"})
    assert related["code"] == 0 and len(related["data"]) == 5
    assert bot(api, "POST", "/api/v1/searchbots/related_questions", beta, json={"industry": "search"}) == \
        {"code": 101, "message": "required argument are missing: question; ", "data": None}

    mind = bot(api, "POST", "/api/v1/searchbots/mindmap", beta, json={"question": "parental leave", "kb_ids": [ds]})["data"]
    assert mind["id"] == "parental leave" and mind["children"]
    assert bot(api, "POST", "/api/v1/searchbots/mindmap", beta, json={"question": "x"})["code"] == 101


@pytest.fixture
def llm_api(openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LLM_BASE_URL": openai_fake.url, "LLM_API_KEY": "sk-deployment"}, monkeypatch)


def test_a_chatbot_answers_without_citations_unless_the_page_asks(llm_api: Api, openai_fake: FakeOpenAI) -> None:
    from ragcore.domain.chats import CITATION_RULE

    ds = make_dataset(llm_api, "kb")
    ingest(llm_api, ds, {"handbook.txt": TEXT})
    chat = llm_api.call("POST", "/api/v1/chats", json={"name": "c", "dataset_ids": [ds]})["data"]["id"]
    beta = beta_of(llm_api)
    session = sse(llm_api, f"/api/v1/chatbots/{chat}/completions", beta, {"question": "hi"})[0]["data"]["session_id"]
    openai_fake.reply = "Sixteen weeks."
    for quote in (None, True):
        openai_fake.requests.clear()
        body = {"question": "How long is parental leave?", "session_id": session, "stream": False}
        reply = bot(llm_api, "POST", f"/api/v1/chatbots/{chat}/completions", beta,
                    json=body if quote is None else {**body, "quote": quote})
        assert reply["data"]["answer"] == "Sixteen weeks."
        system = openai_fake.chat_requests()[0]["body"]["messages"][0]["content"]
        assert (CITATION_RULE.strip() in system) is bool(quote)
