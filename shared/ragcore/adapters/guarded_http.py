"""Outbound HTTP for the agent Invoke component, guarded against SSRF.

Every hop resolves the host once, refuses private, loopback, link-local, multicast and reserved addresses (unless
the host is allowed in config), and connects to the very address it checked, so a DNS answer that changes between
the check and the connection can't reach an internal service. Redirects are followed by hand, each one checked.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from ragcore.ports import HttpReply

MAX_REDIRECTS = 3


class RefusedTarget(ValueError):
    pass


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _blocked(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return not addr.is_global or addr.is_multicast


def checked_address(host: str, port: int, allowed: set[str] | frozenset[str], allow_setting: str) -> str:
    """The address to connect to for host: resolved once; private, loopback and link-local ones refused unless the
    host is allowed (by the setting named in the refusal)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedTarget(f"can't resolve host '{host}'") from exc
    ips = sorted({str(info[4][0]) for info in infos})
    if host.lower() not in allowed:
        bad = [ip for ip in ips if _blocked(ip)]
        if bad:
            raise RefusedTarget(f"'{host}' resolves to {bad[0]}, a private, loopback or link-local address; "
                                f"requests there are refused unless the host is listed in {allow_setting}")
    return ips[0]


class GuardedFetcher:
    def __init__(self, *, allowed_hosts: frozenset[str], max_bytes: int, max_timeout_s: float,
                 allow_setting: str = "AGENT_INVOKE_ALLOWED_HOSTS") -> None:
        self._allowed = {h.lower() for h in allowed_hosts}
        self._allow_setting = allow_setting
        self._max_bytes = max_bytes
        self._max_timeout = max_timeout_s

    def _address(self, host: str, port: int) -> str:
        return checked_address(host, port, self._allowed, self._allow_setting)

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> HttpReply:
        timeout = max(0.1, min(timeout or self._max_timeout, self._max_timeout))
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise RefusedTarget(f"'{url}' is not an http(s) URL")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            ip = self._address(parts.hostname, port)
            conn_type = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
            conn = conn_type(parts.hostname, ip, port, timeout)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                conn.request(method.upper(), path, body=body, headers=headers)
                resp = conn.getresponse()
                if resp.status in (301, 302, 303, 307, 308) and resp.getheader("location"):
                    url = urljoin(url, resp.getheader("location") or "")
                    if resp.status == 303:
                        method, body = "GET", None
                    continue
                raw = resp.read(self._max_bytes + 1)
            except (OSError, http.client.HTTPException) as exc:
                raise RefusedTarget(f"request to '{parts.hostname}' failed: {exc}") from exc
            finally:
                conn.close()
            if len(raw) > self._max_bytes:
                raise RefusedTarget(f"the reply from '{parts.hostname}' is larger than {self._max_bytes} bytes")
            charset = resp.headers.get_content_charset() or "utf-8"
            return HttpReply(status=resp.status, text=raw.decode(charset, errors="replace"))
        raise RefusedTarget(f"more than {MAX_REDIRECTS} redirects")
