"""The address a request came from, for per-address limits (the login rate limit).

On Lambda it is API Gateway's `requestContext` source IP (the peer API Gateway saw); locally, the socket's peer.
X-Forwarded-For is believed only when the immediate peer is a configured trusted proxy (TRUSTED_PROXIES): anyone
can send the header, so trusting it by default would let a client pick a fresh address for every attempt.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi import Request


def _gateway_source_ip(scope: MutableMapping[str, Any]) -> str:
    event = scope.get("aws.event")  # Mangum keeps the invocation's event in the ASGI scope
    if not isinstance(event, dict):
        return ""
    context = event.get("requestContext") or {}
    http = context.get("http") if isinstance(context, dict) else None
    if isinstance(http, dict) and http.get("sourceIp"):  # HTTP API (payload v2)
        return str(http["sourceIp"])
    identity = context.get("identity") if isinstance(context, dict) else None
    if isinstance(identity, dict) and identity.get("sourceIp"):  # REST API (payload v1)
        return str(identity["sourceIp"])
    return ""


def client_address(request: Request, trusted_proxies: frozenset[str]) -> str:
    peer = _gateway_source_ip(request.scope) or (request.client.host if request.client else "")
    if peer not in trusted_proxies:
        return peer or "unknown"
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    # the nearest hop that is not one of our proxies is the client; nearer hops were appended by the proxies
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return peer
