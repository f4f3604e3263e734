"""A platform's delivery on a channel's public webhook route: the platform checks its signature (or token) before
anything of it is read, each message it carries is claimed once in the store (its update, event, interaction or
message id: a platform's retry or a replay is answered and dropped), queued for an answer, and the platform gets its
acknowledgement at once — within its deadline, whatever the answer takes. A refused delivery is logged and counted
in the channel's runtime; nothing of it is kept."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ragcore.domain.channels import ChannelError, Received, Rejected, WebhookRequest
from ragcore.ids import now_ms
from ragcore.ports import JobQueue, MetadataStore
from ragcore.services.channels.model import CHANNEL_KIND, DELIVERY_KIND, TASK_TYPE, delivery_key
from ragcore.services.channels.service import ChannelService

log = logging.getLogger("ragcore.channels")

NO_CHAT = "A message arrived, but no chat assistant is connected to this channel."


class UnknownChannel(Exception):
    """No channel has this id (or it was deleted): the route answers 404."""


def _refusal(status: int, reason: str) -> Received:
    return Received(status=status, body=json.dumps({"code": status, "message": reason}).encode())


class ChannelWebhooks:
    def __init__(self, store: MetadataStore, channels: ChannelService, queue: Callable[[], JobQueue]) -> None:
        self._store = store
        self._channels = channels
        self._queue = queue

    def handle(self, channel_id: str, request: WebhookRequest) -> Received:
        tenant = self._channels.owner(channel_id)
        channel = self._store.get(CHANNEL_KIND, tenant, channel_id) if tenant else None
        if tenant is None or channel is None:
            raise UnknownChannel(channel_id)
        kind = channel["channel"]
        try:
            platform = self._channels.platform(channel)
        except ChannelError as exc:  # a credential stored before a rule it breaks: nothing can be checked
            self._channels.state.failed(tenant, channel_id, str(exc))
            return _refusal(503, "the channel's credential can't be used")
        try:
            received = platform.receive(request, time.time())
        except Rejected as refused:
            log.warning("chat channel %s (%s): delivery refused (HTTP %s): %s", channel_id, kind, refused.status,
                        refused.reason)
            self._channels.state.rejected(tenant, channel_id, refused.reason)
            return _refusal(refused.status, refused.reason)
        state = self._channels.state.get(tenant, channel_id)
        if received.verified:
            self._channels.state.verified(tenant, channel_id, state)
        if not received.messages:
            return received
        if not channel.get("chat_id"):
            log.info("chat channel %s (%s): no chat assistant connected; message ignored", channel_id, kind)
            self._channels.state.failed(tenant, channel_id, NO_CHAT)
            return received
        accepted = duplicates = 0
        for message in received.messages:
            key = delivery_key(channel_id, message.delivery_id)
            claim = {"id": key, "delivery_id": message.delivery_id, "status": "queued", "create_time": now_ms()}
            if not message.delivery_id or not self._store.put(DELIVERY_KIND, tenant, claim, parent=channel_id,
                                                               if_absent=True):
                log.info("chat channel %s (%s): delivery %s seen before; not answered again", channel_id, kind,
                         message.delivery_id)
                duplicates += 1
                continue
            try:
                self._queue().submit(self._task(tenant, channel_id, key, message.as_task()))
            except Exception:
                self._store.delete(DELIVERY_KIND, tenant, key)  # unclaimed: the platform's retry is answered
                raise
            accepted += 1
        self._channels.state.delivered(tenant, channel_id, accepted, duplicates)
        return received

    @staticmethod
    def _task(tenant: str, channel_id: str, key: str, message: dict[str, Any]) -> dict[str, Any]:
        return {"type": TASK_TYPE, "tenant": tenant, "channel_id": channel_id, "delivery": key, "message": message}
