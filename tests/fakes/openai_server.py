"""A fake OpenAI-compatible server on loopback: chat completions (stream and not), embeddings, rerank, and the
audio API (`/audio/speech`: the audio of each input, sent in pieces; `/audio/transcriptions`: multipart in, text out).

Knobs: `reply` (text, or a function of the messages; a function may answer {"tool_calls": [{"name", "arguments"}]}
to call the request's tools, in a reply that is not streamed), `first_token_delay_s`, `per_token_delay_s`, `transcript`,
`fail_next(n, status)`; every request is recorded in `requests` (path, headers, body — a multipart body as its fields,
a file as {"filename", "content"}).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class FakeOpenAI:
    def __init__(self) -> None:
        self.reply: str | Callable[[list[dict[str, Any]]], Any] = "Hello from the fake model."
        self.first_token_delay_s = 0.0
        self.per_token_delay_s = 0.0
        self.dimension = 16
        self.transcript = "  the fake transcript  "
        self.requests: list[dict[str, Any]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                ctype = self.headers.get("content-type", "")
                body = multipart_fields(ctype, raw) if ctype.startswith("multipart/") else json.loads(raw or b"{}")
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = fake._failures.pop(0) if fake._failures else 0
                if status:
                    self._json(status, {"error": {"message": "injected failure", "type": "server_error"}})
                    return
                if self.path.endswith("/chat/completions"):
                    self._chat(body)
                elif self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": fake.vector(t)} for i, t in enumerate(inputs)]
                    self._json(200, {"object": "list", "data": data, "model": body.get("model"),
                                     "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                elif self.path.endswith("/rerank"):
                    q = set(body["query"].lower().split())
                    results = [{"index": i, "relevance_score": len(q & set(d.lower().split())) / (len(q) or 1)}
                               for i, d in enumerate(body["documents"])]
                    self._json(200, {"results": sorted(results, key=lambda r: -r["relevance_score"])})
                elif self.path.endswith("/audio/speech"):
                    self._speech(body)
                elif self.path.endswith("/audio/transcriptions"):
                    self._json(200, {"text": fake.transcript})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def _speech(self, body: dict[str, Any]) -> None:
                audio = speech_audio(str(body.get("input", "")))
                self.send_response(200)
                self.send_header("content-type", "audio/mpeg")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for start in range(0, len(audio), 8):  # in pieces, as a provider streams it
                    piece = audio[start : start + 8]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _chat(self, body: dict[str, Any]) -> None:
                text = fake.reply(body["messages"]) if callable(fake.reply) else fake.reply
                if isinstance(text, dict):  # the model calls tools
                    calls = [{"id": f"call_{n}", "type": "function",
                              "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
                             for n, c in enumerate(text["tool_calls"])]
                    self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                                     "model": body.get("model"), "usage": {"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12},
                                     "choices": [{"index": 0, "finish_reason": "tool_calls",
                                                  "message": {"role": "assistant", "content": None, "tool_calls": calls}}]})
                    return
                usage = {"prompt_tokens": 11, "completion_tokens": max(1, len(text.split())), "total_tokens": 11 + max(1, len(text.split()))}
                if not body.get("stream"):
                    time.sleep(fake.first_token_delay_s)
                    self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                                     "model": body.get("model"), "usage": usage,
                                     "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}]})
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                time.sleep(fake.first_token_delay_s)
                for n, piece in enumerate(fake.pieces(text)):
                    if n:
                        time.sleep(fake.per_token_delay_s)
                    chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": body.get("model"), "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self._chunk(f"data: {json.dumps(chunk)}\n\n")
                done = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model"),
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self._chunk(f"data: {json.dumps(done)}\n\n")
                self._chunk("data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")

            def _chunk(self, text: str) -> None:
                raw = text.encode()
                self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @staticmethod
    def pieces(text: str) -> Iterator[str]:
        words = text.split(" ")
        for i, word in enumerate(words):
            yield word if i == len(words) - 1 else word + " "

    def vector(self, text: str) -> list[float]:
        digest = hashlib.sha256(text.encode()).digest()
        raw = [(b - 128) / 128 for b in digest[: self.dimension]]
        norm = math.sqrt(sum(x * x for x in raw)) or 1.0
        return [x / norm for x in raw]

    def fail_next(self, n: int, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def speech_audio(text: str) -> bytes:
    """The fake's "audio" of a text: recognisable bytes a test can predict."""
    return b"ID3" + text.encode("utf-8") + b"\x00"


def multipart_fields(content_type: str, raw: bytes) -> dict[str, Any]:
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        fields[str(name)] = {"filename": filename, "content": content} if filename else content.decode("utf-8")
    return fields


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    yield fake
    fake.close()
