"""Running an agent from a webhook call, as RAGFlow's handler does: the agent's Begin component in Webhook mode
names the methods, the security (body size, IP allow-list, rate limit, token/basic/JWT auth or an explicit
anonymous opt-in), the content type, a schema for query/headers/body and the response mode. Test calls (the
owner's, by API key) keep a trace of their events for ten minutes, read back through the logs route.

Every refusal is HTTP 400 with {"code": 400, "message": …}; the messages are RAGFlow's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragcore.errors import ApiError, RetCode
from ragcore.ports import ListQuery, MetadataStore
from ragcore.services.agents.service import NOT_OWNER, AgentService
from ragcore.services.agents.service import WEBHOOK_LOG as LOG
from ragcore.services.agents.service import WEBHOOK_RATE as RATE

LOG_TTL_S = 600
MAX_BODY = 10 * 1024 * 1024
WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RESERVED_CLAIMS = {"exp", "sub", "aud", "iss", "nbf", "iat"}
JWT_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


class Refused(Exception):
    """A webhook call refused before the agent runs; the message is the client's."""


@dataclass
class WebhookCall:
    method: str
    query: dict[str, str]
    headers: dict[str, str]  # header names as RAGFlow shows them (X-Token)
    client_ip: str
    body: bytes
    form: dict[str, Any] | None = None  # a parsed form body (urlencoded or multipart fields and files)
    files: dict[str, tuple[str, bytes, str | None]] = field(default_factory=dict)  # multipart: name, bytes, type

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip()


@dataclass
class WebhookReply:
    status: int
    body: Any  # JSON-able, or text when content_type is text/plain
    content_type: str = "application/json"
    later: Callable[[], object] | None = None  # the run, for after the reply (Immediately mode)


