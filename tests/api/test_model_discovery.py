"""GET /providers/{factory}/models lists what a self-hosted server serves (OpenAI-compatible `/v1/models`, Ollama's
`/api/tags` + `/api/show`) beside the catalogue's models, as RAGFlow's list does; a server that cannot answer
leaves the catalogue's list."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import Api


class ModelServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []  # method, path, authorization
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                return

            def _reply(self, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(("GET", self.path, self.headers.get("authorization", "")))
                if self.path == "/v1/models":
                    self._reply({"object": "list", "data": [{"id": "my-llama", "object": "model", "max_model_len": 32768},
                                                            {"id": "bge-m3", "object": "model"}]})
                elif self.path == "/api/tags":
                    self._reply({"models": [{"name": "qwen3:8b"}, {"name": "nomic-embed-text"}]})
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                server.requests.append(("POST", self.path, body.get("model", "")))
                if body.get("model") == "qwen3:8b":
                    self._reply({"capabilities": ["completion", "tools", "thinking"], "details": {"family": "qwen3"},
                                 "model_info": {"qwen3.context_length": 40960}})
                else:
                    self._reply({"capabilities": ["embedding"], "details": {"family": "nomic-bert"},
                                 "model_info": {"nomic-bert.context_length": 2048}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def models_server() -> Iterator[ModelServer]:
    server = ModelServer()
    yield server
    server.close()


def listed(api: Api, factory: str, **params: str) -> dict[str, dict[str, Any]]:
    res = api.call("GET", f"/api/v1/providers/{factory}/models", params=params)
    assert res["code"] == 0, res
    return {m["name"]: m for m in res["data"]}


def test_an_openai_compatible_server_lists_its_models(api: Api, models_server: ModelServer) -> None:
    models = listed(api, "OpenAI-API-Compatible", base_url=models_server.url + "/v1", api_key="sk-local-1234")
    assert models["my-llama"] == {"name": "my-llama", "model_types": ["chat"], "features": [], "max_tokens": 32768}
    assert models["bge-m3"]["model_types"] == ["embedding"]
    assert models_server.requests == [("GET", "/v1/models", "Bearer sk-local-1234")]
    vllm = listed(api, "VLLM", base_url=models_server.url)  # vLLM's /v1 is added, as RAGFlow does
    assert "my-llama" in vllm
    # a hosted factory's list is its catalogue: nothing is fetched for it
    models_server.requests.clear()
    assert "my-llama" not in listed(api, "DeepSeek", base_url=models_server.url + "/v1")
    assert models_server.requests == []


def test_ollama_lists_its_models_with_their_capabilities(api: Api, models_server: ModelServer) -> None:
    models = listed(api, "Ollama", base_url=models_server.url)
    assert models["qwen3:8b"] == {"name": "qwen3:8b", "model_types": ["chat"], "features": ["is_tools", "thinking"],
                                  "max_tokens": 40960}
    assert models["nomic-embed-text"]["model_types"] == ["embedding"]
    assert [r[:2] for r in models_server.requests] == [("GET", "/api/tags"), ("POST", "/api/show"), ("POST", "/api/show")]


def test_without_a_reachable_server_the_catalogue_is_the_list(api: Api, models_server: ModelServer) -> None:
    catalogue = listed(api, "Ollama")
    models_server.close()
    assert listed(api, "Ollama", base_url=models_server.url) == catalogue
    assert "my-llama" not in listed(api, "OpenAI-API-Compatible", base_url="http://127.0.0.1:9/v1")
