"""What a chat channel's platform gives the channels area: a webhook delivery checked and read, a reply sent, the
webhook registered where the platform allows it.

The channels area (ragcore.services.channels) speaks only this; each platform (Telegram, Discord, Feishu / Lark,
LINE, WhatsApp Cloud API, WeCom, DingTalk) is an adapter in ragcore.adapters.channels that implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class ChannelError(Exception):
    """The platform refused or failed, in words a user can act on (never holding a credential)."""


class Rejected(Exception):
    """A delivery that is not the platform's (bad or missing signature, wrong token, stale timestamp): answered with
    `status` and logged, never read further."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class Inbound:
    """One user message to answer."""

    delivery_id: str  # the platform's id of this delivery (update, event, interaction or message id): claimed once
    chat_id: str  # the conversation on the platform (a chat, channel, group or user)
    sender_id: str
    message_id: str
    text: str
    reply: dict[str, str] = field(default_factory=dict)  # what answering needs besides the credentials (tokens)

    def as_task(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "chat_id": self.chat_id, "sender_id": self.sender_id,
                "message_id": self.message_id, "text": self.text, "reply": dict(self.reply)}

    @classmethod
    def from_task(cls, raw: dict[str, Any]) -> Inbound:
        return cls(str(raw["delivery_id"]), str(raw.get("chat_id") or ""), str(raw.get("sender_id") or ""),
                   str(raw.get("message_id") or ""), str(raw.get("text") or ""),
                   {str(k): str(v) for k, v in (raw.get("reply") or {}).items()})


@dataclass(frozen=True)
class Received:
    """The platform's answer to the delivery (sent at once) and the messages it carried."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    messages: tuple[Inbound, ...] = ()
    verified: bool = False  # a verification handshake (URL check, PING) succeeded: the webhook is set up


class Platform(Protocol):
    kind: str
    max_text: int  # the longest message the platform takes, in characters

    def receive(self, request: WebhookRequest, now: float) -> Received:
        """Checks the delivery's signature (or token) first, then reads it; raises Rejected."""
        ...

    def send(self, message: Inbound, text: str) -> None:
        """The answer, in the message's thread where the platform allows it; raises ChannelError."""
        ...

    def register(self, webhook_url: str) -> str:
        """Points the platform at webhook_url where its API allows it: what was done, or "" when the platform's
        console is the only way (the first verified delivery then shows the webhook works); raises ChannelError."""
        ...

    def unregister(self) -> None:
        """Stops the platform delivering (best effort, where its API allows it); raises ChannelError."""
        ...


# (channel kind, its credential) -> the platform; raises ChannelError for a credential it can't use
PlatformFactory = Callable[[str, dict[str, Any]], Platform]
