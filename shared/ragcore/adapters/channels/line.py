"""LINE (Messaging API webhook): X-Line-Signature = base64(HMAC-SHA256(channel secret, body)); each event carries a
webhookEventId (the same on a redelivery). The answer uses the event's reply token (single use, valid about a
minute); once that has expired it is pushed to the user, group or room instead, with a retry key so a retried push
is delivered once. Registering sets the channel's webhook endpoint URL through the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

from ragcore.adapters.channels.common import Http, json_body, required, same
from ragcore.domain.channels import ChannelError, Inbound, Received, Rejected, WebhookRequest


def _chat_of(source: dict[str, Any]) -> str:
    return str(source.get("groupId") or source.get("roomId") or source.get("userId") or "")


class LinePlatform:
    kind = "line"
    max_text = 5000

    def __init__(self, credential: dict[str, Any], http: Http, base: str) -> None:
        self._secret, self._token = required(credential, "channel_secret", "channel_access_token")
        if not (self._secret and self._token):
            raise ChannelError("LINE channels need config.credential.channel_secret and channel_access_token "
                               "(LINE Developers console: Basic settings, Messaging API).")
        self._http = http
        self._base = base.rstrip("/")

    def _auth(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", **(extra or {})}

    def receive(self, request: WebhookRequest, now: float) -> Received:
        if request.method != "POST":
            raise Rejected("LINE delivers events by POST", 405)
        expected = base64.b64encode(hmac.new(self._secret.encode(), request.body, hashlib.sha256).digest()).decode()
        if not same(request.header("X-Line-Signature"), expected):
            raise Rejected("X-Line-Signature does not match")
        payload = json_body(request.body)
        if not isinstance(payload, dict) or not isinstance(payload.get("events", []), list):
            raise Rejected("not a LINE webhook", 400)
        messages = []
        for event in payload.get("events", []):  # the console's Verify button sends none: it only checks the answer
            if not isinstance(event, dict) or event.get("type") != "message":
                continue
            content, source = event.get("message") or {}, event.get("source") or {}
            if content.get("type") != "text" or not str(content.get("text") or "").strip():
                continue
            messages.append(Inbound(
                delivery_id=str(event.get("webhookEventId") or content.get("id") or ""), chat_id=_chat_of(source),
                sender_id=str(source.get("userId") or ""), message_id=str(content.get("id") or ""),
                text=str(content["text"]), reply={"reply_token": str(event.get("replyToken") or "")},
            ))
        return Received(body=b"{}", messages=tuple(messages), verified=True)

    def send(self, message: Inbound, text: str) -> None:
        messages = [{"type": "text", "text": text}]
        token = message.reply.get("reply_token", "")
        if token:
            try:
                self._http.call("POST", f"{self._base}/v2/bot/message/reply", {"replyToken": token, "messages": messages},
                                self._auth())
                return
            except ChannelError:
                pass  # the reply token expired (the answer took longer than LINE keeps it): push instead
        if not message.chat_id:
            raise ChannelError("LINE named no user, group or room to answer")
        retry_key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"line:{message.delivery_id}"))
        self._http.call("POST", f"{self._base}/v2/bot/message/push", {"to": message.chat_id, "messages": messages},
                        self._auth({"X-Line-Retry-Key": retry_key}), ok_statuses=(200, 409))  # 409: pushed before

    def register(self, webhook_url: str) -> str:
        self._http.call("PUT", f"{self._base}/v2/bot/channel/webhook/endpoint", {"endpoint": webhook_url}, self._auth())
        return "the webhook URL is set (turn on Use webhook in the LINE console)"

    def unregister(self) -> None:
        return None  # LINE has no API to clear the URL; a deleted channel's deliveries are refused with 404
