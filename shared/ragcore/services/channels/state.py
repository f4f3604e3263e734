"""A channel's runtime as the runtime route reports it: the webhook's state, the last delivery, reply, refusal and
error, and counts. One item per channel, written as things happen (never computed by reading deliveries)."""

from __future__ import annotations

import time
from typing import Any

from ragcore.ports import MetadataStore
from ragcore.services.channels.model import STATE_KIND

COUNTS = ("deliveries", "duplicates", "replies", "rejected")


class ChannelState:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def create(self, tenant: str, channel_id: str) -> None:
        self._store.put(STATE_KIND, tenant, {
            "id": channel_id, "webhook_status": "pending", "webhook_note": "", "webhook_error": None,
            "connected_at": None, "last_delivery_at": None, "last_reply_at": None, "last_error": None,
            "last_error_at": None, "last_rejected_at": None, "last_rejected_reason": None, **dict.fromkeys(COUNTS, 0),
        })

    def get(self, tenant: str, channel_id: str) -> dict[str, Any]:
        return self._store.get(STATE_KIND, tenant, channel_id) or {"id": channel_id, "webhook_status": "pending"}

    def delete(self, tenant: str, channel_id: str) -> None:
        self._store.delete(STATE_KIND, tenant, channel_id)

    def _set(self, tenant: str, channel_id: str, changes: dict[str, Any], counts: dict[str, int] | None = None) -> None:
        if self._store.update(STATE_KIND, tenant, channel_id, changes) is None:  # a channel from before its state
            self.create(tenant, channel_id)
            self._store.update(STATE_KIND, tenant, channel_id, changes)
        if counts:
            self._store.increment(STATE_KIND, tenant, channel_id, counts)

    def webhook(self, tenant: str, channel_id: str, status: str, note: str = "", error: str | None = None) -> None:
        self._set(tenant, channel_id, {"webhook_status": status, "webhook_note": note, "webhook_error": error})

    def verified(self, tenant: str, channel_id: str, state: dict[str, Any]) -> None:
        """The platform's verification handshake (or a first signed delivery) came through."""
        if state.get("webhook_status") != "verified":
            self._set(tenant, channel_id, {"webhook_status": "verified", "webhook_error": None,
                                           "connected_at": state.get("connected_at") or time.time()})

    def delivered(self, tenant: str, channel_id: str, accepted: int, duplicates: int) -> None:
        self._set(tenant, channel_id, {"last_delivery_at": time.time()},
                  {k: v for k, v in (("deliveries", accepted), ("duplicates", duplicates)) if v})

    def rejected(self, tenant: str, channel_id: str, reason: str) -> None:
        self._set(tenant, channel_id, {"last_rejected_at": time.time(), "last_rejected_reason": reason}, {"rejected": 1})

    def replied(self, tenant: str, channel_id: str) -> None:
        self._set(tenant, channel_id, {"last_reply_at": time.time()}, {"replies": 1})

    def failed(self, tenant: str, channel_id: str, error: str) -> None:
        self._set(tenant, channel_id, {"last_error": error[:500], "last_error_at": time.time()})

    def view(self, channel: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """RAGFlow's runtime snapshot (its WhatsApp gateway's fields, empty where a webhook has none) and ours."""
        errored_at = state.get("last_error_at") or 0
        if state.get("webhook_status") == "error" or errored_at > (state.get("last_reply_at") or 0):
            status = "error"
        elif state.get("webhook_status") in ("registered", "verified") or state.get("deliveries"):
            status = "connected"
        else:
            status = "waiting"
        return {
            "account_id": channel["id"], "session_key": channel["id"], "status": status,
            "connected_at": state.get("connected_at"), "qr_updated_at": None, "qr_data_url": None,
            "last_error": state.get("last_error") or state.get("webhook_error"), "session_id": None,
            "last_snapshot_at": time.time(), "gateway_base_url": None, "event_cursor": int(state.get("deliveries") or 0),
            "channel": channel.get("channel"), "webhook_url": channel.get("webhook_url"),
            "webhook_status": state.get("webhook_status"), "webhook_note": state.get("webhook_note") or "",
            "webhook_error": state.get("webhook_error"), "last_delivery_at": state.get("last_delivery_at"),
            "last_reply_at": state.get("last_reply_at"), "last_error_at": state.get("last_error_at"),
            "last_rejected_at": state.get("last_rejected_at"), "last_rejected_reason": state.get("last_rejected_reason"),
            **{k: int(state.get(k) or 0) for k in COUNTS},
        }
