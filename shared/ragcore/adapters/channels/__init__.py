"""Chat channels' platforms, one module each, behind ragcore.domain.channels.Platform; every call to a platform's API
goes through the channel guard (public addresses only unless CHANNEL_ALLOWED_HOSTS lists the host). Built only by
the composition root (ragcore/bootstrap/wiring/channels.py).

| kind     | delivery (webhook)                                         | answer                                   |
|----------|------------------------------------------------------------|------------------------------------------|
| telegram | setWebhook; X-Telegram-Bot-Api-Secret-Token                | sendMessage, replying to the message     |
| discord  | interactions endpoint; Ed25519 (X-Signature-*); /ask       | deferred, then the original response edited |
| feishu   | event subscription; token, X-Lark-Signature, AES-256-CBC   | im/v1 reply to the message               |
| line     | webhook endpoint (set by API); X-Line-Signature            | reply token, else push                   |
| whatsapp | Cloud API webhook; hub.verify_token, X-Hub-Signature-256   | messages, in reply to the message        |
| wecom    | callback URL; msg_signature, AES-256-CBC (WXBizMsgCrypt)   | message/send to the user                 |
| dingtalk | robot HTTP mode; timestamp + sign (HMAC-SHA256)            | the message's sessionWebhook             |
"""

from __future__ import annotations

from typing import Any

from ragcore.adapters.channels.common import DEFAULT_BASES, Http
from ragcore.domain.channels import ChannelError, Platform, PlatformFactory
from ragcore.ports import HttpFetch

NAMES = {"telegram": "Telegram", "discord": "Discord", "feishu": "Feishu", "line": "LINE", "whatsapp": "WhatsApp",
         "wecom": "WeCom", "dingtalk": "DingTalk"}


def platform_factory(fetch: HttpFetch, *, bases: dict[str, str], timeout_s: float) -> PlatformFactory:
    """(channel kind, credential) → its Platform; each platform's module is imported when first used."""
    urls = {**DEFAULT_BASES, **bases}

    def build(kind: str, credential: dict[str, Any]) -> Platform:
        if kind not in NAMES:
            raise ChannelError(f"Channel {kind!r} has no webhook platform here.")
        http = Http(fetch, NAMES[kind], timeout_s)
        if kind == "telegram":
            from ragcore.adapters.channels.telegram import TelegramPlatform

            return TelegramPlatform(credential, http, urls["telegram"])
        if kind == "discord":
            from ragcore.adapters.channels.discord import DiscordPlatform

            return DiscordPlatform(credential, http, urls["discord"])
        if kind == "feishu":
            from ragcore.adapters.channels.feishu import FeishuPlatform

            return FeishuPlatform(credential, http, urls)
        if kind == "line":
            from ragcore.adapters.channels.line import LinePlatform

            return LinePlatform(credential, http, urls["line"])
        if kind == "whatsapp":
            from ragcore.adapters.channels.whatsapp import WhatsAppPlatform

            return WhatsAppPlatform(credential, http, urls["whatsapp"])
        if kind == "wecom":
            from ragcore.adapters.channels.wecom import WeComPlatform

            return WeComPlatform(credential, http, urls["wecom"])
        from ragcore.adapters.channels.dingtalk import DingTalkPlatform

        return DingTalkPlatform(credential, http, urls["dingtalk"])

    return build
