"""/api/v1/mcp as an MCP host sees it: the official SDK's client initializes, lists the tools (RAGFlow's three with
RAGFlow's schemas, and ours), calls every tool, and gets MCP errors (never a 500) for bad input; one tenant never
sees another's data."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.mcp.conftest import Knowledge, Served, call_tool, session_call, text_of

RAGFLOW_TOOLS = {"ragflow_retrieval", "ragflow_list_datasets", "ragflow_list_chats"}
RETRIEVAL_PROPERTIES = {"dataset_ids", "document_ids", "question", "page", "page_size", "similarity_threshold",
                        "vector_similarity_weight", "keyword", "top_k", "rerank_id", "force_refresh"}
ADDED_CHUNK_FIELDS = {"dataset_name", "document_metadata"}


def leaves(exc: BaseException) -> list[BaseException]:
    """The errors inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_initialize_and_list_tools(served: Served, knowledge: Knowledge) -> None:
    async def use(session: Any) -> Any:
        return await session.list_tools()

    tools = {t.name: t for t in session_call(served, use).tools}
    assert RAGFLOW_TOOLS | {"ragflow_chat", "ragflow_list_documents", "ragflow_list_chunks"} == set(tools)
    retrieval = tools["ragflow_retrieval"]
    assert RETRIEVAL_PROPERTIES | {"metadata_condition"} == set(retrieval.input_schema["properties"])
    assert retrieval.input_schema["required"] == ["question"]
    assert retrieval.input_schema["properties"]["page_size"]["default"] == 10
    described = lines(retrieval.description.split("IDs:", 1)[1])
    assert {d["id"] for d in described} == {knowledge.handbook, knowledge.rovers}
    assert {"description": "The staff handbook", "id": knowledge.handbook, "name": "handbook"} in described
    assert knowledge.chat in tools["ragflow_list_chats"].description


