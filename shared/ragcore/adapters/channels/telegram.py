"""Telegram (Bot API): setWebhook with a secret token; each update arrives with the token in
X-Telegram-Bot-Api-Secret-Token; the answer is a sendMessage replying to the user's message."""

from __future__ import annotations

from typing import Any

from ragcore.adapters.channels.common import Http, json_body, required, same
from ragcore.domain.channels import ChannelError, Inbound, Received, Rejected, WebhookRequest

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramPlatform:
    kind = "telegram"
    max_text = 4096

    def __init__(self, credential: dict[str, Any], http: Http, base: str) -> None:
        self._token, self._secret = required(credential, "token", "_webhook_secret")
        if not self._token:
            raise ChannelError("Telegram channels need config.credential.token (the bot token from @BotFather).")
        self._http = http
        self._api = f"{base.rstrip('/')}/bot{self._token}"

    def _method(self, name: str, payload: dict[str, Any]) -> Any:
        data = self._http.call("POST", f"{self._api}/{name}", payload, ok_statuses=(200,))
        if not isinstance(data, dict) or data.get("ok") is not True:
            raise ChannelError(f"Telegram refused {name}: {str((data or {}).get('description') or 'no reason given')[:200]}")
        return data.get("result")

    def receive(self, request: WebhookRequest, now: float) -> Received:
        if request.method != "POST":
            raise Rejected("Telegram delivers updates by POST", 405)
        if not same(request.header(SECRET_HEADER), self._secret):
            raise Rejected(f"{SECRET_HEADER} is missing or wrong")
        update = json_body(request.body)
        if not isinstance(update, dict) or "update_id" not in update:
            raise Rejected("not a Telegram update", 400)
        message = update.get("message")
        if not isinstance(message, dict):
            return Received(body=b"{}")  # edits, reactions, member changes: nothing to answer
        sender = message.get("from") or {}
        text = message.get("text") or message.get("caption") or ""
        if sender.get("is_bot") or not isinstance(text, str) or not text.strip():
            return Received(body=b"{}")
        inbound = Inbound(delivery_id=str(update["update_id"]), chat_id=str((message.get("chat") or {}).get("id", "")),
                          sender_id=str(sender.get("id", "")), message_id=str(message.get("message_id", "")), text=text)
        return Received(body=b"{}", messages=(inbound,))

    def send(self, message: Inbound, text: str) -> None:
        payload: dict[str, Any] = {"chat_id": message.chat_id, "text": text,
                                   "link_preview_options": {"is_disabled": True}}
        if message.message_id.isdigit():
            payload["reply_parameters"] = {"message_id": int(message.message_id), "allow_sending_without_reply": True}
        self._method("sendMessage", payload)

    def register(self, webhook_url: str) -> str:
        self._method("setWebhook", {"url": webhook_url, "secret_token": self._secret, "allowed_updates": ["message"]})
        return "setWebhook accepted the channel's webhook URL"

    def unregister(self) -> None:
        self._method("deleteWebhook", {})
