"""WhatsApp Cloud API (Meta webhooks): the subscription check is a GET answered with hub.challenge when
hub.verify_token matches; each delivery is signed, X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(app secret,
body)). Messages to another phone number of the same Meta app are not this channel's. The answer is a text message
in reply to the user's (context.message_id). The callback URL is set in the Meta app's WhatsApp configuration."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ragcore.adapters.channels.common import Http, json_body, required, same
from ragcore.domain.channels import ChannelError, Inbound, Received, Rejected, WebhookRequest


class WhatsAppPlatform:
    kind = "whatsapp"
    max_text = 4096

    def __init__(self, credential: dict[str, Any], http: Http, base: str) -> None:
        self._token, self._phone, self._secret, self._verify = required(
            credential, "access_token", "phone_number_id", "app_secret", "verify_token")
        if not (self._token and self._phone and self._secret and self._verify):
            raise ChannelError("WhatsApp channels here use the WhatsApp Cloud API: config.credential needs "
                               "access_token, phone_number_id, app_secret and verify_token (a phrase of your "
                               "choosing, given again in the Meta app's webhook configuration).")
        self._http = http
        self._base = base.rstrip("/")

    def receive(self, request: WebhookRequest, now: float) -> Received:
        if request.method == "GET":
            if request.query.get("hub.mode") != "subscribe" or not same(request.query.get("hub.verify_token", ""),
                                                                        self._verify):
                raise Rejected("hub.verify_token does not match", 403)
            return Received(body=request.query.get("hub.challenge", "").encode(), content_type="text/plain",
                            verified=True)
        expected = "sha256=" + hmac.new(self._secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not same(request.header("X-Hub-Signature-256"), expected):
            raise Rejected("X-Hub-Signature-256 does not match")
        payload = json_body(request.body)
        if not isinstance(payload, dict) or not isinstance(payload.get("entry", []), list):
            raise Rejected("not a WhatsApp webhook", 400)
        messages = []
        for entry in payload.get("entry", []):
            for change in (entry or {}).get("changes") or []:
                value = (change or {}).get("value") or {}
                if (value.get("metadata") or {}).get("phone_number_id") != self._phone:
                    continue
                for message in value.get("messages") or []:
                    text = str(((message or {}).get("text") or {}).get("body") or "")
                    if message.get("type") != "text" or not text.strip():
                        continue
                    messages.append(Inbound(delivery_id=str(message.get("id") or ""), chat_id=str(message.get("from") or ""),
                                            sender_id=str(message.get("from") or ""),
                                            message_id=str(message.get("id") or ""), text=text))
        return Received(body=b"{}", messages=tuple(messages), verified=True)

    def send(self, message: Inbound, text: str) -> None:
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.chat_id,
                                   "type": "text", "text": {"preview_url": False, "body": text}}
        if message.message_id:
            payload["context"] = {"message_id": message.message_id}
        self._http.call("POST", f"{self._base}/{self._phone}/messages", payload,
                        {"Authorization": f"Bearer {self._token}"})

    def register(self, webhook_url: str) -> str:
        return ""

    def unregister(self) -> None:
        return None
