"""WeCom (self-built application, callback mode): WeCom's message crypto (WXBizMsgCrypt). Every callback is signed,
msg_signature = hex(SHA-1(sorted(token, timestamp, nonce, ciphertext) joined)); the ciphertext is
base64(AES-256-CBC(key = base64(EncodingAESKey + "="), IV = key[:16], random(16) || len(4, big-endian) || message ||
corp id)) with PKCS#7 padding to 32 bytes. The URL check is a GET whose echostr is decrypted and sent back. The
answer is an application message to the user (cgi-bin/message/send) with an access token from the app's secret.

The callback URL is set in the WeCom admin console (the application's API receive settings)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

from ragcore.adapters.channels.common import Http, aes_cbc_decrypt, fresh, pkcs7_unpad, required, same
from ragcore.domain.channels import ChannelError, Inbound, Received, Rejected, WebhookRequest

WINDOW_S = 3600.0
MAX_BYTES = 4096  # a markdown message's content, in UTF-8 bytes
ENCRYPT = re.compile(rb"<Encrypt>\s*(?:<!\[CDATA\[)?([A-Za-z0-9+/=\s]+?)(?:\]\]>)?\s*</Encrypt>")


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def decrypt(aes_key: bytes, encrypted: str, receive_id: str) -> bytes:
    try:
        raw = base64.b64decode(encrypted)
    except (ValueError, binascii.Error):
        raise Rejected("the encrypted message is not base64", 400) from None
    plain = pkcs7_unpad(aes_cbc_decrypt(aes_key, aes_key[:16], raw), 32)
    if len(plain) < 20:
        raise Rejected("the encrypted message is malformed", 400)
    (size,) = struct.unpack(">I", plain[16:20])
    message, corp = plain[20:20 + size], plain[20 + size:]
    if corp.decode(errors="replace") != receive_id:
        raise Rejected("the message is for another corp id")
    return message


class WeComPlatform:
    kind = "wecom"
    max_text = MAX_BYTES

    def __init__(self, credential: dict[str, Any], http: Http, base: str) -> None:
        self._corp, agent, self._secret, self._token, aes_key = required(
            credential, "corp_id", "agent_id", "secret", "token", "aes_key")
        if not (self._corp and agent and self._secret and self._token and aes_key):
            raise ChannelError("WeCom channels need config.credential.corp_id, agent_id, secret, token and aes_key "
                               "(the application's API receive settings).")
        if not agent.isdigit():
            raise ChannelError("config.credential.agent_id must be the application's AgentId (a number).")
        if len(aes_key) != 43:
            raise ChannelError(f"config.credential.aes_key (EncodingAESKey) must be 43 characters, got {len(aes_key)}.")
        try:
            self._key = base64.b64decode(aes_key + "=")
        except (ValueError, binascii.Error):
            raise ChannelError("config.credential.aes_key is not an EncodingAESKey.") from None
        self._agent = int(agent)
        self._http = http
        self._base = base.rstrip("/")

    def _checked(self, request: WebhookRequest, encrypted: str, now: float) -> bytes:
        timestamp, nonce = request.query.get("timestamp", ""), request.query.get("nonce", "")
        if not same(request.query.get("msg_signature", ""), signature(self._token, timestamp, nonce, encrypted)):
            raise Rejected("msg_signature does not match")
        try:
            fresh(float(timestamp), now, WINDOW_S)
        except ValueError:
            raise Rejected("timestamp is not a time") from None
        return decrypt(self._key, encrypted, self._corp)

    def receive(self, request: WebhookRequest, now: float) -> Received:
        if request.method == "GET":
            echo = self._checked(request, request.query.get("echostr", ""), now)
            return Received(body=echo, content_type="text/plain", verified=True)
        found = ENCRYPT.search(request.body[:65536])
        if found is None:
            raise Rejected("the callback holds no Encrypt element", 400)
        message = ET.fromstring(self._checked(request, found.group(1).decode().strip(), now))
        fields = {child.tag: (child.text or "") for child in message}
        if fields.get("AgentID") not in (None, "", str(self._agent)):
            raise Rejected("the message is for another application")
        text = fields.get("Content", "").strip()
        if fields.get("MsgType") != "text" or not text or not fields.get("FromUserName"):
            return Received(content_type="text/plain", verified=True)
        user = fields["FromUserName"]
        inbound = Inbound(delivery_id=fields.get("MsgId") or f"{user}:{fields.get('CreateTime', '')}", chat_id=user,
                          sender_id=user, message_id=fields.get("MsgId", ""), text=text)
        return Received(content_type="text/plain", messages=(inbound,), verified=True)

    def _access_token(self) -> str:
        data = self._http.call("GET", f"{self._base}/cgi-bin/gettoken?corpid={quote(self._corp)}"
                                      f"&corpsecret={quote(self._secret)}")
        if not isinstance(data, dict) or data.get("errcode") not in (0, None) or not data.get("access_token"):
            raise ChannelError(f"WeCom refused the application's secret: {str(data.get('errmsg') or '')[:200]}")
        return str(data["access_token"])

    def send(self, message: Inbound, text: str) -> None:
        content = text.encode()[:MAX_BYTES].decode(errors="ignore")
        data = self._http.call("POST", f"{self._base}/cgi-bin/message/send?access_token={quote(self._access_token())}",
                               {"touser": message.chat_id, "msgtype": "markdown", "agentid": self._agent,
                                "markdown": {"content": content}})
        if not isinstance(data, dict) or data.get("errcode") not in (0, None):
            raise ChannelError(f"WeCom refused the message: {str(data.get('errmsg') or '')[:200]}")

    def register(self, webhook_url: str) -> str:
        return ""

    def unregister(self) -> None:
        return None