def webhook_id(start_ts: float) -> str:
    """RAGFlow's opaque id of a test call: an HMAC of its start time."""
    sig = hmac.new(b"webhook_id_secret", repr(start_ts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(sig).decode().rstrip("=")


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_jwt(token: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """HMAC-signed JWTs (HS256/384/512): signature, exp/nbf, and aud/iss when configured."""
    alg = str(cfg.get("algorithm") or "HS256").upper()
    parts = token.split(".")
    if len(parts) != 3:
        raise Refused("Invalid JWT: Not enough segments")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except (ValueError, binascii.Error) as exc:
        raise Refused("Invalid JWT: Invalid token padding or encoding") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Refused("Invalid JWT: Invalid payload")
    if header.get("alg") != alg or alg not in JWT_HASHES:
        raise Refused("Invalid JWT: The specified alg value is not allowed")
    expected = hmac.new(str(cfg["secret"]).encode(), f"{parts[0]}.{parts[1]}".encode(), JWT_HASHES[alg]).digest()
    if not hmac.compare_digest(expected, signature):
        raise Refused("Invalid JWT: Signature verification failed")
    now = time.time()
    if isinstance(claims.get("exp"), (int, float)) and now >= claims["exp"]:
        raise Refused("Invalid JWT: Signature has expired")
    if isinstance(claims.get("nbf"), (int, float)) and now < claims["nbf"]:
        raise Refused("Invalid JWT: The token is not yet valid (nbf)")
    if cfg.get("audience"):
        aud = claims.get("aud")
        if aud is None:
            raise Refused('Invalid JWT: Token is missing the "aud" claim')
        if cfg["audience"] not in (aud if isinstance(aud, list) else [aud]):
            raise Refused("Invalid JWT: Audience doesn't match")
    if cfg.get("issuer"):
        if "iss" not in claims:
            raise Refused('Invalid JWT: Token is missing the "iss" claim')
        if claims["iss"] != cfg["issuer"]:
            raise Refused("Invalid JWT: Invalid issuer")
    return claims


# ---- schema extraction (RAGFlow's auto-cast and type rules) ----------------------------------------------------
def _default(kind: Any) -> Any:
    kind = str(kind or "")
    if kind.startswith("array") or kind == "file":
        return []
    return {"object": {}, "boolean": False, "number": 0, "string": ""}.get(kind)


def _cast(value: Any, kind: str) -> Any:
    if not isinstance(value, str):
        return value
    v = value.strip()
    if kind == "boolean":
        if v.lower() in ("true", "1"):
            return True
        if v.lower() in ("false", "0"):
            return False
        raise Refused(f"Cannot convert '{value}' to boolean")
    if kind == "number":
        if v.isdigit() or (v.startswith("-") and v[1:].isdigit()):
            return int(v)
        try:
            return float(v)
        except ValueError:
            raise Refused(f"Cannot convert '{value}' to number") from None
    for wanted, label in (("object", "object"), ("array", "array")):
        if kind.startswith(wanted):
            try:
                parsed = json.loads(v)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict if wanted == "object" else list):
                raise Refused(f"Cannot convert '{value}' to {label}")
            return parsed
    return value


def _is_type(value: Any, kind: str) -> bool:
    simple = {"file": list, "string": str, "number": (int, float), "boolean": bool, "object": dict}
    if kind in simple:
        return isinstance(value, simple[kind])  # type: ignore[arg-type]
    if kind.startswith("array"):
        if not isinstance(value, list):
            return False
        if "<" in kind and ">" in kind:
            inner = kind[kind.find("<") + 1:kind.find(">")]
            return all(_is_type(item, inner) for item in value)
    return True


def extract(data: dict[str, Any], schema: Any, name: str) -> dict[str, Any]:
    schema = schema if isinstance(schema, dict) else {}
    required = schema.get("required") or []
    out: dict[str, Any] = {}
    for key, spec in (schema.get("properties") or {}).items():
        kind = str((spec or {}).get("type") or "") if isinstance(spec, dict) else ""
        if key in required and key not in data:
            raise Refused(f"{name} missing required field: {key}")
        if key not in data:
            out[key] = _default(kind)
            continue
        try:
            value = _cast(data[key], kind)
        except Refused as exc:
            raise Refused(f"{name}.{key} auto-cast failed: {exc}") from None
        if kind and not _is_type(value, kind):
            raise Refused(f"{name}.{key} type mismatch: expected {kind}, got {type(value).__name__}")
        out[key] = value
    return out


class WebhookService:
    def __init__(self, store: MetadataStore, agents: AgentService,
                 run: Callable[[str, dict[str, Any], dict[str, Any], Callable[[str, dict[str, Any]], None]], Any],
                 keep_file: Callable[[str, str, bytes, str | None], dict[str, Any]]) -> None:
        self._store = store
        self._keep_file = keep_file  # (tenant, name, bytes, mime) → an attachment's description
        self._agents = agents
        self._run = run  # (tenant, agent, Begin's outputs, emit): runs the agent, its events to emit

    # ---- the call --------------------------------------------------------------------------------------
    def owner_check(self, tenant: str, agent_id: str) -> None:
        if self._agents.find(tenant, agent_id) is None:
            raise ApiError(RetCode.OPERATING_ERROR, NOT_OWNER)

    def handle(self, agent_id: str, call: WebhookCall, *, test: bool) -> WebhookReply:
        start_ts = time.time()
        try:
            found = self._agents.find_anywhere(agent_id)
            if found is None:
                raise Refused("Canvas not found.")
            tenant, agent = found
            cfg = self._config(agent)
            methods = cfg.get("methods") or []
            if methods and call.method.upper() not in methods:
                raise Refused(f"HTTP method '{call.method.upper()}' not allowed for this webhook.")
            self._secure(tenant, agent_id, cfg.get("security") or {}, call)
            payload = self._payload(cfg, call, tenant)
        except Refused as exc:
            return WebhookReply(400, {"code": RetCode.BAD_REQUEST, "message": str(exc)})
        trace = _Trace(self._store, tenant, agent_id, start_ts) if test else None
        if cfg.get("execution_mode", "Immediately") == "Immediately":
            response = cfg.get("response") or {}
            try:
                status = int(response.get("status", 200))
            except (TypeError, ValueError):
                return WebhookReply(400, {"code": 400, "message": f"Invalid response status code: {response.get('status')}"})
            if not 200 <= status <= 399:
                return WebhookReply(400, {"code": 400, "message": f"Invalid response status code: {status}, must be between 200 and 399"})
            body, ctype = _body_template(response.get("body_template", ""))
            return WebhookReply(status, body, ctype, later=lambda: self._execute(tenant, agent, payload, trace, start_ts))
        result = self._execute(tenant, agent, payload, trace, start_ts)
        return WebhookReply(int(result["code"]), result)

    @staticmethod
    def _config(agent: dict[str, Any]) -> dict[str, Any]:
        cfg: dict[str, Any] = {}
        for comp in (agent.get("dsl") or {}).get("components", {}).values():
            obj = comp.get("obj") or {}
            params = obj.get("params") or {}
            if str(obj.get("component_name", "")).lower() == "begin" and params.get("mode") == "Webhook":
                cfg = params
        if not cfg:
            raise Refused("Webhook not configured for this agent.")
        return cfg

    def _secure(self, tenant: str, agent_id: str, security: Any, call: WebhookCall) -> None:
        if not isinstance(security, dict) or not security:
            raise Refused("Webhook security is required. Set allow_anonymous to true to permit unauthenticated webhooks.")
        self._body_size(security, call)
        self._allowed_ip(security, call)
        self._rate(tenant, agent_id, security)
        auth = security.get("auth_type", "none")
        if auth == "none":
            if not _truthy(security.get("allow_anonymous")):
                raise Refused("Anonymous webhook access requires allow_anonymous to be true")
        elif auth == "token":
            token = security.get("token") or {}
            header = token.get("token_header")
            provided = call.header(str(header)) if header else None
            if provided is None or not hmac.compare_digest(str(provided), str(token.get("token_value"))):
                raise Refused("Invalid token authentication")
        elif auth == "basic":
            cfg = security.get("basic_auth") or {}
            if _basic(call.header("Authorization")) != (cfg.get("username"), cfg.get("password")):
                raise Refused("Invalid Basic Auth credentials")
        elif auth == "jwt":
            self._jwt(security.get("jwt") or {}, call)
        else:
            raise Refused(f"Unsupported auth_type: {auth}")

    @staticmethod
    def _body_size(security: dict[str, Any], call: WebhookCall) -> None:
        size = str(security.get("max_body_size") or "10MB").lower()
        for suffix, factor in (("kb", 1024), ("mb", 1024 * 1024)):
            if size.endswith(suffix):
                try:
                    limit = int(size[: -len(suffix)]) * factor
                except ValueError:
                    break
                if limit > MAX_BODY:
                    raise Refused("max_body_size exceeds maximum allowed size (10MB)")
                if len(call.body) > limit:
                    raise Refused(f"Request body too large: {len(call.body)} > {limit}")
                return
        raise Refused("Invalid max_body_size format")

    @staticmethod
    def _allowed_ip(security: dict[str, Any], call: WebhookCall) -> None:
        rules = security.get("ip_whitelist") or []
        if not rules:
            return
        for rule in rules:
            try:
                if "/" in str(rule):
                    if ipaddress.ip_address(call.client_ip) in ipaddress.ip_network(str(rule), strict=False):
                        return
                elif call.client_ip == str(rule):
                    return
            except ValueError as exc:
                raise Refused(str(exc)) from None
        raise Refused(f"IP {call.client_ip} is not allowed by whitelist")

    def _rate(self, tenant: str, agent_id: str, security: dict[str, Any]) -> None:
        """A fixed window per agent kept in the store (RAGFlow: a token bucket in Redis), shared by every instance."""
        rule = security.get("rate_limit") or {"limit": 60, "per": "minute"}
        try:
            limit = int(rule.get("limit", 60))
        except (TypeError, ValueError):
            raise Refused("rate_limit.limit must be > 0") from None
        if limit <= 0:
            raise Refused("rate_limit.limit must be > 0")
        per = rule.get("per", "minute")
        window = WINDOWS.get(per) if isinstance(per, str) else None
        if not window:
            raise Refused(f"Invalid rate_limit.per: {per}")
        current = int(time.time() // window)
        key = f"{agent_id}-{per}"
        item = self._store.get(RATE, tenant, key)
        if item is None or item.get("window") != current:
            self._store.put(RATE, tenant, {"id": key, "window": current, "n": 0}, parent=agent_id)
        counted = self._store.increment(RATE, tenant, key, {"n": 1})
        if counted is not None and counted.get("window") == current and int(counted["n"]) > limit:
            raise Refused("Rate limit error: Too many requests (rate limit exceeded)")

    @staticmethod
    def _jwt(cfg: dict[str, Any], call: WebhookCall) -> None:
        if not cfg.get("secret"):
            raise Refused("JWT secret not configured")
        header = call.header("Authorization") or ""
        if not header.startswith("Bearer "):
            raise Refused("Missing Bearer token")
        token = header[len("Bearer "):].strip()
        if not token:
            raise Refused("Empty Bearer token")
        claims = decode_jwt(token, cfg)
        required = cfg.get("required_claims") or []
        required = [required] if isinstance(required, str) else list(required) if isinstance(required, (list, tuple)) else []
        required = [c for c in required if isinstance(c, str) and c.strip()]
        for claim in required:
            if claim in RESERVED_CLAIMS:
                raise Refused(f"Reserved JWT claim cannot be required: {claim}")
        for claim in required:
            if claim not in claims:
                raise Refused(f"Missing JWT claim: {claim}")

    def _payload(self, cfg: dict[str, Any], call: WebhookCall, tenant: str) -> dict[str, Any]:
        expected = cfg.get("content_types")
        ctype = call.content_type
        if ctype and ctype != expected:
            raise Refused(f"Invalid Content-Type: expect '{expected}', got '{ctype}'")
        body: Any = {}
        if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            body = {**(call.form or {})}
            for key, (name, data, mime) in call.files.items():  # kept as agent attachments, described in the body
                try:
                    body[key] = [self._keep_file(tenant, name, data, mime)]
                except ApiError as exc:
                    raise Refused(exc.message) from None
        elif call.body:
            try:
                body = json.loads(call.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                body = {}
        body = body if isinstance(body, dict) else {}
        schema: dict[str, Any] = cfg["schema"] if isinstance(cfg.get("schema"), dict) else {}
        raw = {"query": call.query, "headers": call.headers, "body": body, "content_type": ctype}
        return {"query": extract(call.query, schema.get("query"), "query"),
                "headers": extract(call.headers, schema.get("headers"), "headers"),
                "body": extract(body, schema.get("body"), "body"), "request": raw}

    def _execute(self, tenant: str, agent: dict[str, Any], payload: dict[str, Any], trace: _Trace | None,
                 start_ts: float) -> dict[str, Any]:
        contents: list[str] = []
        status = 200

        def emit(event: str, data: dict[str, Any]) -> None:
            nonlocal status
            if event == "message" and data.get("content"):
                contents.append(str(data["content"]))
            if event == "message_end" and data.get("status") is not None:
                status = int(data["status"])
            if trace is not None:
                trace.add({"event": event, "task_id": agent["id"], "created_at": int(time.time()), "data": data})

        try:
            self._run(tenant, agent, payload, emit)
        except Exception as exc:  # noqa: BLE001 - the caller gets the failure as RAGFlow reports it, never a 500
            if trace is not None:
                trace.add({"event": "error", "message": str(exc), "error_type": type(exc).__name__})
                trace.add({"event": "finished", "elapsed_time": time.time() - start_ts, "success": False})
                trace.flush()
            return {"code": 400, "message": str(exc), "success": False}
        if trace is not None:
            trace.add({"event": "finished", "elapsed_time": time.time() - start_ts, "success": True})
            trace.flush()
        return {"message": "".join(contents), "success": True, "code": status}

    # ---- logs ------------------------------------------------------------------------------------------
    def logs(self, tenant: str, agent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if self._agents.find(tenant, agent_id) is None:
            raise ApiError(RetCode.DATA_ERROR, "Canvas not found.")
        try:
            since = float(params["since_ts"]) if params.get("since_ts") not in (None, "") else None
        except ValueError:
            since = None  # RAGFlow's request.args.get(type=float) turns a bad number into "not given"
        wanted = params.get("webhook_id")
        if since is None:
            return {"webhook_id": None, "events": [], "next_since_ts": time.time(), "finished": False}
        if wanted is None:
            query = ListQuery(LOG, tenant, agent_id, order="create_time", desc=False, created_from=int(since * 1000))
            later = [i for i in self._store.page(query, 0, 3) if i["start_ts"] > since and _alive(i)]
            if not later:
                return {"webhook_id": None, "events": [], "next_since_ts": since, "finished": False}
            first = min(later, key=lambda i: float(i["start_ts"]))
            return {"webhook_id": first["id"], "events": [], "next_since_ts": first["start_ts"], "finished": False}
        item = self._store.get(LOG, tenant, str(wanted))
        if item is None or item.get("agent_id") != agent_id or not _alive(item):
            return {"webhook_id": wanted, "events": [], "next_since_ts": since, "finished": True}
        new = [e for e in item.get("events", []) if float(e.get("ts", 0)) > since]
        return {"webhook_id": wanted, "events": new, "next_since_ts": max([since, *(float(e["ts"]) for e in new)]),
                "finished": any(e.get("event") == "finished" for e in new)}


def _alive(item: dict[str, Any]) -> bool:
    return float(item.get("expires", 0)) > time.time()


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on")


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _body_template(text: Any) -> tuple[Any, str]:
    if not text:
        return None, "application/json"
    try:
        return json.loads(text), "application/json"
    except (TypeError, ValueError):
        return str(text), "text/plain"


class _Trace:
    """A test call's events, written to the store as they come (a message's tokens in batches)."""

    def __init__(self, store: MetadataStore, tenant: str, agent_id: str, start_ts: float) -> None:
        self._store, self._tenant = store, tenant
        self._id = webhook_id(start_ts)
        self._events: list[dict[str, Any]] = []
        self._pending = 0
        self._prune(agent_id)
        store.put(LOG, tenant, {"id": self._id, "agent_id": agent_id, "start_ts": start_ts, "events": [],
                                "create_time": int(start_ts * 1000), "expires": start_ts + LOG_TTL_S}, parent=agent_id)

    def _prune(self, agent_id: str) -> None:
        # test calls are few and short-lived: the oldest expired ones go as new ones come, so reads stay small
        query = ListQuery(LOG, self._tenant, agent_id, order="create_time", desc=False)
        for item in self._store.page(query, 0, 20):
            if not _alive(item):
                self._store.delete(LOG, self._tenant, item["id"])

    def add(self, event: dict[str, Any]) -> None:
        self._events.append({"ts": time.time(), **event})
        self._pending += 1
        if event.get("event") != "message" or self._pending >= 50:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._store.update(LOG, self._tenant, self._id, {"events": list(self._events), "expires": time.time() + LOG_TTL_S})
            self._pending = 0
