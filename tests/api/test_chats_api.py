"""Chat assistants, sessions and native completions over HTTP (extractive answerer: no LLM configured)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api


def kb(api: Api) -> str:
    ds = make_dataset(api, "chat-kb")
    ingest(api, ds, {"facts.txt": b"The Eiffel Tower is in Paris.\n\nMount Fuji is the highest mountain in Japan.\n"})
    return ds


def sse_frames(text: str) -> list[Any]:
    return [json.loads(line[len("data:"):]) for line in text.splitlines() if line.startswith("data:")]


def test_chat_crud_defaults_and_validation(api: Api) -> None:
    unparsed = make_dataset(api, "unparsed")
    res = api.call("POST", "/api/v1/chats", json={"name": "assistant", "dataset_ids": [unparsed]})
    assert res == {"code": 102, "message": f"The dataset {unparsed} doesn't own parsed file", "data": None}
    ds = kb(api)
    res = api.call("POST", "/api/v1/chats", json={"name": "assistant", "dataset_ids": [ds]})
    assert res["code"] == 0, res
    chat = res["data"]
    assert chat["dataset_ids"] == [ds] and chat["kb_names"] == ["chat-kb"]
    assert chat["similarity_threshold"] == 0.1 and chat["vector_similarity_weight"] == 0.3 and chat["top_n"] == 6
    assert chat["llm_setting"]["temperature"] == 0.1 and "{knowledge}" in chat["prompt_config"]["system"]
    assert chat["prompt_config"]["prologue"] and chat["prompt_config"]["quote"] is True
    assert chat["prompt_config"]["empty_response"] == "Sorry! No relevant content was found in the knowledge base!"
    assert api.call("POST", "/api/v1/chats", json={"name": "assistant"})["message"] == "duplicated chat name in creating chat"
    assert api.call("POST", "/api/v1/chats", json={"name": ""})["message"] == "`name` is required"
    assert api.call("POST", "/api/v1/chats", json={"name": 5})["message"] == "chat name must be a string"
    assert api.call("POST", "/api/v1/chats", json={"name": "é" * 128})["message"] == "chat name length is 256 which is larger than 255"
    assert api.call("POST", "/api/v1/chats", json={"name": "t", "tenant_id": "x"})["message"] == "`tenant_id` must not be provided"
    missing = uuid.uuid4().hex
    assert api.call("POST", "/api/v1/chats", json={"name": "x", "dataset_ids": [missing]})["message"] == f"You don't own the dataset {missing}"
    assert api.call("POST", "/api/v1/chats", json={"name": "x", "llm_id": "unknown"})["message"] == "`llm_id` unknown doesn't exist"
    twice = {"system": "s", "parameters": [{"key": "a", "optional": True}, {"key": "a", "optional": True}]}
    assert api.call("POST", "/api/v1/chats", json={"name": "x", "prompt_config": twice})["message"] == "`parameters` contains duplicate key: a"
    assert api.call("GET", "/api/v1/chats")["data"]["total"] == 1  # none of the refused ones was stored
    unused = api.call("POST", "/api/v1/chats", json={"name": "plain", "prompt_config": {"system": "no variable",
                                                                                       "parameters": [{"key": "knowledge", "optional": False}]}})
    assert unused["code"] == 0  # RAGFlow no longer refuses a parameter the prompt does not use
    empty_params = api.call("POST", "/api/v1/chats", json={"name": "p", "dataset_ids": [ds], "top_n": 0, "prompt_config": {"parameters": []}})
    assert empty_params["data"]["prompt_config"]["parameters"] == [{"key": "knowledge", "optional": False}]
    assert empty_params["data"]["top_n"] == 0
    upd = api.call("PUT", f"/api/v1/chats/{chat['id']}", json={"name": "renamed", "llm_setting": {"temperature": 0.5}})
    assert upd["code"] == 0 and upd["data"]["name"] == "renamed" and upd["data"]["llm_setting"]["temperature"] == 0.5
    assert api.call("PATCH", f"/api/v1/chats/{chat['id']}", json={"top_n": 3})["data"]["top_n"] == 3
    assert api.call("PATCH", f"/api/v1/chats/{chat['id']}", json={"name": ""})["message"] == "`name` cannot be empty"
    assert api.call("PUT", f"/api/v1/chats/{chat['id']}", json={"name": ""})["message"] == "`name` is required"
    assert api.call("PATCH", f"/api/v1/chats/{chat['id']}", json={"dataset_ids": [unparsed]})["code"] == 102
    listed = api.call("GET", "/api/v1/chats", params={"keywords": "REN"})["data"]
    assert listed["total"] == 1 and listed["chats"][0]["id"] == chat["id"]
    exact = api.call("GET", "/api/v1/chats", params={"name": "renamed", "keywords": "nothing-like-it"})["data"]
    assert [c["id"] for c in exact["chats"]] == [chat["id"]]  # an exact name ignores keywords
    assert api.call("GET", "/api/v1/chats", params={"id": missing})["data"] == {"chats": [], "total": 0}
    assert len(api.call("GET", "/api/v1/chats", params={"page": 0, "page_size": 2})["data"]["chats"]) == 2  # page 0 is page 1
    assert api.call("GET", "/api/v1/chats", params={"page_size": 101}) == {
        "code": 100, "message": "ValueError('page_size must be less than or equal to 100')", "data": None}
    assert len(api.call("GET", "/api/v1/chats", params={"page": 2, "page_size": 2})["data"]["chats"]) == 1
    assert len(api.call("GET", "/api/v1/chats", params={"page": 1, "page_size": 0})["data"]["chats"]) == 3  # 0 is the default size
    assert api.call("GET", f"/api/v1/chats/{chat['id']}")["data"]["top_n"] == 3
    other = api.new_tenant_key()
    assert api.call("GET", f"/api/v1/chats/{chat['id']}", key=other) == {"code": 109, "message": "no authorization", "data": None}
    assert api.call("GET", f"/api/v1/chats/{uuid.uuid4().hex}") == {"code": 109, "message": "no authorization", "data": None}
    assert api.call("DELETE", "/api/v1/chats", key=other, json={"ids": [chat["id"]]})["code"] == 102
    both = api.call("DELETE", "/api/v1/chats", json={"ids": ["missing-1", "missing-2"]})
    assert both == {"code": 102, "message": "Chat(missing-1) not found.; Chat(missing-2) not found.", "data": None}
    dup = api.call("DELETE", "/api/v1/chats", json={"ids": [chat["id"], chat["id"]]})
    assert dup == {"code": 0, "message": "Partially deleted 1 chats with 1 errors",
                   "data": {"success_count": 1, "errors": [f"Duplicate chat ids: {chat['id']}"]}}
    assert api.call("DELETE", "/api/v1/chats", json={}) == {"code": 0, "message": "success", "data": {}}
    assert api.call("DELETE", "/api/v1/chats", json={"delete_all": True}) == {"code": 0, "message": "success", "data": {"success_count": 2}}
    assert api.call("GET", "/api/v1/chats")["data"]["total"] == 0


def test_sessions_and_history(api: Api) -> None:
    ds = kb(api)
    chat = api.call("POST", "/api/v1/chats", json={"name": "guide", "dataset_ids": [ds]})["data"]
    base = f"/api/v1/chats/{chat['id']}/sessions"
    session = api.call("POST", base, json={"name": "trip"})["data"]
    assert session["messages"][0]["role"] == "assistant" and session["chat_id"] == chat["id"]
    assert api.call("POST", base, json={"name": ""})["message"] == "`name` can not be empty"
    res = api.call("POST", f"/api/v1/chats/{chat['id']}/completions",
                   json={"question": "Where is the Eiffel Tower?", "session_id": session["id"], "stream": False})
    assert res["code"] == 0, res
    answer = res["data"]
    assert "Paris" in answer["answer"] and "[ID:0]" in answer["answer"]
    assert answer["reference"]["chunks"][0]["document_name"] == "facts.txt"
    assert answer["answer"].startswith("Extractive answer")
    got = api.call("GET", f"{base}/{session['id']}")["data"]
    assert [m["role"] for m in got["messages"]] == ["assistant", "user", "assistant"]
    msg_id = got["messages"][-1]["id"]
    fb = api.call("PUT", f"{base}/{session['id']}/messages/{msg_id}/feedback", json={"thumbup": True})
    assert fb["code"] == 0 and fb["data"]["messages"][-1]["thumbup"] is True
    assert api.call("PATCH", f"{base}/{session['id']}", json={"name": "renamed"})["data"]["name"] == "renamed"
    assert api.call("PUT", f"{base}/{session['id']}", json={"name": "again"})["data"]["name"] == "again"  # deprecated PUT
    # RAGFlow's update_session: history is not rewritable; its owner and chat fields are ignored
    for field in ("messages", "message"):
        assert api.call("PATCH", f"{base}/{session['id']}", json={field: []}) == {
            "code": 102, "message": "`messages` cannot be changed", "data": None}
    assert api.call("PATCH", f"{base}/{session['id']}", json={"reference": []})["message"] == "`reference` cannot be changed"
    kept = api.call("PATCH", f"{base}/{session['id']}", json={"name": "third", "chat_id": "other", "user_id": "u9"})["data"]
    assert (kept["name"], kept["chat_id"], kept.get("user_id", "")) == ("third", chat["id"], session.get("user_id", ""))
    assert api.call("DELETE", f"{base}/{session['id']}/messages/{msg_id}")["code"] == 0
    assert len(api.call("GET", f"{base}/{session['id']}")["data"]["messages"]) == 1
    assert len(api.call("GET", base)["data"]) == 1
    spare = api.call("POST", base, json={"name": "spare"})["data"]["id"]
    dup = api.call("DELETE", base, json={"ids": [spare, spare]})  # each id once; the repeat is reported
    assert dup == {"code": 0, "message": "Partially deleted 1 sessions with 1 errors",
                   "data": {"success_count": 1, "errors": [f"Duplicate session ids: {spare}"]}}
    assert api.call("DELETE", base, json={"ids": ["bad"]})["message"] == "The chat doesn't own the session bad"
    partial = api.call("DELETE", base, json={"ids": [session["id"], "bad"]})  # deletes what it can, reports the rest
    assert partial == {"code": 0, "message": "Partially deleted 1 sessions with 1 errors",
                       "data": {"success_count": 1, "errors": ["The chat doesn't own the session bad"]}}
    assert api.call("GET", f"{base}/{session['id']}") == {"code": 102, "message": "Session not found!", "data": None}
    assert api.call("DELETE", base, json={}) == {"code": 0, "message": "success", "data": {}}


def test_streaming_native_frames_and_new_session(api: Api) -> None:
    ds = kb(api)
    chat = api.call("POST", "/api/v1/chats", json={"name": "stream", "dataset_ids": [ds]})["data"]
    r = api.client.post(f"/api/v1/chats/{chat['id']}/completions", headers=api.headers(),
                        json={"question": "What is the highest mountain in Japan?", "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    frames = sse_frames(r.text)
    assert frames[-1] == {"code": 0, "message": "", "data": True}
    body = [f["data"] for f in frames[:-1]]
    text = "".join(b["answer"] for b in body)
    assert "Fuji" in text
    assert body[-1]["reference"]["chunks"] and body[-1]["final"] is True
    session_id = body[0]["session_id"]
    assert session_id  # a session was opened for this question
    sessions = api.call("GET", f"/api/v1/chats/{chat['id']}/sessions")["data"]
    assert [s["id"] for s in sessions] == [session_id] and len(sessions[0]["messages"]) == 3
    legacy = sse_frames(api.client.post("/api/v1/chat/completions", headers=api.headers(), json={
        "chat_id": chat["id"], "question": "Where is the Eiffel Tower?", "stream": True, "legacy": True}).text)
    answers = [f["data"]["answer"] for f in legacy[:-1]]
    assert all(answers[i + 1].startswith(answers[i]) for i in range(len(answers) - 2))  # cumulative


def test_empty_response_when_nothing_found(api: Api) -> None:
    ds = kb(api)
    chat = api.call("POST", "/api/v1/chats", json={"name": "strict", "dataset_ids": [ds], "similarity_threshold": 0.99,
                                                    "prompt_config": {"empty_response": "Nothing found, sorry."}})["data"]
    res = api.call("POST", "/api/v1/chat/completions", json={"chat_id": chat["id"], "question": "quantum chromodynamics", "stream": False})
    assert res["data"]["answer"] == "Nothing found, sorry." and res["data"]["reference"]["chunks"] == []


def test_openai_compatible_without_llm(api: Api) -> None:
    ds = kb(api)
    chat = api.call("POST", "/api/v1/chats", json={"name": "oa", "dataset_ids": [ds]})["data"]
    for path in (f"/api/v1/openai/{chat['id']}/chat/completions", f"/api/v1/chats_openai/{chat['id']}/chat/completions"):
        r = api.client.post(path, headers=api.headers(), json={"model": "model", "messages": [{"role": "user", "content": "Where is the Eiffel Tower?"}]})
        body = r.json()
        assert body["object"] == "chat.completion" and "Paris" in body["choices"][0]["message"]["content"]
        assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"] > 0
    bad = api.call("POST", f"/api/v1/openai/{chat['id']}/chat/completions", json={"model": "m", "messages": []})
    assert bad["message"] == "You have to provide messages."
    bad = api.call("POST", f"/api/v1/openai/{chat['id']}/chat/completions", json={"model": "m", "messages": [{"role": "assistant", "content": "x"}]})
    assert bad["message"] == "The last content of this conversation is not from user."


def test_related_questions(api: Api) -> None:
    for path in ("/api/v1/chat/recommandation", "/api/v1/sessions/related_questions"):
        res = api.call("POST", path, json={"question": "How do vector databases index embeddings?"})
        assert res["code"] == 0 and len(res["data"]) == 5 and all(q.endswith("?") for q in res["data"])
    assert api.call("POST", "/api/v1/chat/recommandation", json={})["code"] == 101


def test_openai_request_is_checked_before_the_chat(api: Api) -> None:
    missing = uuid.uuid4().hex
    url = f"/api/v1/openai/{missing}/chat/completions"
    user = [{"role": "user", "content": "hello"}]
    for body, code, message in [
        ({"messages": user}, 101, "required argument are missing: model; "),
        ({"model": "model", "messages": user, "extra_body": "x"}, 102, "extra_body must be an object."),
        ({"model": "model", "messages": user, "extra_body": {"reference_metadata": "x"}}, 102, "reference_metadata must be an object."),
        ({"model": "model", "messages": user, "extra_body": {"reference_metadata": {"fields": "author"}}}, 102,
         "reference_metadata.fields must be an array."),
        ({"model": "model", "messages": []}, 102, "You have to provide messages."),
        ({"model": "model", "messages": [{"role": "assistant", "content": "hi"}]}, 102, "The last content of this conversation is not from user."),
        ({"model": "model", "messages": [{"role": "user", "content": 5}]}, 102, "messages[].content must be a string or an array of content parts."),
        ({"model": "model", "messages": user, "extra_body": {"metadata_condition": "x"}}, 102, "metadata_condition must be an object."),
        ({"model": "model", "messages": user}, 102, f"You don't own the chat {missing}"),
    ]:
        assert api.call("POST", url, json=body) == {"code": code, "message": message, "data": None}, body


def test_openai_reference_metadata_and_filter(api: Api) -> None:
    ds = make_dataset(api, "meta-kb")
    docs = ingest(api, ds, {"paris.txt": b"The Eiffel Tower is in Paris.\n", "fuji.txt": b"Mount Fuji is in Japan, near Tokyo.\n"})
    by_name = {d["name"]: d["id"] for d in docs}
    for name, meta in (("paris.txt", {"author": "ann", "year": 2020}), ("fuji.txt", {"author": "bo", "year": 2021})):
        api.call("PATCH", f"/api/v1/datasets/{ds}/documents/{by_name[name]}", json={"meta_fields": meta})
    chat = api.call("POST", "/api/v1/chats", json={"name": "meta", "dataset_ids": [ds], "similarity_threshold": 0.0})["data"]
    url = f"/api/v1/openai/{chat['id']}/chat/completions"
    question = [{"role": "user", "content": "Where is the Eiffel Tower?"}]
    body = api.client.post(url, headers=api.headers(), json={"model": "model", "messages": question, "extra_body": {
        "reference": True, "reference_metadata": {"include": True, "fields": ["author"]}}}).json()
    assert body["model"] == chat["llm_id"]  # the "model" placeholder names the chat's own model
    chunks = body["choices"][0]["message"]["reference"]["chunks"]
    assert chunks and all(c["document_metadata"] == {"author": "ann" if c["document_id"] == by_name["paris.txt"] else "bo"} for c in chunks)
    only_bo = {"conditions": [{"name": "author", "comparison_operator": "is", "value": "bo"}]}
    body = api.client.post(url, headers=api.headers(), json={"model": "model", "messages": question, "extra_body": {
        "reference": True, "metadata_condition": only_bo}}).json()
    chunks = body["choices"][0]["message"]["reference"]["chunks"]
    assert chunks and {c["document_id"] for c in chunks} == {by_name["fuji.txt"]}
    assert all("document_metadata" not in c for c in chunks)  # only when asked for


def test_session_paging_falls_back_to_defaults(api: Api) -> None:
    chat = api.call("POST", "/api/v1/chats", json={"name": "pages"})["data"]
    base = f"/api/v1/chats/{chat['id']}/sessions"
    for n in range(3):
        api.call("POST", base, json={"name": f"s{n}"})
    assert len(api.call("GET", base, params={"page_size": 0})["data"]) == 3  # 0 is the default size (30)
    assert api.call("GET", base, params={"orderby": "id"}) == {"code": 101, "message": "invalid orderby field: id", "data": None}
    assert api.call("GET", base, params={"page_size": 500})["code"] == 100
    assert len(api.call("GET", base, params={"page": 1, "page_size": 0})["data"]) == 3  # with a page: the default
    assert len(api.call("GET", base, params={"page_size": "x", "page": -1})["data"]) == 3
    assert len(api.call("GET", base, params={"page_size": 2, "page": 2})["data"]) == 1


def test_bulk_deletes_given_a_json_body_that_is_not_an_object(api: Api) -> None:
    """RAGFlow's bulk_delete_chats and delete_sessions call `req.get` on the body: a JSON string or list fails there
    (code 100, the exception's repr), an empty value deletes nothing, and neither changes anything; the chat is
    checked before the body, as delete_sessions does."""
    chat = api.call("POST", "/api/v1/chats", json={"name": "kept"})["data"]["id"]
    before = api.call("GET", "/api/v1/chats")["data"]
    sessions = f"/api/v1/chats/{chat}/sessions"
    api.call("POST", sessions, json={"name": "s"})
    for path in ("/api/v1/chats", sessions):
        assert api.call("DELETE", path, json="not json") == {
            "code": 100, "message": "AttributeError(\"'str' object has no attribute 'get'\")", "data": None}
        assert api.call("DELETE", path, json=["x"])["message"] == "AttributeError(\"'list' object has no attribute 'get'\")"
        assert api.call("DELETE", path, json=[]) == {"code": 0, "data": {}, "message": "success"}
    assert api.call("GET", "/api/v1/chats")["data"] == before and chat in {c["id"] for c in before["chats"]}
    assert len(api.call("GET", sessions)["data"]) == 1
    assert api.call("DELETE", "/api/v1/chats/0123456789abcdef0123456789abcdef/sessions", json="not json")["code"] == 109
