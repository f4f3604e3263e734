"""A fake Langfuse public API on loopback: `GET /api/public/projects` (basic auth) and `POST /api/public/ingestion`.

Knobs: `keys` (public → secret accepted), `hold` (an Event the ingestion handler waits on before answering),
`ingestion_status`; every request is recorded in `requests` (method, path, headers, body); `received` is set
whenever one arrives, `answered` once an ingestion has been answered.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLangfuse:
    def __init__(self) -> None:
        self.keys = {"pk-lf-good": "sk-lf-0123456789abcdef-secret"}
        self.project = {"id": "proj-1", "name": "Demo project"}
        self.requests: list[dict[str, Any]] = []
        self.received = threading.Event()
        self.answered = threading.Event()  # set once an ingestion request has been answered
        self.hold: threading.Event | None = None
        self.ingestion_status = 207
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                return

            def _record(self) -> dict[str, Any]:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                entry = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                         "body": json.loads(raw) if raw else None}
                fake.requests.append(entry)
                fake.received.set()
                return entry

            def _authorised(self) -> bool:
                scheme, _, token = self.headers.get("authorization", "").partition(" ")
                if scheme != "Basic":
                    return False
                public, _, secret = base64.b64decode(token).decode().partition(":")
                return fake.keys.get(public) == secret

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._record()
                if self.path != "/api/public/projects":
                    return self._json(404, {"message": "not found"})
                if not self._authorised():
                    return self._json(401, {"message": "Invalid credentials"})
                return self._json(200, {"data": [fake.project]})

            def do_POST(self) -> None:  # noqa: N802
                entry = self._record()
                if fake.hold is not None:
                    fake.hold.wait(10)
                if self.path != "/api/public/ingestion" or not self._authorised():
                    return self._json(401, {"message": "Invalid credentials"})
                ids = [e["id"] for e in (entry["body"] or {}).get("batch", [])]
                self._json(fake.ingestion_status, {"successes": [{"id": i, "status": 201} for i in ids], "errors": []})
                fake.answered.set()
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def ingestions(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/api/public/ingestion"]

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()
