"""Each chat calls the model it names, with its tenant's key and base URL: two providers on two loopback fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fakes() -> Iterator[tuple[FakeOpenAI, FakeOpenAI]]:
    zhipu, deepseek = FakeOpenAI(), FakeOpenAI()
    zhipu.reply, deepseek.reply = "Answer from GLM.", "Answer from DeepSeek."
    yield zhipu, deepseek
    zhipu.close()
    deepseek.close()


@pytest.fixture
def mapi(fakes: tuple[FakeOpenAI, FakeOpenAI], monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    urls = json.dumps({"ZHIPU-AI": fakes[0].url, "DeepSeek": fakes[1].url})
    yield from app_with({"PROVIDER_BASE_URLS": urls}, monkeypatch)


def add(api: Api, provider: str, key: str, model: str, tenant_key: str | None = None) -> None:
    assert api.call("PUT", "/api/v1/providers", tenant_key, json={"provider_name": provider}) == {"code": 0}
    res = api.call("POST", f"/api/v1/providers/{provider}/instances", tenant_key,
                   json={"instance_name": "CI", "api_key": key, "base_url": "",
                         "model_info": [{"model_name": model, "model_type": ["chat"]}]})
    assert res == {"code": 0}, res


def ask(api: Api, chat_id: str, key: str | None = None) -> dict[str, Any]:
    return api.call("POST", f"/api/v1/chats/{chat_id}/completions", key, json={"question": "Hello?", "stream": False})


def keys_seen(fake: FakeOpenAI) -> list[str]:
    return [next(v for k, v in r["headers"].items() if k.lower() == "authorization") for r in fake.chat_requests()]


def test_each_chat_reaches_its_own_provider_with_its_own_key(mapi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    zhipu, deepseek = fakes
    add(mapi, "ZHIPU-AI", "zhipu-key-aaaa1111", "glm-4-flash")
    add(mapi, "DeepSeek", "deepseek-key-bbbb2222", "deepseek-chat")
    glm = mapi.call("POST", "/api/v1/chats", json={"name": "glm", "llm_id": "glm-4-flash@CI@ZHIPU-AI"})["data"]
    seek = mapi.call("POST", "/api/v1/chats", json={"name": "seek", "llm_id": "deepseek-chat@DeepSeek"})["data"]
    zhipu.requests.clear()
    deepseek.requests.clear()

    assert ask(mapi, glm["id"])["data"]["answer"] == "Answer from GLM."
    assert ask(mapi, seek["id"])["data"]["answer"] == "Answer from DeepSeek."
    assert keys_seen(zhipu) == ["Bearer zhipu-key-aaaa1111"]
    assert keys_seen(deepseek) == ["Bearer deepseek-key-bbbb2222"]
    assert zhipu.chat_requests()[0]["body"]["model"] == "glm-4-flash"
    assert deepseek.chat_requests()[0]["body"]["model"] == "deepseek-chat"


def test_a_model_not_configured_is_refused_and_a_deleted_instance_is_the_answers_error(mapi: Api) -> None:
    res = mapi.call("POST", "/api/v1/chats", json={"name": "x", "llm_id": "glm-4-flash@CI@ZHIPU-AI"})
    assert (res["code"], res["message"]) == (102, "`llm_id` glm-4-flash@CI@ZHIPU-AI doesn't exist")
    add(mapi, "ZHIPU-AI", "zhipu-key-aaaa1111", "glm-4-flash")
    chat = mapi.call("POST", "/api/v1/chats", json={"name": "glm", "llm_id": "glm-4-flash@CI@ZHIPU-AI"})["data"]
    assert mapi.call("DELETE", "/api/v1/providers/ZHIPU-AI/instances", json={"instances": ["CI"]}) == {"code": 0}
    res = ask(mapi, chat["id"])
    assert res["code"] == 500 and res["message"] == "Instance CI not found for model glm-4-flash@CI@ZHIPU-AI."


def test_chats_without_a_configured_model_still_answer_extractively(mapi: Api) -> None:
    chat = mapi.call("POST", "/api/v1/chats", json={"name": "plain"})["data"]
    assert chat["llm_id"] == "extractive@Builtin"
    assert ask(mapi, chat["id"])["code"] == 0


def test_the_default_chat_model_names_new_chats(mapi: Api) -> None:
    add(mapi, "ZHIPU-AI", "zhipu-key-aaaa1111", "glm-4-flash")
    assert mapi.call("PATCH", "/api/v1/models/default", json={
        "model_provider": "ZHIPU-AI", "model_instance": "CI", "model_type": "chat", "model_name": "glm-4-flash"}) == {"code": 0}
    chat = mapi.call("POST", "/api/v1/chats", json={"name": "defaulted"})["data"]
    assert chat["llm_id"] == "glm-4-flash@CI@ZHIPU-AI"
    assert ask(mapi, chat["id"])["data"]["answer"] == "Answer from GLM."


def test_a_second_tenant_never_uses_the_first_tenants_keys(mapi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    add(mapi, "ZHIPU-AI", "zhipu-key-aaaa1111", "glm-4-flash")
    other = mapi.new_tenant_key()
    res = mapi.call("POST", "/api/v1/chats", other, json={"name": "steal", "llm_id": "glm-4-flash@CI@ZHIPU-AI"})
    assert res["code"] == 102 and res["message"] == "`llm_id` glm-4-flash@CI@ZHIPU-AI doesn't exist"
    add(mapi, "ZHIPU-AI", "other-key-cccc3333", "glm-4-flash", tenant_key=other)
    chat = mapi.call("POST", "/api/v1/chats", other, json={"name": "own", "llm_id": "glm-4-flash@CI@ZHIPU-AI"})["data"]
    fakes[0].requests.clear()
    assert ask(mapi, chat["id"], other)["code"] == 0
    assert keys_seen(fakes[0]) == ["Bearer other-key-cccc3333"]


def test_a_dataset_naming_a_provider_embedding_model_embeds_through_it(mapi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    from tests.api.docs_helpers import ingest, retrieve

    zhipu = fakes[0]
    def refusal(model: str) -> dict:  # type: ignore[type-arg]
        return mapi.call("POST", "/api/v1/datasets", json={"name": "kb", "embedding_model": model})

    # RAGFlow's reasons, in the order it looks: the provider, its instance, the model
    assert refusal("embedding-3@CI@ZHIPU-AI") == {
        "code": 102, "message": "Provider ZHIPU-AI not found for model embedding-3@CI@ZHIPU-AI.", "data": None}
    assert mapi.call("PUT", "/api/v1/providers", json={"provider_name": "ZHIPU-AI"}) == {"code": 0}
    assert refusal("embedding-3@CI@ZHIPU-AI")["message"] == "Instance CI not found for model embedding-3@CI@ZHIPU-AI."
    assert mapi.call("POST", "/api/v1/providers/ZHIPU-AI/instances", json={
        "instance_name": "CI", "api_key": "zhipu-embed-key-7777", "base_url": "",
        "model_info": [{"model_name": "embedding-3", "model_type": ["embedding"]}]}) == {"code": 0}
    assert refusal("unknown@CI@ZHIPU-AI")["message"] == "Model unknown@CI@ZHIPU-AI not found for model embedding"
    assert mapi.call("GET", "/api/v1/datasets")["data"] == []  # nothing was created by the refusals
    res = mapi.call("POST", "/api/v1/datasets", json={"name": "kb", "embedding_model": "embedding-3@CI@ZHIPU-AI"})
    assert res["code"] == 0, res
    zhipu.requests.clear()
    [doc] = ingest(mapi, res["data"]["id"], {"nile.txt": b"The Nile river flows north through Egypt.\n"})
    assert doc["run"] == "DONE", doc
    embeds = [r for r in zhipu.requests if r["path"].endswith("/embeddings")]
    assert embeds and all(r["body"]["model"] == "embedding-3" for r in embeds)
    assert {next(v for k, v in r["headers"].items() if k.lower() == "authorization") for r in embeds} == {
        "Bearer zhipu-embed-key-7777"}
    found = retrieve(mapi, question="Which river flows through Egypt?", dataset_ids=[res["data"]["id"]], similarity_threshold=0)
    assert [c["content"] for c in found["chunks"]] == ["The Nile river flows north through Egypt."]


def test_an_agent_llm_component_calls_the_model_it_names(mapi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    from tests.agents.helpers import ask as ask_agent
    from tests.agents.helpers import create_agent, dsl, node

    add(mapi, "DeepSeek", "deepseek-key-bbbb2222", "deepseek-chat")
    flow = dsl({"begin": node("Begin", to=["llm"]),
                "llm": node("LLM", {"llm_id": "deepseek-chat@CI@DeepSeek", "prompts": [{"role": "user", "content": "{sys.query}"}]},
                            to=["m"]),
                "m": node("Message", {"content": ["{llm@content}"]})})
    agent_id = create_agent(mapi, "Seeker", flow)
    fakes[1].requests.clear()
    assert ask_agent(mapi, agent_id, "hi")["data"]["content"] == "Answer from DeepSeek."
    assert keys_seen(fakes[1]) == ["Bearer deepseek-key-bbbb2222"]
    assert fakes[0].chat_requests() == []


def test_talking_to_an_instance_model_directly(mapi: Api) -> None:
    add(mapi, "ZHIPU-AI", "zhipu-key-aaaa1111", "glm-4-flash")
    base = "/api/v1/providers/ZHIPU-AI/instances/CI/models"
    assert mapi.call("POST", base + "/glm-4-flash", json={"message": "hi"}) == {
        "code": 0, "data": {"answer": "Answer from GLM.", "reasoning_content": ""}}
    assert mapi.call("POST", base + "/glm-4-flash", json={}) == {"code": 101, "message": "message is required"}
    assert mapi.call("POST", base + "/nope", json={"message": "hi"}) == {
        "code": 102, "message": "Model 'nope@CI@ZHIPU-AI' not authorized"}
    streamed = mapi.client.post(base + "/glm-4-flash", headers=mapi.headers(), json={"message": "hi", "stream": True}).text
    assert streamed.startswith("data: [MESSAGE]Answer ") and streamed.endswith("data: [DONE]\n\n")


# ---- search apps, RAPTOR and memories use the model they name --------------------------------------------------

def add_both(api: Api) -> None:
    add(api, "ZHIPU-AI", "zhipu-key-aaaa1111", "glm-4-flash")
    add(api, "DeepSeek", "deepseek-key-bbbb2222", "deepseek-chat")
    assert api.call("PATCH", "/api/v1/models/default", json={
        "model_provider": "DeepSeek", "model_instance": "CI", "model_type": "chat", "model_name": "deepseek-chat"}) == {"code": 0}


def clear(fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    for fake in fakes:
        fake.requests.clear()


def test_a_search_app_answers_and_suggests_with_its_chat_id(mapi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    from tests.api.docs_helpers import ingest, make_dataset

    zhipu, deepseek = fakes
    add_both(mapi)
    ds = make_dataset(mapi, "nile")
    ingest(mapi, ds, {"nile.txt": b"The Nile river flows north through Egypt.\n"})
    app = mapi.call("POST", "/api/v1/searches", json={"name": "glm search"})["data"]["search_id"]
    res = mapi.call("PUT", f"/api/v1/searches/{app}", json={
        "name": "glm search", "search_config": {"kb_ids": [ds], "chat_id": "glm-4-flash@CI@ZHIPU-AI"}})
    assert res["code"] == 0 and res["data"]["search_config"]["chat_id"] == "glm-4-flash@CI@ZHIPU-AI"
    clear(fakes)

    stream = mapi.client.post(f"/api/v1/searches/{app}/completions", headers=mapi.headers(),
                              json={"question": "Where does the Nile flow?"}).text
    assert "GLM." in stream and "DeepSeek" not in stream
    zhipu.reply = "1. Nile delta\n2. Egypt rivers"
    from tests.api.test_bots_api import beta_of

    beta = {"Authorization": f"Bearer {beta_of(mapi)}"}  # the embeddable search bot answers its beta token only
    related = mapi.client.post("/api/v1/searchbots/related_questions", headers=beta,
                               json={"question": "Nile", "search_id": app}).json()
    assert related["code"] == 0 and related["data"], related
    assert keys_seen(zhipu) == ["Bearer zhipu-key-aaaa1111"] * 2 and deepseek.chat_requests() == []

    # without a search app (or a chat_id), the tenant's default chat model suggests
    clear(fakes)
    assert mapi.call("POST", "/api/v1/sessions/related_questions", json={"question": "Nile"})["code"] == 0
    assert keys_seen(deepseek) == ["Bearer deepseek-key-bbbb2222"] and zhipu.chat_requests() == []


def test_a_model_the_tenant_cannot_use_is_refused_when_saved(mapi: Api) -> None:
    add(mapi, "ZHIPU-AI", "zhipu-key-aaaa1111", "glm-4-flash")
    missing = "deepseek-chat@CI@DeepSeek"
    app = mapi.call("POST", "/api/v1/searches", json={"name": "s"})["data"]["search_id"]
    res = mapi.call("PUT", f"/api/v1/searches/{app}", json={"name": "s", "search_config": {"chat_id": missing}})
    assert res == {"code": 102, "message": f"`chat_id` {missing} doesn't exist", "data": None}
    assert mapi.call("GET", f"/api/v1/searches/{app}")["data"]["search_config"]["chat_id"] == ""
    res = mapi.call("POST", "/api/v1/searches", json={"name": "t", "search_config": {"chat_id": missing}})
    assert res["code"] == 102 and mapi.call("GET", "/api/v1/searches")["data"]["total"] == 1

    res = mapi.call("POST", "/api/v1/datasets", json={"name": "kb", "parser_config": {"raptor": {"use_raptor": True, "llm_id": missing}}})
    assert res == {"code": 102, "message": f"`llm_id` {missing} doesn't exist", "data": None}
    assert mapi.call("GET", "/api/v1/datasets")["data"] == []
    ds = mapi.call("POST", "/api/v1/datasets", json={"name": "kb"})["data"]["id"]
    res = mapi.call("PUT", f"/api/v1/datasets/{ds}", json={"parser_config": {"raptor": {"llm_id": missing}}})
    assert res["code"] == 102 and res["message"] == f"`llm_id` {missing} doesn't exist"

    memory = {"name": "m", "memory_type": ["raw"], "embd_id": "all-MiniLM-L6-v2@Builtin"}
    res = mapi.call("POST", "/api/v1/memories", json={**memory, "llm_id": missing})
    assert res["code"] == 101 and res["message"] == f"`llm_id` {missing} doesn't exist"
    made = mapi.call("POST", "/api/v1/memories", json={**memory, "llm_id": "glm-4-flash@CI@ZHIPU-AI"})
    assert made["code"] == 0, made
    res = mapi.call("PUT", f"/api/v1/memories/{made['data']['id']}", json={"llm_id": missing})
    assert res["code"] == 101 and res["message"] == f"`llm_id` {missing} doesn't exist"


def test_raptor_summarises_with_the_model_its_parser_config_names(mapi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    from tests.api.docs_helpers import ingest, make_dataset
    from tests.api.test_dataset_indexes_api import CORPUS, SMALL_CHUNKS, wait_task

    zhipu, deepseek = fakes
    add_both(mapi)
    ds = make_dataset(mapi, "earth", parser_config={**SMALL_CHUNKS, "raptor": {"use_raptor": False, "llm_id": "glm-4-flash@CI@ZHIPU-AI"}})
    ingest(mapi, ds, CORPUS)
    clear(fakes)
    mapi.call("POST", f"/api/v1/datasets/{ds}/run_raptor")
    assert wait_task(mapi, ds, "raptor")["progress"] == 1
    assert zhipu.chat_requests() and set(keys_seen(zhipu)) == {"Bearer zhipu-key-aaaa1111"}
    assert deepseek.chat_requests() == []

    # no llm_id: the tenant's default chat model
    plain = make_dataset(mapi, "earth2", parser_config=SMALL_CHUNKS)
    ingest(mapi, plain, CORPUS)
    clear(fakes)
    mapi.call("POST", f"/api/v1/datasets/{plain}/run_raptor")
    assert wait_task(mapi, plain, "raptor")["progress"] == 1
    assert deepseek.chat_requests() and set(keys_seen(deepseek)) == {"Bearer deepseek-key-bbbb2222"}
    assert zhipu.chat_requests() == []


def test_a_memory_extracts_with_its_llm_id(mapi: Api, fakes: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    zhipu, deepseek = fakes
    add_both(mapi)
    zhipu.reply = "The user likes green."
    memory = mapi.call("POST", "/api/v1/memories", json={
        "name": "m", "memory_type": ["raw", "semantic"], "embd_id": "all-MiniLM-L6-v2@Builtin",
        "llm_id": "glm-4-flash@CI@ZHIPU-AI"})["data"]
    clear(fakes)
    res = mapi.call("POST", "/api/v1/messages", json={"memory_id": [memory["id"]], "agent_id": "a", "session_id": "s",
                                                      "user_input": "My favourite colour is green.", "agent_response": "Noted."})
    assert res["code"] == 0
    assert keys_seen(zhipu) == ["Bearer zhipu-key-aaaa1111"] and deepseek.chat_requests() == []
    listing = mapi.call("GET", f"/api/v1/memories/{memory['id']}")["data"]["messages"]["message_list"]
    assert [e["message_type"] for m in listing for e in m["extract"]] == ["semantic"]  # the model's one line


def test_the_deployments_own_models_are_listed(api: Api, monkeypatch: pytest.MonkeyPatch,
                                               openai_fake: FakeOpenAI) -> None:
    """Without LLM_BASE_URL a chat answers extractively: /models says so (a client can tell its users), beside the
    bundled embedder; with a language model configured, the extractive answerer is not offered."""
    listed = {(m["name"], m["model_provider"], tuple(m["model_type"])) for m in api.call("GET", "/api/v1/models")["data"]}
    assert listed == {("all-MiniLM-L6-v2", "Builtin", ("embedding",)), ("extractive", "Builtin", ("chat",))}
    assert [m["name"] for m in api.call("GET", "/api/v1/models?type=chat")["data"]] == ["extractive"]
    assert api.call("POST", "/api/v1/chats", json={"name": "q", "llm_id": "extractive@Builtin"})["code"] == 0
    for llm in app_with({"LLM_BASE_URL": openai_fake.url, "LLM_MODEL": "m1"}, monkeypatch):
        assert llm.call("GET", "/api/v1/models?type=chat")["data"] == []
