"""Feishu / Lark (event subscription over HTTP): with an Encrypt Key, each event is signed —
X-Lark-Signature = hex(SHA-256(X-Lark-Request-Timestamp + X-Lark-Request-Nonce + encrypt key + body)) — and
encrypted: {"encrypt": base64(IV || AES-256-CBC(SHA-256(encrypt key), IV, JSON))}. The Verification Token inside
the event is checked either way; the URL check (type url_verification) is answered with its challenge once its
token matches. The answer is a reply to the user's message (im/v1/messages/:id/reply) with a tenant access token.

The Request URL is set in the developer console (Events & Callbacks); the platform has no API for it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from ragcore.adapters.channels.common import Http, aes_cbc_decrypt, fresh, json_body, pkcs7_unpad, required, same
from ragcore.domain.channels import ChannelError, Inbound, Received, Rejected, WebhookRequest

WINDOW_S = 3600.0  # Feishu retries a failed delivery for a while; a replay inside the window is a known event id
MENTION = re.compile(r"@_user_\d+\s*")


def decrypt(encrypt_key: str, encrypted: str) -> bytes:
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except ValueError:
        raise Rejected("the encrypted event is not base64", 400) from None
    if len(raw) < 32:
        raise Rejected("the encrypted event is malformed", 400)
    key = hashlib.sha256(encrypt_key.encode()).digest()
    return pkcs7_unpad(aes_cbc_decrypt(key, raw[:16], raw[16:]), 16)


class FeishuPlatform:
    kind = "feishu"
    max_text = 30000

    def __init__(self, credential: dict[str, Any], http: Http, bases: dict[str, str]) -> None:
        self._app_id, self._app_secret, self._token, self._encrypt_key, domain = required(
            credential, "app_id", "app_secret", "verification_token", "encrypt_key", "domain")
        if not (self._app_id and self._app_secret and self._token):
            raise ChannelError("Feishu / Lark channels need config.credential.app_id, app_secret and "
                               "verification_token (Events & Callbacks: Verification Token); encrypt_key is optional.")
        if domain not in ("", "feishu", "lark"):
            raise ChannelError("config.credential.domain must be feishu or lark.")
        self._http = http
        self._base = bases["lark" if domain == "lark" else "feishu"].rstrip("/")

    def _signed(self, request: WebhookRequest, now: float) -> bool:
        """True when the request carries a valid signature; raises when it carries a wrong one or none is due."""
        signature = request.header("X-Lark-Signature")
        if not signature:
            return False
        timestamp, nonce = request.header("X-Lark-Request-Timestamp"), request.header("X-Lark-Request-Nonce")
        expected = hashlib.sha256((timestamp + nonce + self._encrypt_key).encode() + request.body).hexdigest()
        if not same(signature, expected):
            raise Rejected("X-Lark-Signature does not match")
        try:
            fresh(float(timestamp), now, WINDOW_S)
        except ValueError:
            raise Rejected("X-Lark-Request-Timestamp is not a time") from None
        return True

    def receive(self, request: WebhookRequest, now: float) -> Received:
        if request.method != "POST":
            raise Rejected("Feishu delivers events by POST", 405)
        signed = bool(self._encrypt_key) and self._signed(request, now)
        payload = json_body(request.body)
        if not isinstance(payload, dict):
            raise Rejected("not a Feishu event", 400)
        if self._encrypt_key:
            if not isinstance(payload.get("encrypt"), str):
                raise Rejected("the event is not encrypted although the channel has an encrypt key")
            payload = json_body(decrypt(self._encrypt_key, payload["encrypt"]))
            if not isinstance(payload, dict):
                raise Rejected("not a Feishu event", 400)
        header: dict[str, Any] = payload["header"] if isinstance(payload.get("header"), dict) else {}
        token = str(header.get("token") or payload.get("token") or "")
        if not same(token, self._token):
            raise Rejected("the verification token does not match")
        if payload.get("type") == "url_verification":
            return Received(body=json.dumps({"challenge": str(payload.get("challenge", ""))}).encode(), verified=True)
        if self._encrypt_key and not signed:  # only the URL check comes unsigned
            raise Rejected("X-Lark-Signature is missing")
        return Received(body=b"{}", messages=self._messages(header, payload.get("event") or {}), verified=True)

    @staticmethod
    def _messages(header: dict[str, Any], event: dict[str, Any]) -> tuple[Inbound, ...]:
        if header.get("event_type") != "im.message.receive_v1" or not isinstance(event, dict):
            return ()
        message, sender = event.get("message") or {}, event.get("sender") or {}
        if message.get("message_type") != "text" or sender.get("sender_type") not in (None, "user"):
            return ()
        try:
            content = json.loads(message.get("content") or "{}")
        except ValueError:
            return ()
        text = MENTION.sub("", str(content.get("text") or "") if isinstance(content, dict) else "").strip()
        if not text:
            return ()
        return (Inbound(delivery_id=str(header.get("event_id") or message.get("message_id") or ""),
                        chat_id=str(message.get("chat_id") or ""),
                        sender_id=str((sender.get("sender_id") or {}).get("open_id") or ""),
                        message_id=str(message.get("message_id") or ""), text=text),)

    def _tenant_token(self) -> str:
        data = self._http.call("POST", f"{self._base}/open-apis/auth/v3/tenant_access_token/internal",
                               {"app_id": self._app_id, "app_secret": self._app_secret})
        token = data.get("tenant_access_token") if isinstance(data, dict) else None
        if data.get("code") != 0 or not isinstance(token, str):
            raise ChannelError(f"Feishu refused the app credentials: {str(data.get('msg') or 'no reason given')[:200]}")
        return token

    def send(self, message: Inbound, text: str) -> None:
        headers = {"Authorization": f"Bearer {self._tenant_token()}"}
        content = json.dumps({"text": text}, ensure_ascii=False)
        if message.message_id:
            url = f"{self._base}/open-apis/im/v1/messages/{message.message_id}/reply"
            data = self._http.call("POST", url, {"msg_type": "text", "content": content}, headers)
        else:
            url = f"{self._base}/open-apis/im/v1/messages?receive_id_type=chat_id"
            data = self._http.call("POST", url, {"receive_id": message.chat_id, "msg_type": "text", "content": content},
                                   headers)
        if not isinstance(data, dict) or data.get("code") != 0:
            raise ChannelError(f"Feishu refused the reply: {str((data or {}).get('msg') or 'no reason given')[:200]}")

    def register(self, webhook_url: str) -> str:
        return ""

    def unregister(self) -> None:
        return None
