"""Chat through the real server with a fake OpenAI-compatible LLM on loopback: ragflow-sdk, the openai SDK, and
the user's seed examples (curl-shaped requests) exactly as written."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI
from ragflow_sdk import RAGFlow

from tests.conftest import Server, start_server, stop_server
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAI) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("llm") / "var",
                       {"LLM_BASE_URL": llm.url, "LLM_API_KEY": "sk-test-secret", "LLM_MODEL": "fake-model"})
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def chat(llm_server: Server) -> Any:
    rag = RAGFlow(api_key=llm_server.key, base_url=llm_server.base_url)
    ds = rag.create_dataset(name="rivers")
    docs = ds.upload_documents([{"display_name": "rivers.txt", "blob": b"The Nile is the longest river in Africa.\n\nThe Amazon carries the most water.\n"}])
    ds.parse_documents([d.id for d in docs])
    return rag.create_chat("river guide", dataset_ids=[ds.id])


def cite_first(messages: list[dict[str, Any]]) -> str:
    return "The Nile is the longest river [ID:0]. Ignore this [ID:99]."


def test_sdk_stream_and_history(llm_server: Server, llm: FakeOpenAI, chat: Any) -> None:
    llm.reply = cite_first
    session = chat.create_session("first")
    pieces = list(session.ask("Which river is the longest?", stream=True))
    text = "".join(m.content for m in pieces)
    assert text.startswith("The Nile is the longest river [ID:0].")
    assert any(m.reference for m in pieces)
    prompt = llm.chat_requests()[-1]["body"]["messages"]
    assert prompt[0]["role"] == "system" and "Nile" in prompt[0]["content"] and prompt[-1]["content"] == "Which river is the longest?"
    headers = {k.lower(): v for k, v in llm.chat_requests()[-1]["headers"].items()}
    assert headers["authorization"] == "Bearer sk-test-secret"
    [reply] = list(session.ask("And the one with most water?", stream=False))
    assert "[ID:99]" not in reply.content and "[ID:0]" in reply.content  # citations point at real chunks
    second_prompt = llm.chat_requests()[-1]["body"]["messages"]
    assert [m["role"] for m in second_prompt] == ["system", "user", "assistant", "user"]  # history grows
    stored = chat.list_sessions(id=session.id)[0]
    assert len(stored.messages) == 5
    chat.delete_sessions(ids=[session.id])
    assert chat.list_sessions() == []


@pytest.mark.parametrize("prefix", ["chats_openai", "openai"])
def test_openai_sdk_both_paths(llm_server: Server, llm: FakeOpenAI, chat: Any, prefix: str) -> None:
    llm.reply = "Rivers flow to the sea."
    client = OpenAI(api_key=llm_server.key, base_url=f"{llm_server.base_url}/api/v1/{prefix}/{chat.id}")
    reply = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "Tell me about rivers"}])
    assert reply.choices[0].message.content == "Rivers flow to the sea."
    assert reply.usage is not None and reply.usage.total_tokens > 0
    stream = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "Which river carries the most water?"}],
                                            stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Rivers flow to the sea."
    # nothing in the datasets matches: RAGFlow's default empty_response answers, not the model
    stream = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "你好"}], stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Sorry! No relevant content was found in the knowledge base!"
    with_ref = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "longest river"}],
                                              extra_body={"reference": True})
    assert with_ref.model_dump()["choices"][0]["message"]["reference"]["chunks"]


def test_seed_curl_examples(llm_server: Server, llm: FakeOpenAI) -> None:
    """../shared/seed: create dataset, upload, run, create chat, converse with stream=true (no session_id)."""
    llm.reply = "RAGFlow 是一个开源的 RAG 引擎。"
    h = {"Authorization": f"Bearer {llm_server.key}"}
    base = llm_server.base_url
    ds = httpx.post(f"{base}/api/v1/datasets", headers={**h, "Content-Type": "application/json"},
                    content='{"name": "我的知识库"}').json()["data"]
    doc = httpx.post(f"{base}/api/v1/datasets/{ds['id']}/documents", headers=h,
                     files={"file": ("document.txt", "RAGFlow 是一个基于深度文档理解的开源 RAG 引擎。".encode())}).json()["data"][0]
    assert httpx.post(f"{base}/api/v1/datasets/{ds['id']}/documents/{doc['id']}/run", headers=h).json()["code"] == 0
    deadline = time.time() + 30
    while time.time() < deadline:
        d = httpx.get(f"{base}/api/v1/datasets/{ds['id']}/documents", headers=h, params={"id": doc["id"]}).json()["data"]["docs"][0]
        if d["run"] == "DONE":
            break
        time.sleep(0.2)
    assert d["run"] == "DONE"
    chat = httpx.post(f"{base}/api/v1/chats", headers={**h, "Content-Type": "application/json"},
                      content=json.dumps({"name": "产品助手", "dataset_ids": [ds["id"]]})).json()["data"]
    with httpx.stream("POST", f"{base}/api/v1/chats/{chat['id']}/completions", headers={**h, "Content-Type": "application/json"},
                      content=json.dumps({"question": "什么是RAGFlow？", "stream": True})) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data:")]
    frames = [json.loads(line[5:]) for line in lines]
    assert frames[-1]["data"] is True
    assert "".join(f["data"]["answer"] for f in frames[:-1]) == "RAGFlow 是一个开源的 RAG 引擎。"
    client = OpenAI(api_key=llm_server.key, base_url=f"{base}/api/v1/chats_openai/{chat['id']}")
    response = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "你好"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in response if c.choices) == "RAGFlow 是一个开源的 RAG 引擎。"


def test_provider_failure_is_a_clear_error(llm_server: Server, llm: FakeOpenAI, chat: Any) -> None:
    llm.fail_next(10, status=500)
    res = httpx.post(f"{llm_server.base_url}/api/v1/chat/completions", headers={"Authorization": f"Bearer {llm_server.key}"},
                     json={"chat_id": chat.id, "question": "longest river?", "stream": False}, timeout=60).json()
    assert res["code"] == 500 and "chat model" in res["message"] and "sk-test-secret" not in res["message"]
    llm._failures.clear()
