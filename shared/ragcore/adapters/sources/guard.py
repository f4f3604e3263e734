"""The outbound guard every connector source goes through (SSRF): the rule of ragcore.adapters.guarded_http.

A host is resolved once per request; private, loopback, link-local and reserved addresses are refused unless the
host is listed in CONNECTOR_ALLOWED_HOSTS (an on-premises WebDAV or MinIO, the tests' loopback servers). For httpx
clients the request then goes to the very address that was checked (the URL's host swapped for it, the TLS name
kept for certificate checks), so a DNS answer that changes in between reaches nothing new; redirects are new
requests through the same transport, each checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ragcore.adapters.guarded_http import RefusedTarget, checked_address
from ragcore.domain.sources import SourceError

SETTING = "CONNECTOR_ALLOWED_HOSTS"


class OutboundGuard:
    def __init__(self, allowed_hosts: frozenset[str], *, timeout_s: float = 30.0) -> None:
        self._allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
        self.timeout_s = timeout_s

    def address(self, host: str, port: int) -> str:
        """The address to connect to for host; SourceError when it is refused or unknown."""
        try:
            return checked_address(host, port, self._allowed, SETTING)
        except RefusedTarget as exc:
            raise SourceError(str(exc)) from None

    def check_url(self, url: str) -> None:
        """For clients that resolve by themselves (boto3): the URL's host must pass the same rule."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"'{url}' is not an http(s) URL")
        self.address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", self.timeout_s)
        kwargs.setdefault("follow_redirects", True)
        return httpx.Client(transport=GuardedTransport(self), **kwargs)


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: OutboundGuard) -> None:
        super().__init__()
        self._guard = guard

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise SourceError(f"'{url}' is not an http(s) URL")
        host = url.host
        ip = self._guard.address(host, url.port or (443 if url.scheme == "https" else 80))
        if ip != host:
            request.url = url.copy_with(host=ip)
            request.headers.setdefault("Host", url.netloc.decode("ascii"))
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        try:
            return super().handle_request(request)
        finally:
            request.url = url


@dataclass(frozen=True)
class Fetched:
    url: str  # where the body came from, after redirects
    status: int
    content_type: str
    content: bytes
    headers: dict[str, str]


def fetch_limited(http: httpx.Client, url: str, max_bytes: int, what: str, *, ok_statuses: tuple[int, ...] = ()) -> Fetched:
    """GET url: a body over max_bytes is refused as it streams, an HTTP error (unless listed) or an unreachable host
    is a SourceError naming `what`."""
    try:
        with http.stream("GET", url) as reply:
            if reply.status_code >= 400 and reply.status_code not in ok_statuses:
                raise SourceError(f"{what} answered HTTP {reply.status_code} for {url}")
            body = bytearray()
            for chunk in reply.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise SourceError(f"{url} is larger than the {max_bytes:,}-byte limit")
            kind = reply.headers.get("content-type", "").split(";")[0].strip().lower()
            return Fetched(str(reply.url), reply.status_code, kind, bytes(body), dict(reply.headers))
    except httpx.HTTPError as exc:
        raise SourceError(f"{what} could not be reached: {exc}") from exc
