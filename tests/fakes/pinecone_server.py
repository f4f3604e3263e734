"""A fake of Pinecone's data-plane HTTP API on loopback (Pinecone Local needs Docker; the client is HTTP+JSON).

Implements upsert, query (dense dot product + sparse dot product, metadata filters), fetch, list, delete,
update and describe_index_stats, with the real API's camelCase keys, per namespace. Setting `trouble` (a seeded
HttpTrouble) makes a share of requests fail with 429/503 instead, as Pinecone does under load.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.fakes.faults import HttpTrouble


def matches(meta: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(meta, c) for c in cond):
                return False
            continue
        if key == "$or":
            if not any(matches(meta, c) for c in cond):
                return False
            continue
        ops = cond if isinstance(cond, dict) else {"$eq": cond}
        for op, expected in ops.items():
            if not _check(op, meta.get(key), expected, key in meta):
                return False
    return True


def _check(op: str, value: Any, expected: Any, present: bool) -> bool:
    if op == "$eq":
        return bool(value == expected or (isinstance(value, list) and expected in value))
    if op == "$ne":
        return bool(expected not in value) if isinstance(value, list) else bool(value != expected)
    if op == "$in":
        return bool(value in expected or (isinstance(value, list) and any(v in expected for v in value)))
    if op == "$nin":  # a list matches when none of its elements is in the array
        return not any(v in expected for v in value) if isinstance(value, list) else value not in expected
    if op == "$exists":
        return present == bool(expected)
    if value is None:
        return False
    return bool({"$gt": value > expected, "$gte": value >= expected, "$lt": value < expected, "$lte": value <= expected}[op])


class FakePinecone:
    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[str] = []
        self.trouble: HttpTrouble | None = None
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                return

            def _reply(self, payload: dict[str, Any], status: int = 200) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _troubled(self, path: str) -> bool:
                """Answered with the failure the trouble draws for this request (nothing applied)."""
                status = fake.trouble.status_for(path) if fake.trouble is not None else None
                if status is None:
                    return False
                raw = json.dumps({"code": status, "message": "Too many requests" if status == 429 else "Service unavailable",
                                  "details": []}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                if fake.trouble is not None and fake.trouble.retry_after is not None:
                    self.send_header("retry-after", fake.trouble.retry_after)
                self.end_headers()
                self.wfile.write(raw)
                return True

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                if self._troubled(url.path):
                    return
                q = parse_qs(url.query)
                ns = fake.namespaces.get(q.get("namespace", [""])[0], {})
                fake.requests.append(f"GET {url.path}")
                if url.path == "/vectors/fetch":
                    with fake._lock:
                        found = {i: ns[i] for i in q.get("ids", []) if i in ns}
                    self._reply({"vectors": found, "namespace": q.get("namespace", [""])[0], "usage": {"readUnits": 1}})
                elif url.path == "/vectors/list":
                    prefix = q.get("prefix", [""])[0]
                    limit = int(q.get("limit", ["100"])[0])
                    start = int(q.get("paginationToken", ["0"])[0])
                    with fake._lock:
                        ids = sorted(i for i in ns if i.startswith(prefix))
                    page = ids[start : start + limit]
                    body: dict[str, Any] = {"vectors": [{"id": i} for i in page], "namespace": q.get("namespace", [""])[0],
                                            "usage": {"readUnits": 1}}
                    if start + limit < len(ids):
                        body["pagination"] = {"next": str(start + limit)}
                    self._reply(body)
                else:
                    self._reply({"message": "not found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                path = urlparse(self.path).path
                if self._troubled(path):
                    return
                fake.requests.append(f"POST {path}")
                name = body.get("namespace", "")
                with fake._lock:
                    ns = fake.namespaces.setdefault(name, {})
                    if path == "/vectors/upsert":
                        for v in body["vectors"]:
                            ns[v["id"]] = v
                        self._reply({"upsertedCount": len(body["vectors"])})
                    elif path == "/query":
                        self._reply({"matches": fake.query(ns, body), "namespace": name, "usage": {"readUnits": 5}})
                    elif path == "/vectors/delete":
                        if body.get("deleteAll"):
                            ns.clear()
                        for i in body.get("ids") or []:
                            ns.pop(i, None)
                        if body.get("filter"):
                            for i in [i for i, v in ns.items() if matches(v.get("metadata", {}), body["filter"])]:
                                ns.pop(i)
                        self._reply({})
                    elif path == "/vectors/update":
                        targets = [body["id"]] if body.get("id") else [
                            i for i, v in ns.items() if matches(v.get("metadata", {}), body.get("filter"))]
                        for i in targets:
                            if i in ns and body.get("setMetadata"):
                                ns[i].setdefault("metadata", {}).update(body["setMetadata"])
                        self._reply({"matchedRecords": len(targets)})
                    elif path == "/describe_index_stats":
                        counts = {n: {"vectorCount": sum(1 for v in vs.values() if matches(v.get("metadata", {}), body.get("filter")))}
                                  for n, vs in fake.namespaces.items()}
                        self._reply({"namespaces": counts, "dimension": 384, "indexFullness": 0.0,
                                     "totalVectorCount": sum(c["vectorCount"] for c in counts.values())})
                    else:
                        self._reply({"message": "not found"}, 404)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @staticmethod
    def query(ns: dict[str, dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
        dense = body.get("vector") or []
        sparse = body.get("sparseVector") or {}
        sparse_q = dict(zip(sparse.get("indices", []), sparse.get("values", []), strict=False))
        scored = []
        for vid, v in ns.items():
            if not matches(v.get("metadata", {}), body.get("filter")):
                continue
            score = sum(a * b for a, b in zip(dense, v.get("values", []), strict=False))
            sv = v.get("sparseValues") or {}
            score += sum(sparse_q.get(i, 0.0) * val for i, val in zip(sv.get("indices", []), sv.get("values", []), strict=False))
            if sparse_q and not any(dense) and score <= 0:
                continue  # a sparse-only query returns only records that share a term
            item: dict[str, Any] = {"id": vid, "score": score}
            if body.get("includeMetadata"):
                item["metadata"] = v.get("metadata", {})
            if body.get("includeValues"):
                item["values"] = v.get("values", [])
            scored.append(item)
        scored.sort(key=lambda m: -m["score"])
        return scored[: int(body.get("topK", 10))]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def pinecone_fake() -> Iterator[FakePinecone]:
    fake = FakePinecone()
    yield fake
    fake.close()
