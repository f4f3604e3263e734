"""A small HTTP server on loopback for the connector tests' fakes: routes are (method, path regex) → a function of
the request returning (status, headers, body); every request is recorded. The feed, website, OAuth, GitHub,
Confluence and Notion fakes are route tables on it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[Request], Reply]


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode()


def text_reply(body: str | bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
               headers: dict[str, str] | None = None) -> Reply:
    data = body.encode() if isinstance(body, str) else body
    return status, {"Content-Type": content_type, **(headers or {})}, data


@dataclass
class FakeServer:
    base_url: str = ""
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.insert(0, (method, re.compile(f"^{pattern}$"), handler))  # the latest route wins

    def calls(self, method: str, pattern: str) -> list[Request]:
        rx = re.compile(f"^{pattern}$")
        return [r for r in self.requests if r.method == method and rx.match(r.path)]

    def _answer(self, request: Request) -> Reply:
        for method, rx, handler in self.routes:
            found = rx.match(request.path)
            if method == request.method and found:
                request.match = found
                return handler(request)
        return json_reply({"message": "Not Found"}, 404)


@contextmanager
def serve() -> Iterator[FakeServer]:
    fake = FakeServer()

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            return

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = Request(self.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
            fake.requests.append(request)
            status, headers, data = fake._answer(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_HEAD = do_PATCH = do_DELETE = _handle  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
