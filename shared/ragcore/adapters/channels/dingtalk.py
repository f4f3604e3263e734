"""DingTalk (robot, HTTP mode): each message is signed in its headers, sign = base64(HMAC-SHA256(app secret,
timestamp + "\\n" + app secret)), with `timestamp` in milliseconds and no more than an hour from now. The answer is
posted to the message's sessionWebhook (a URL of DingTalk's API host, valid for a while), as markdown.

The message receiving URL is set in the DingTalk developer console (the robot's configuration, HTTP mode)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from ragcore.adapters.channels.common import Http, fresh, json_body, required, same
from ragcore.domain.channels import ChannelError, Inbound, Received, Rejected, WebhookRequest

WINDOW_S = 3600.0  # DingTalk's own rule for the signed timestamp
API_HOSTS = ("oapi.dingtalk.com", "api.dingtalk.com")


def sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkPlatform:
    kind = "dingtalk"
    max_text = 5000

    def __init__(self, credential: dict[str, Any], http: Http, base: str) -> None:
        self._client_id, self._secret = required(credential, "client_id", "client_secret")
        if not (self._client_id and self._secret):
            raise ChannelError("DingTalk channels need config.credential.client_id and client_secret (the app's "
                               "AppKey and AppSecret).")
        self._http = http
        # answers go only to DingTalk's API hosts (the configured base's host, for a gateway or a test fake)
        self._hosts = {*API_HOSTS, (urlsplit(base).hostname or "").lower()}

    def receive(self, request: WebhookRequest, now: float) -> Received:
        if request.method != "POST":
            raise Rejected("DingTalk delivers messages by POST", 405)
        timestamp = request.header("timestamp")
        if not same(request.header("sign"), sign(self._secret, timestamp)):
            raise Rejected("the sign header does not match")
        try:
            fresh(float(timestamp) / 1000, now, WINDOW_S)
        except ValueError:
            raise Rejected("the timestamp header is not a time") from None
        payload = json_body(request.body)
        if not isinstance(payload, dict):
            raise Rejected("not a DingTalk message", 400)
        text = str((payload.get("text") or {}).get("content") or "").strip()
        if payload.get("msgtype") != "text" or not text:
            return Received(content_type="text/plain", verified=True)
        inbound = Inbound(
            delivery_id=str(payload.get("msgId") or ""), chat_id=str(payload.get("conversationId") or ""),
            sender_id=str(payload.get("senderStaffId") or payload.get("senderId") or ""),
            message_id=str(payload.get("msgId") or ""), text=text,
            reply={"session_webhook": str(payload.get("sessionWebhook") or "")},
        )
        # an empty answer: a message in it would be posted to the conversation as the robot's reply
        return Received(content_type="text/plain", messages=(inbound,), verified=True)

    def send(self, message: Inbound, text: str) -> None:
        url = message.reply.get("session_webhook", "")
        if (urlsplit(url).hostname or "").lower() not in self._hosts:
            raise ChannelError("the message's sessionWebhook is not a DingTalk API URL")
        data = self._http.call("POST", url, {"msgtype": "markdown", "markdown": {"title": "RAGFlow", "text": text}})
        if isinstance(data, dict) and data.get("errcode") not in (0, None):
            raise ChannelError(f"DingTalk refused the reply: {str(data.get('errmsg') or '')[:200]}")

    def register(self, webhook_url: str) -> str:
        return ""

    def unregister(self) -> None:
        return None
