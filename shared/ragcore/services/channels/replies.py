"""A queued delivery answered (a `channel_reply` task the ingestion worker hands on): the channel's chat assistant
answers the message as RAGFlow's channel handler does — in one session per end-user chat, with the session's
history — and the answer goes back in the platform's thread, citations as footnotes. A task the queue delivers again
finds its delivery answered and does nothing; a model's failure is answered as RAGFlow answers it ("**ERROR**: …")."""

from __future__ import annotations

import logging
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.channels import ChannelError, Inbound
from ragcore.errors import ApiError, ProviderError
from ragcore.ports import MetadataStore
from ragcore.services.channels.model import CHANNEL_KIND, DELIVERY_KIND, session_id
from ragcore.services.channels.render import render
from ragcore.services.channels.service import ChannelService
from ragcore.services.conversation.chats import ChatService
from ragcore.services.conversation.completion import CompletionService, new_message_id

log = logging.getLogger("ragcore.channels")

GONE_CHAT = "The connected chat assistant no longer exists."


class ChannelReplies:
    def __init__(self, store: MetadataStore, channels: ChannelService, chats: ChatService,
                 completion: CompletionService) -> None:
        self._store = store
        self._channels = channels
        self._chats = chats
        self._completion = completion

    def handle(self, task: dict[str, Any]) -> None:
        tenant, channel_id, key = str(task["tenant"]), str(task["channel_id"]), str(task["delivery"])
        channel = self._store.get(CHANNEL_KIND, tenant, channel_id)
        delivery = self._store.get(DELIVERY_KIND, tenant, key)
        if channel is None or delivery is None or delivery.get("status") != "queued":
            return  # deleted since, or answered already (the queue delivers a task at least once)
        self._store.update(DELIVERY_KIND, tenant, key, {"status": "answering"})
        try:
            self._reply(tenant, channel, key, Inbound.from_task(task["message"]))
        except Exception:  # the store or the worker failed, not the platform: queued again, the queue's retry answers
            self._store.update(DELIVERY_KIND, tenant, key, {"status": "queued"})
            raise

    def _reply(self, tenant: str, channel: dict[str, Any], key: str, message: Inbound) -> None:
        channel_id = channel["id"]
        chat = self._store.get(kinds.CHAT, tenant, str(channel.get("chat_id") or "")) if channel.get("chat_id") else None
        if chat is None:  # the channel's tenant's chat, or none: never another tenant's
            self._finish(tenant, channel_id, key, "failed", GONE_CHAT)
            return
        answer, reference = self._answer(tenant, channel, chat, message)
        try:
            platform = self._channels.platform(channel)
            platform.send(message, render(answer, reference, platform.max_text))
        except ChannelError as exc:
            log.warning("chat channel %s (%s): answer to delivery %s not sent: %s", channel_id, channel["channel"],
                        message.delivery_id, exc)
            self._finish(tenant, channel_id, key, "failed", f"The answer was not sent: {exc}")
            return
        self._finish(tenant, channel_id, key, "answered")

    def _answer(self, tenant: str, channel: dict[str, Any], chat: dict[str, Any],
                message: Inbound) -> tuple[str, dict[str, Any]]:
        sid = session_id(chat["id"], channel["id"], message.chat_id)
        session = self._chats.channel_session(tenant, chat["id"], sid, f"channel:{channel['id']}:{message.chat_id}")
        history = [{"role": m["role"], "content": m["content"]} for m in session.get("messages", [])
                   if m.get("role") in ("user", "assistant") and m.get("id")]
        try:
            turn = self._completion.prepare(tenant, chat, message.text, history)
            answer, _ = self._completion.complete(turn)
        except (ProviderError, ApiError) as exc:
            error = exc.message if isinstance(exc, ApiError) else str(exc)
            log.warning("chat channel %s: the chat assistant failed: %s", channel["id"], error)
            self._channels.state.failed(tenant, channel["id"], f"The chat assistant failed: {error}")
            return f"**ERROR**: {error}", {}
        self._completion.remember(tenant, sid, turn, answer, new_message_id())
        return answer, turn.reference

    def _finish(self, tenant: str, channel_id: str, key: str, status: str, error: str | None = None) -> None:
        self._store.update(DELIVERY_KIND, tenant, key, {"status": status})
        if error is None:
            self._channels.state.replied(tenant, channel_id)
        else:
            self._channels.state.failed(tenant, channel_id, error)