def test_retrieval_equals_the_retrieval_api(served: Served, knowledge: Knowledge) -> None:
    params = {"question": "How many days of annual leave?", "dataset_ids": [knowledge.handbook], "page_size": 5,
              "similarity_threshold": 0.1, "vector_similarity_weight": 0.4}
    reply = json.loads(text_of(call_tool(served, "ragflow_retrieval", params)))
    api = served.api.call("POST", "/api/v1/retrieval", json=params)
    assert api["code"] == 0 and api["data"]["chunks"], api
    # every /retrieval field as the API gives it (document_name included), plus the dataset's name and the metadata
    assert [{k: v for k, v in c.items() if k not in ADDED_CHUNK_FIELDS} for c in reply["chunks"]] == api["data"]["chunks"]
    first = reply["chunks"][0]
    assert first["dataset_name"] == "handbook" and first["document_name"] == "handbook.txt"
    meta = first["document_metadata"]
    assert meta["document_id"] == knowledge.handbook_doc["id"] and meta["name"] == "handbook.txt"
    assert meta["meta_fields"] == {"team": "hr"} and meta["dataset_id"] == knowledge.handbook
    assert reply["pagination"] == {"page": 1, "page_size": 5, "total_chunks": api["data"]["total"],
                                   "total_pages": (api["data"]["total"] + 4) // 5}
    assert reply["query_info"] == {"question": params["question"], "similarity_threshold": 0.1, "vector_weight": 0.4,
                                   "keyword_search": False, "dataset_count": 1}


def test_retrieval_without_dataset_ids_searches_every_dataset(served: Served, knowledge: Knowledge) -> None:
    reply = json.loads(text_of(call_tool(served, "ragflow_retrieval", {"question": "Curiosity rover Gale crater",
                                                                         "similarity_threshold": 0.0})))
    assert reply["query_info"]["dataset_count"] == 2
    assert {c["dataset_name"] for c in reply["chunks"]} == {"handbook", "rovers"}
    assert reply["chunks"][0]["dataset_id"] == knowledge.rovers


def test_retrieval_with_a_metadata_condition(served: Served, knowledge: Knowledge) -> None:
    condition = {"logic": "and", "conditions": [{"name": "team", "comparison_operator": "is", "value": "hr"}]}
    reply = json.loads(text_of(call_tool(served, "ragflow_retrieval", {
        "question": "Curiosity rover Gale crater", "similarity_threshold": 0.0, "metadata_condition": condition})))
    assert reply["chunks"] and {c["document_id"] for c in reply["chunks"]} == {knowledge.handbook_doc["id"]}


def test_list_datasets_and_chats(served: Served, knowledge: Knowledge) -> None:
    datasets = lines(text_of(call_tool(served, "ragflow_list_datasets", {})))
    assert [d["id"] for d in datasets] == [knowledge.rovers, knowledge.handbook]  # newest first, as /datasets
    assert lines(text_of(call_tool(served, "ragflow_list_datasets", {"page": 2, "page_size": 1}))) == [datasets[1]]
    chats = lines(text_of(call_tool(served, "ragflow_list_chats", {})))
    assert chats == [{"id": knowledge.chat, "name": "handbook assistant", "description": "Answers staff questions"}]


def test_ask_a_chat_assistant_and_follow_up(served: Served, knowledge: Knowledge) -> None:
    first = json.loads(text_of(call_tool(served, "ragflow_chat", {"chat_id": knowledge.chat,
                                                                   "question": "How many days of annual leave do staff get?"})))
    assert "twenty days" in first["answer"]
    assert first["reference"]["chunks"][0]["document_id"] == knowledge.handbook_doc["id"]
    follow = json.loads(text_of(call_tool(served, "ragflow_chat", {"chat_id": knowledge.chat, "session_id": first["session_id"],
                                                                    "question": "When are receipts filed?"})))
    assert follow["session_id"] == first["session_id"]
    session = served.api.call("GET", f"/api/v1/chats/{knowledge.chat}/sessions", params={"id": first["session_id"]})
    assert [m["role"] for m in session["data"][0]["messages"]][-4:] == ["user", "assistant", "user", "assistant"]


def test_list_documents_and_read_a_document(served: Served, knowledge: Knowledge) -> None:
    docs = json.loads(text_of(call_tool(served, "ragflow_list_documents", {"dataset_id": knowledge.handbook})))
    [doc] = docs["documents"]
    assert doc["id"] == knowledge.handbook_doc["id"] and doc["run"] == "DONE" and doc["chunk_count"] >= 1
    assert docs["pagination"]["total"] == 1
    assert json.loads(text_of(call_tool(served, "ragflow_list_documents", {"dataset_id": knowledge.handbook,
                                                                            "run": "FAIL"})))["documents"] == []
    read = json.loads(text_of(call_tool(served, "ragflow_list_chunks", {"dataset_id": knowledge.handbook,
                                                                         "document_id": doc["id"]})))
    assert read["document"]["name"] == "handbook.txt" and read["document"]["run"] == "DONE"
    assert "twenty days" in " ".join(c["content"] for c in read["chunks"])
    assert read["pagination"]["total"] == len(read["chunks"]) == doc["chunk_count"]


def test_unknown_tool_is_an_invalid_params_error(served: Served, knowledge: Knowledge) -> None:
    from mcp.shared.exceptions import MCPError

    with pytest.raises(MCPError) as caught:
        call_tool(served, "ragflow_delete_everything", {})
    assert caught.value.code == -32602 and "Unknown tool" in caught.value.message


@pytest.mark.parametrize(("name", "arguments", "message"), [
    ("ragflow_retrieval", {"question": "leave", "page": "two"}, "page: 'two' is not of type 'integer'"),
    ("ragflow_retrieval", {"question": 7}, "question: 7 is not of type 'string'"),
    ("ragflow_retrieval", {}, "'question' is a required property"),
    ("ragflow_retrieval", {"question": "x", "dataset_ids": "abc"}, "dataset_ids: 'abc' is not of type 'array'"),
    ("ragflow_list_datasets", {"page_size": 0}, "page_size: 0 is less than the minimum of 1"),
    ("ragflow_chat", {"question": "hi"}, "'chat_id' is a required property"),
    ("ragflow_list_documents", {"dataset_id": "x", "run": "DONEISH"}, "run: 'DONEISH' is not one of"),
])
def test_wrong_arguments_are_tool_errors(served: Served, name: str, arguments: dict[str, Any], message: str) -> None:
    result = call_tool(served, name, arguments)
    assert result.is_error and message in text_of(result)


def test_another_tenants_ids_answer_like_unknown_ones(served: Served, knowledge: Knowledge) -> None:
    other = served.other.key
    foreign = call_tool(served, "ragflow_retrieval", {"question": "leave", "dataset_ids": [knowledge.handbook]}, key=other)
    unknown = call_tool(served, "ragflow_retrieval", {"question": "leave", "dataset_ids": ["0" * 32]}, key=other)
    assert foreign.is_error and text_of(foreign) == f"You don't own the dataset {knowledge.handbook}."
    assert unknown.is_error and text_of(unknown) == f"You don't own the dataset {'0' * 32}."
    for name, args in (("ragflow_chat", {"chat_id": knowledge.chat, "question": "leave?"}),
                       ("ragflow_list_documents", {"dataset_id": knowledge.handbook}),
                       ("ragflow_list_chunks", {"dataset_id": knowledge.handbook, "document_id": knowledge.handbook_doc["id"]})):
        result = call_tool(served, name, args, key=other)
        assert result.is_error, (name, result)
    nothing = call_tool(served, "ragflow_retrieval", {"question": "leave"}, key=other)
    assert nothing.is_error and text_of(nothing) == "No accessible datasets found."

    async def use(session: Any) -> Any:
        return await session.list_tools()

    listed = {t.name: t.description for t in session_call(served, use, key=other).tools}
    assert knowledge.handbook not in listed["ragflow_retrieval"] and knowledge.chat not in listed["ragflow_list_chats"]
    assert text_of(call_tool(served, "ragflow_list_datasets", {}, key=other)) == ""


@pytest.mark.parametrize("header", ["X-API-Key", "api_key"])
def test_the_key_in_ragflows_other_headers(served: Served, knowledge: Knowledge, header: str) -> None:
    async def use(session: Any) -> Any:
        return await session.call_tool("ragflow_list_datasets", {})

    assert knowledge.handbook in text_of(session_call(served, use, headers={header: served.api.key}))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-key"}, {"X-API-Key": "nope"}])
def test_no_key_is_a_json_rpc_error_with_401(served: Served, headers: dict[str, str]) -> None:
    from mcp.shared.exceptions import MCPError

    with pytest.raises(BaseException) as caught:
        session_call(served, lambda session: session.list_tools(), headers=headers)
    errors = leaves(caught.value)
    assert any(isinstance(e, MCPError) and "Unauthorized" in e.message for e in errors), errors
    raw = httpx.post(served.mcp_url, headers={**headers, "Accept": "application/json, text/event-stream"},
                     json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert raw.status_code == 401 and raw.json()["error"]["code"] == -32001 and raw.json()["id"] is None


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": 5}',
                                  b'{"jsonrpc": "2.0", "id": 1, "method": "no/such/method"}'])
