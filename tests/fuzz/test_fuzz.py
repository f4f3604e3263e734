"""Fuzzing: no input makes the API answer 5xx or step outside RAGFlow's envelope.

Two generators, both with a valid key: schemathesis over the published OpenAPI schema (/openapi.json: every
operation, its declared path and query parameters), and a JSON-body fuzzer over the app's route table, because
most bodies are free-form JSON the schema can't describe. Path parameters are filled with ids the tenant owns,
so generated input reaches the services rather than stopping at "not found".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.agents.helpers import ECHO, create_agent, dsl
from tests.api.docs_helpers import make_dataset, upload
from tests.api.test_every_route import api_routes, fill
from tests.conftest import Api

FIELDS = ["name", "ids", "dataset_ids", "document_ids", "chunk_ids", "question", "messages", "page", "page_size", "orderby",
          "desc", "content", "important_keywords", "available", "stream", "session_id", "chat_id", "agent_id", "dsl", "title",
          "parser_config", "chunk_method", "meta_fields", "metadata_condition", "top_k", "similarity_threshold",
          "vector_similarity_weight", "keyword", "highlight", "delete_all", "llm", "prompt", "type", "parent_id",
          "src_file_ids", "dest_file_id", "file_ids", "kb_ids", "memory_id", "memory_type", "embd_id", "llm_id", "inputs",
          "query", "openai-compatible", "status", "user_input", "agent_response", "new_name", "embedding_model"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
BODIES = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), JSON, max_size=6)
RAW = st.binary(max_size=64) | st.sampled_from([b"{", b"[1,2]", b"null", b'"text"', b"{\"name\": ", b"\xff\xfe", b"1e999999"])
SETTINGS = settings(max_examples=6, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


def enveloped(res: Any, where: str) -> None:
    assert res.status_code < 500, (where, res.status_code, res.text[:300])
    kind = res.headers.get("content-type") or res.headers.get("Content-Type") or ""
    kind = kind[0] if isinstance(kind, list) else kind  # schemathesis keeps every value of a header
    if kind.startswith("application/json"):
        body = res.json()
        if isinstance(body, dict) and "jsonrpc" in body:  # the MCP endpoint: a JSON-RPC reply or error, never a trace
            assert "result" in body or isinstance((body.get("error") or {}).get("code"), int), (where, res.text[:300])
        elif isinstance(body, dict) and body.get("object") not in ("chat.completion",):
            assert isinstance(body.get("code"), int), (where, res.text[:300])
            assert not str(body.get("message", "")).startswith("Internal error"), (where, res.text[:300])  # the catch-all
    elif kind.startswith("text/event-stream"):
        for line in res.text.splitlines():
            assert not line.startswith("data:") or line[5:].strip() == "[DONE]" or json.loads(line[5:]) is not None, (where, line)
    else:
        assert res.status_code in (200, 206, 304), (where, res.status_code, kind)  # file downloads and docs pages


@pytest.fixture
def owned(api: Api) -> Iterator[dict[str, str]]:
    ds = make_dataset(api, "fuzz")
    [doc] = upload(api, ds, {"f.txt": b"Fuzzing text.\n"})
    chunk = api.call("POST", f"/api/v1/datasets/{ds}/documents/{doc['id']}/chunks", json={"content": "a chunk"})["data"]["chunk"]
    chat = api.call("POST", "/api/v1/chats", json={"name": "fuzz", "dataset_ids": [ds]})["data"]
    session = api.call("POST", f"/api/v1/chats/{chat['id']}/sessions", json={"name": "s"})["data"]
    folder = api.call("POST", "/api/v1/files", json={"name": "dir", "type": "folder"})["data"]
    memory = api.call("POST", "/api/v1/memories", json={"name": "m", "memory_type": ["raw"], "embd_id": "all-MiniLM-L6-v2@Builtin",
                                                          "llm_id": "extractive@Builtin"})["data"]
    yield {"dataset_id": ds, "document_id": doc["id"], "doc_id": doc["id"], "chunk_id": chunk["id"], "chat_id": chat["id"],
           "session_id": session["id"], "file_id": folder["id"], "workspace_id": folder["id"], "memory_id": memory["id"], "agent_id": create_agent(api, "fz", dsl(ECHO)),
           "message_id": "1", "msg_id": "1", "index_type": "graph"}


def test_openapi_schema_is_published_and_fuzzed(api: Api, owned: dict[str, str]) -> None:
    assert api.client.get("/docs").status_code == 200
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 90
    auth = api.headers()
    calls = 0
    for operation in operations:
        @SETTINGS
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.path_parameters = {k: owned.get(k, v) for k, v in (case.path_parameters or {}).items()}
            enveloped(case.call(headers=auth), f"{case.method} {case.formatted_path}")

        check()
    assert calls >= len(operations)


def test_json_bodies_never_break_a_route(api: Api, owned: dict[str, str]) -> None:
    routes = [(m, p) for m, p in api_routes(api) if m in ("POST", "PUT", "PATCH", "DELETE")]
    assert len(routes) > 40
    for method, path in routes:
        fuzz_route(api, method, path, fill(path, owned))


def fuzz_route(api: Api, method: str, path: str, url: str) -> None:
    @SETTINGS
    @given(body=BODIES, raw=RAW)
    def check(body: dict[str, Any], raw: bytes) -> None:
        enveloped(api.client.request(method, url, headers=api.headers(), json=body), f"{method} {path} {body!r}")
        enveloped(api.client.request(method, url, headers={**api.headers(), "Content-Type": "application/json"}, content=raw),
                  f"{method} {path} raw {raw!r}")

    check()
