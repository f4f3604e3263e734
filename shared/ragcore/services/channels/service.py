"""RAGFlow's chat channel API (api/apps/restful_apis/chat_channel_api.py) over the store: a tenant's channels, each a
bot on a messaging platform bound to one of its chat assistants, and each one's runtime.

RAGFlow runs every channel as a listener inside its server; here each kind that can deliver by webhook does so to
the channel's public webhook route, registered with the platform where its API allows it (Telegram's setWebhook,
Discord's Interactions Endpoint URL and /ask command, LINE's webhook endpoint) and otherwise shown to be pasted into
the platform's console. A kind that can't deliver by webhook is refused at create with the reason.

The credential (`config.credential`) is stored only encrypted, with the cipher of the tenants' provider keys, and
shown only masked; a client that sends the masked values back keeps the stored ones. Another tenant's channel
answers exactly like one that does not exist (RAGFlow's "no authorization").
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.channels import ChannelError, Platform, PlatformFactory
from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.ids import new_id
from ragcore.ports import Cipher, ListQuery, MetadataStore
from ragcore.services.channels.model import (
    CHANNEL_KIND,
    DELIVERY_KIND,
    OWNER_SCOPE,
    OWNERS_TENANT,
    SECRET_FIELD,
    WEBHOOK_SECRET,
    connection_refusal,
    masked,
    merged,
    refusal,
    webhook_url,
)
from ragcore.services.channels.state import ChannelState
from ragcore.services.common import public, stamp_new, stamp_update

log = logging.getLogger("ragcore.channels")

MAX_CHANNELS = 1000  # a tenant's channels listed at once (RAGFlow's list has no paging)
LIST_FIELDS = ("id", "name", "channel", "chat_id", "status")
NO_CHAT = "Can't find this chat assistant!"


def no_authorization() -> ApiError:
    return ApiError(RetCode.AUTHENTICATION_ERROR, "no authorization", data=False)


class ChannelService:
    def __init__(self, store: MetadataStore, *, cipher: Callable[[], Cipher], platforms: PlatformFactory,
                 background: Callable[[dict[str, Any]], None], webhook_base: str = "") -> None:
        self._store = store
        self._background = background
        self._cipher = cipher
        self._platforms = platforms
        self._webhook_base = webhook_base  # CHANNEL_WEBHOOK_BASE_URL; "" = the base URL a request came in on
        self.state = ChannelState(store)

    # ---- credentials --------------------------------------------------------------------------------------------
    def credential(self, channel: dict[str, Any]) -> dict[str, Any]:
        token = channel.get("_credential")
        value = json.loads(self._cipher().decrypt(token)) if token else {}
        return value if isinstance(value, dict) else {}

    def platform(self, channel: dict[str, Any]) -> Platform:
        """The channel's platform with its credential (raises ChannelError when the credential can't be used)."""
        return self._platforms(str(channel.get("channel")), self.credential(channel))

    def _checked_platform(self, kind: str, credential: dict[str, Any]) -> Platform:
        reason = connection_refusal(kind, credential)
        if reason:
            raise ApiError(RetCode.ARGUMENT_ERROR, reason)
        try:
            return self._platforms(kind, credential)
        except ChannelError as exc:
            raise ApiError(RetCode.ARGUMENT_ERROR, str(exc)) from None

    def view(self, channel: dict[str, Any]) -> dict[str, Any]:
        out = public(channel)
        config = dict(channel.get("config") or {})
        config[SECRET_FIELD] = masked(self.credential(channel))
        out["config"] = config
        return out

    # ---- reads --------------------------------------------------------------------------------------------------
    def owned(self, tenant: str, channel_id: str) -> dict[str, Any]:
        found = self._store.get(CHANNEL_KIND, tenant, channel_id) if isinstance(channel_id, str) and channel_id else None
        if found is None:
            log.warning("chat channel access denied: channel_id=%s", channel_id)
            raise no_authorization()
        return found

    def owner(self, channel_id: str) -> str | None:
        """The tenant of a channel (the webhook route has no API key to say it)."""
        return self._store.owner(OWNERS_TENANT, OWNER_SCOPE, channel_id) if channel_id else None

    def get(self, tenant: str, channel_id: str) -> dict[str, Any]:
        return self.view(self.owned(tenant, channel_id))

    def list_channels(self, tenant: str) -> list[dict[str, Any]]:
        """Newest first, each with its chat's name (dialog_name), as RAGFlow joins them; one read of the chats."""
        items = self._store.page(ListQuery(CHANNEL_KIND, tenant, order="create_time", desc=True), 0, MAX_CHANNELS)
        chat_ids = sorted({str(it["chat_id"]) for it in items if it.get("chat_id")})
        names = {c["id"]: c.get("name") for c in self._store.get_many(kinds.CHAT, tenant, chat_ids)} if chat_ids else {}
        return [{**{k: it.get(k) for k in LIST_FIELDS}, "dialog_name": names.get(str(it.get("chat_id")))} for it in items]

    def runtime(self, tenant: str, channel_id: str) -> dict[str, Any]:
        channel = self.owned(tenant, channel_id)
        return self.state.view(channel, self.state.get(tenant, channel_id))

    # ---- writes -------------------------------------------------------------------------------------------------
    def _chat_id(self, tenant: str, raw: Any) -> str | None:
        if not raw:
            return None
        if not isinstance(raw, str) or self._store.get(kinds.CHAT, tenant, raw) is None:
            raise ApiError(RetCode.DATA_ERROR, NO_CHAT)
        return raw

    @staticmethod
    def _name(raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 128:
            raise ApiError(RetCode.ARGUMENT_ERROR, "`name` should be a string of 1 to 128 characters.")
        return raw

    @staticmethod
    def _config(raw: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(config without its credential, the credential or None when the config names none)."""
        if raw is None:
            return {}, None
        if not isinstance(raw, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "config must be an object.")
        credential = raw.get(SECRET_FIELD)
        if credential is not None and not isinstance(credential, dict):
            raise ApiError(RetCode.ARGUMENT_ERROR, "config.credential must be an object.")
        return {k: v for k, v in raw.items() if k != SECRET_FIELD}, credential

    def create(self, tenant: str, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        require_arguments(body, "name", "channel")
        name, kind = self._name(body["name"]), body["channel"]
        reason = refusal(kind)
        if reason:
            raise ApiError(RetCode.ARGUMENT_ERROR, reason)
        config, credential = self._config(body.get("config"))
        credential = {**(credential or {}), WEBHOOK_SECRET: secrets.token_urlsafe(32)}
        platform = self._checked_platform(kind, credential)
        chat_id = self._chat_id(tenant, body.get("chat_id"))
        channel_id = new_id()
        item = stamp_new({
            "id": channel_id, "tenant_id": tenant, "name": name, "channel": kind, "config": config, "chat_id": chat_id,
            "status": 1, "webhook_url": webhook_url(self._webhook_base or base_url, channel_id),
            "_credential": self._cipher().encrypt(json.dumps(credential)),
        })
        self._store.put(CHANNEL_KIND, tenant, item)
        self._store.claim(OWNERS_TENANT, OWNER_SCOPE, channel_id, tenant)
        self.state.create(tenant, channel_id)
        self._register(tenant, item, platform)
        return self.view(item)

    def _register(self, tenant: str, channel: dict[str, Any], platform: Platform) -> None:
        """Points the platform at the channel's webhook; a failure is the runtime's webhook error, not the request's
        (RAGFlow stores a channel whatever its credentials say)."""
        try:
            done = platform.register(channel["webhook_url"])
        except ChannelError as exc:
            log.warning("chat channel %s (%s): webhook not registered: %s", channel["id"], channel["channel"], exc)
            self.state.webhook(tenant, channel["id"], "error", error=str(exc))
            return
        if done:  # the platform may have checked the URL already (Discord's PING): verified stays verified
            verified = self.state.get(tenant, channel["id"]).get("webhook_status") == "verified"
            self.state.webhook(tenant, channel["id"], "verified" if verified else "registered", note=done)
        else:
            self.state.webhook(tenant, channel["id"], "pending",
                               note=f"Set this URL as the webhook in the platform's console: {channel['webhook_url']}")

    def update(self, tenant: str, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        channel = self.owned(tenant, channel_id)
        if isinstance(body.get("data"), dict):
            body = body["data"]
        changes: dict[str, Any] = {}
        if body.get("chat_id"):
            changes["chat_id"] = self._chat_id(tenant, body["chat_id"])
        elif "chat_id" in body:
            changes["chat_id"] = None
        if "name" in body:
            changes["name"] = self._name(body["name"])
        platform = old = None
        if "config" in body:
            config, sent = self._config(body["config"])
            changes["config"] = config
            kept = self.credential(channel)
            if sent is not None and merged(sent, kept) != kept:
                credential = merged(sent, kept)
                platform = self._checked_platform(str(channel["channel"]), credential)
                changes["_credential"] = self._cipher().encrypt(json.dumps(credential))
                old = self._platform_or_none(channel)
        if changes:
            channel = self._store.update(CHANNEL_KIND, tenant, channel_id, stamp_update(changes)) or channel
        if platform is not None:  # new credentials: the old bot stops delivering, the new one starts
            if old is not None:
                self._unregister(channel, old)
            self._register(tenant, channel, platform)
        return self.view(channel)

    def _platform_or_none(self, channel: dict[str, Any]) -> Platform | None:
        try:
            return self.platform(channel)
        except ChannelError:
            return None

    @staticmethod
    def _unregister(channel: dict[str, Any], platform: Platform) -> None:
        try:
            platform.unregister()
        except ChannelError as exc:
            log.warning("chat channel %s (%s): webhook not removed: %s", channel["id"], channel["channel"], exc)

    def delete(self, tenant: str, channel_id: str) -> bool:
        channel = self.owned(tenant, channel_id)
        platform = self._platform_or_none(channel)
        if platform is not None:
            self._unregister(channel, platform)
        self._store.delete(CHANNEL_KIND, tenant, channel_id)  # deliveries on their way now find no channel
        self._store.release(OWNERS_TENANT, OWNER_SCOPE, channel_id, tenant)
        self._background({"type": "purge_children", "tenant": tenant, "kind": DELIVERY_KIND, "parent": channel_id})
        self.state.delete(tenant, channel_id)
        return True