def test_malformed_requests_are_json_rpc_errors_not_500(served: Served, body: bytes) -> None:
    raw = httpx.post(served.mcp_url, content=body, headers={
        "Authorization": f"Bearer {served.api.key}", "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"})
    assert raw.status_code < 500, raw.text
    assert "error" in raw.json(), raw.text


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_are_405_not_an_open_stream(served: Served, method: str) -> None:
    """Stateless: no stream to GET (on a Lambda it would hang until the timeout) and no session to DELETE."""
    raw = httpx.request(method, served.mcp_url, timeout=10, headers={
        "Authorization": f"Bearer {served.api.key}", "Accept": "application/json, text/event-stream"})
    assert raw.status_code == 405 and raw.headers["allow"] == "POST" and raw.json()["error"]["code"] == -32600


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_a_body_that_is_not_json_is_a_json_rpc_error(served: Served, content_type: str | None) -> None:
    """The SDK's own reply would be a bare text/plain 400; a host shows a JSON-RPC error."""
    headers = {"Authorization": f"Bearer {served.api.key}", "Accept": "application/json, text/event-stream"}
    raw = httpx.post(served.mcp_url, content=b"zz", headers={**headers, **({"Content-Type": content_type} if content_type else {})})
    assert raw.status_code == 415 and raw.headers["content-type"] == "application/json"
    assert raw.json()["error"] == {"code": -32600, "message": "Unsupported Media Type: send JSON-RPC messages as application/json"}
