"""What a chat channel is in the store, which kinds deliver by webhook here (and why the others can't), and how its
credential is shown."""

from __future__ import annotations

import hashlib
from typing import Any

from ragcore.domain import kinds
from ragcore.services.models.names import mask_key

CHANNEL_KIND = kinds.CHAT_CHANNEL
STATE_KIND = kinds.CHANNEL_STATE
DELIVERY_KIND = kinds.CHANNEL_DELIVERY
# channel id → its tenant, for the one route without an API key (the webhook); claimed at create
OWNERS_TENANT = "_channels"
OWNER_SCOPE = "channel_owner"
SECRET_FIELD = "credential"  # config.credential, as RAGFlow's console sends it
WEBHOOK_SECRET = "_webhook_secret"  # ours, generated per channel (Telegram's secret token); never shown
TASK_TYPE = "channel_reply"

# the kinds whose platform delivers to a webhook, as their names appear in the reply's `channel`
WEBHOOK_KINDS = ("telegram", "discord", "feishu", "line", "whatsapp", "wecom", "dingtalk")
LONG_LIVED = ("a serverless deployment holds no long-lived connection (each function answers one request and "
              "stops), so a channel that must keep one open would never receive a message")
REFUSED = {
    "qqbot": f"QQ Bot channels receive messages over the QQ gateway's WebSocket connection; {LONG_LIVED}.",
}
# what RAGFlow's console offers without a runtime of its own either (it stores them and nothing answers)
CONSOLE_ONLY = ("clickclack", "googlechat", "irc", "matrix", "mattermost", "msteams", "nextcloud_talk", "nostr",
                "slack", "synology_chat", "tlon", "twitch", "yuanbao", "zalo", "zalouser")


def refusal(kind: Any) -> str | None:
    """Why a channel of this kind can't be created here (None when it can)."""
    if isinstance(kind, str) and kind in WEBHOOK_KINDS:
        return None
    if isinstance(kind, str) and kind in REFUSED:
        return REFUSED[kind]
    supported = ", ".join(WEBHOOK_KINDS)
    if isinstance(kind, str) and kind in CONSOLE_ONLY:
        return f"Channel '{kind}' has no runtime (RAGFlow's neither): supported channels are {supported}."
    return f"Channel {kind!r} is not supported: supported channels are {supported}."


def connection_refusal(kind: str, credential: dict[str, Any]) -> str | None:
    """A kind's connection mode that needs a long-lived connection."""
    mode = str(credential.get("connection_type") or "webhook").strip().lower()
    if kind == "wecom" and mode != "webhook":
        return f"WeCom's {mode} (long connection) mode needs a connection held open; {LONG_LIVED}. " \
               "Use connection_type webhook (the application's callback URL) instead."
    return None


# a credential's fields that name things rather than grant access: shown as they are
PUBLIC_FIELDS = frozenset({"app_id", "application_id", "public_key", "domain", "connection_type", "corp_id", "agent_id",
                           "phone_number_id", "client_id", "bot_id", "base_url"})


def masked(credential: dict[str, Any]) -> dict[str, Any]:
    """A credential as shown: its secrets masked, our own fields left out."""
    return {k: (mask_key(v) if isinstance(v, str) and k not in PUBLIC_FIELDS else v) for k, v in credential.items()
            if not k.startswith("_")}


def merged(sent: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    """A credential a client sends back: a value still equal to its masked form keeps the stored one (an edit sends
    back what GET showed); our own fields are kept."""
    out = {k: (kept[k] if isinstance(v, str) and isinstance(kept.get(k), str) and v == mask_key(kept[k]) else v)
           for k, v in sent.items() if not k.startswith("_")}
    return {**out, **{k: v for k, v in kept.items() if k.startswith("_")}}


def _hex32(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def session_id(chat_id: str, channel_id: str, peer: str) -> str:
    """The session of one end-user chat on a channel: the same id for every message (RAGFlow's
    get_or_create_for_channel: SHA-256 of dialog id, channel id and the platform's chat id), so a re-bound channel
    starts new sessions under the new chat."""
    return _hex32(f"{chat_id}:{channel_id}:{peer}")


def delivery_key(channel_id: str, delivery_id: str) -> str:
    return _hex32(f"{channel_id}:{delivery_id}")


def webhook_url(base: str, channel_id: str) -> str:
    return f"{base.rstrip('/')}/api/v1/chat-channels/{channel_id}/webhook"
