"""What every platform adapter shares: JSON calls through the channel guard (errors that never hold a token or the
URL it rode in), constant-time comparisons, AES-CBC and PKCS#7 for the platforms that encrypt their deliveries."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ragcore.domain.channels import ChannelError, Rejected
from ragcore.ports import HttpFetch

# the platforms' API roots; CHANNEL_API_BASE_URLS replaces any of them (a gateway, the tests' loopback fakes)
DEFAULT_BASES = {
    "telegram": "https://api.telegram.org",
    "discord": "https://discord.com/api/v10",
    "feishu": "https://open.feishu.cn",
    "lark": "https://open.larksuite.com",
    "line": "https://api.line.me",
    "whatsapp": "https://graph.facebook.com/v21.0",
    "wecom": "https://qyapi.weixin.qq.com",
    "dingtalk": "https://oapi.dingtalk.com",
}


@dataclass(frozen=True)
class Http:
    """JSON over the channel guard, for one platform."""

    fetch: HttpFetch
    platform: str  # named in errors
    timeout_s: float

    def call(self, method: str, url: str, payload: Any = None, headers: dict[str, str] | None = None,
             ok_statuses: tuple[int, ...] = (200, 201, 204)) -> Any:
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        sent = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json", **(headers or {})}
        try:
            reply = self.fetch(method, url, sent, body, self.timeout_s)
        except ValueError as exc:  # the guard's refusal or a connection failure: named by host, never by the path
            host = urlsplit(url).hostname or "the platform"  # (Telegram's path holds the bot token)
            raise ChannelError(f"{self.platform}: {str(exc).replace(url, host)}") from None
        try:
            data = json.loads(reply.text) if reply.text.strip() else {}
        except ValueError:
            data = {}
        if reply.status not in ok_statuses:
            raise ChannelError(f"{self.platform} answered HTTP {reply.status}{_detail(data)}")
        return data


def _detail(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    for key in ("description", "message", "msg", "errmsg", "error_description"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return f": {value[:200]}"
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return f": {error['message'][:200]}"
    return ""


def same(given: str, expected: str) -> bool:
    """A secret compared in constant time (an empty expected value never matches)."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def json_body(body: bytes) -> Any:
    """A verified delivery's JSON (one that is not JSON is refused, not an error of ours)."""
    try:
        return json.loads(body)
    except ValueError:
        raise Rejected("the body is not JSON", 400) from None


def fresh(timestamp: float, now: float, window_s: float) -> None:
    """A signed timestamp must be within window_s of now (replays of an old delivery are refused)."""
    if abs(now - timestamp) > window_s:
        raise Rejected(f"the signed timestamp is more than {int(window_s)} s away from now")


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    if not data or len(data) % 16:
        raise Rejected("the encrypted payload is malformed", 400)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def pkcs7_unpad(data: bytes, block: int) -> bytes:
    pad = data[-1] if data else 0
    if not 1 <= pad <= block or data[-pad:] != bytes([pad]) * pad:
        raise Rejected("the encrypted payload is malformed", 400)
    return data[:-pad]


def required(credential: dict[str, Any], *names: str) -> list[str]:
    return [str(credential.get(n) or "").strip() for n in names]
