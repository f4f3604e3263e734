"""Per-tenant Langfuse keys (`/langfuse/api-key`) and traces of chat completions sent to that Langfuse.

Keys are checked against the host's public API (`GET /api/public/projects`, HTTP basic auth) before they are kept,
as RAGFlow's handler does with the SDK. The secret key is never returned in full, nor logged.

A completion's trace goes in the background after the answer is complete: a missing, slow or failing Langfuse costs
the completion nothing; failures are logged (without keys) and dropped.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import ApiError, RetCode
from ragcore.ports import HttpFetch, HttpReply, MetadataStore
from ragcore.services.common import stamp_new, stamp_update

log = logging.getLogger(__name__)

KIND = kinds.LANGFUSE  # one item per tenant, its id the tenant's id
REQUIRED = ("secret_key", "public_key", "host")
NO_KEYS = "Have not record any Langfuse keys."
TIMEOUT_S = 10.0




class LangfuseUnreachable(Exception):
    pass


def masked(secret: str) -> str:
    """Enough of a secret key to recognise it, never enough to use it."""
    return f"{secret[:7]}…{secret[-4:]}" if len(secret) > 16 else "…"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


class LangfuseService:
    def __init__(self, store: MetadataStore, fetch: HttpFetch, background: Callable[[Callable[[], None]], None]) -> None:
        self._store = store
        self._fetch = fetch
        self._background = background

    # ---- keys -------------------------------------------------------------------------------------
    def set_keys(self, tenant: str, payload: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in REQUIRED if name not in payload]
        if missing:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"required argument are missing: {','.join(missing)}; ")
        keys = {name: payload.get(name) for name in REQUIRED}
        if not all(isinstance(v, str) and v for v in keys.values()):
            raise ApiError(RetCode.DATA_ERROR, "Missing required fields")
        keys["host"] = str(keys["host"]).rstrip("/")
        try:
            projects = self._projects(keys)
        except LangfuseUnreachable as exc:
            raise ApiError(RetCode.DATA_ERROR, f"Error from Langfuse: {exc}") from None
        if not projects:
            raise ApiError(RetCode.DATA_ERROR, "Invalid Langfuse keys")
        current = self._store.get(KIND, tenant, tenant)
        item = {"id": tenant, "tenant_id": tenant, **keys}
        if current is None:
            self._store.put(KIND, tenant, stamp_new(item))
        else:
            self._store.update(KIND, tenant, tenant, stamp_update(keys))
        return self._view(item)

    def get_keys(self, tenant: str) -> tuple[dict[str, Any] | None, str | None]:
        """(data, message): RAGFlow answers a tenant without keys, and a Langfuse error, with code 0 and a message."""
        item = self._store.get(KIND, tenant, tenant)
        if item is None:
            return None, NO_KEYS
        try:
            projects = self._projects(item)
        except LangfuseUnreachable as exc:
            return None, f"Error from Langfuse: {exc}"
        if not projects:
            raise ApiError(RetCode.DATA_ERROR, "Invalid Langfuse keys loaded")
        return {**self._view(item), "project_id": projects[0].get("id"), "project_name": projects[0].get("name")}, None

    def delete_keys(self, tenant: str) -> bool:
        return self._store.delete(KIND, tenant, tenant)

    @staticmethod
    def _view(item: dict[str, Any]) -> dict[str, Any]:
        return {"tenant_id": item["tenant_id"], "host": item["host"], "public_key": item["public_key"],
                "secret_key": masked(item["secret_key"])}

    def _call(self, keys: dict[str, Any], method: str, path: str, body: bytes | None = None) -> HttpReply:
        token = base64.b64encode(f"{keys['public_key']}:{keys['secret_key']}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self._fetch(method, f"{keys['host']}{path}", headers, body, TIMEOUT_S)
        except ValueError as exc:  # refused or unreachable host (the fetcher's RefusedTarget)
            raise LangfuseUnreachable(str(exc)) from None

    def _projects(self, keys: dict[str, Any]) -> list[dict[str, Any]]:
        """The keys' projects; [] when Langfuse refuses the keys."""
        reply = self._call(keys, "GET", "/api/public/projects")
        if reply.status in (401, 403):
            return []
        if reply.status != 200:
            raise LangfuseUnreachable(f"HTTP {reply.status}")
        try:
            data = json.loads(reply.text).get("data")
        except (ValueError, AttributeError):
            raise LangfuseUnreachable("the reply is not Langfuse's JSON") from None
        return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []

    # ---- traces -----------------------------------------------------------------------------------
    def trace_completion(self, tenant: str, record: dict[str, Any]) -> None:
        """Queue a completion's trace (record: question, messages, answer, model, usage, started, ended, chat_id)."""
        try:
            self._background(lambda: self._send_trace(tenant, record))
        except Exception:  # a full or stopped executor: the trace is dropped, the completion is not
            log.warning("langfuse trace not queued", exc_info=True)

    def _send_trace(self, tenant: str, record: dict[str, Any]) -> None:
        try:
            keys = self._store.get(KIND, tenant, tenant)
            # keys are read when the trace is sent: a completion that ended before the tenant had keys is not traced
            if keys is None or int(keys.get("create_time") or 0) > float(record["ended"]) * 1000:
                return
            reply = self._call(keys, "POST", "/api/public/ingestion", json.dumps(self._batch(record)).encode())
            if reply.status >= 300:
                log.warning("langfuse ingestion answered HTTP %s", reply.status)
        except Exception as exc:
            log.warning("langfuse trace dropped: %s", type(exc).__name__ if not isinstance(exc, LangfuseUnreachable) else exc)

    @staticmethod
    def _batch(record: dict[str, Any]) -> dict[str, Any]:
        trace_id, started, ended = uuid.uuid4().hex, _iso(record["started"]), _iso(record["ended"])
        usage = record.get("usage") or {}
        trace = {"id": trace_id, "name": "chat", "timestamp": started, "input": record["question"],
                 "output": record["answer"], "metadata": {"chat_id": record.get("chat_id") or ""}}
        generation = {
            "id": uuid.uuid4().hex, "traceId": trace_id, "name": "chat", "startTime": started, "endTime": ended,
            "model": record.get("model") or "", "input": record["messages"], "output": record["answer"],
            "usage": {"input": usage.get("prompt_tokens", 0), "output": usage.get("completion_tokens", 0),
                      "total": usage.get("total_tokens", 0), "unit": "TOKENS"},
        }
        return {"batch": [
            {"id": uuid.uuid4().hex, "timestamp": started, "type": "trace-create", "body": trace},
            {"id": uuid.uuid4().hex, "timestamp": ended, "type": "generation-create", "body": generation},
        ]}
