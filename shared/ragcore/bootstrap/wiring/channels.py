"""Wiring of the channels area: the chat channels, their webhooks and the answers they queue, and the platforms they
reach (adapters, each call through the channel guard)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import conversation, runtime

if TYPE_CHECKING:
    from ragcore.domain.channels import PlatformFactory
    from ragcore.services.channels.replies import ChannelReplies
    from ragcore.services.channels.service import ChannelService
    from ragcore.services.channels.webhooks import ChannelWebhooks

MAX_REPLY_BYTES = 1024 * 1024  # a platform API's answer (a sent message, a token)


def _api_bases(raw: str) -> dict[str, str]:
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError('CHANNEL_API_BASE_URLS must be a JSON object of platform to base URL, e.g. '
                         '{"telegram": "http://gw"}')
    return {str(k): v for k, v in value.items()}


def platforms() -> PlatformFactory:
    """The platforms' APIs, reached only at public addresses unless a host is listed in CHANNEL_ALLOWED_HOSTS."""
    from ragcore.adapters.channels import platform_factory

    settings = get_container().settings
    fetch = runtime.guarded_fetcher(settings.channel_allowed_hosts, max_bytes=MAX_REPLY_BYTES,
                                    max_timeout_s=settings.channel_http_timeout_s, allow_setting="CHANNEL_ALLOWED_HOSTS")
    return platform_factory(fetch, bases=_api_bases(settings.channel_api_base_urls),
                            timeout_s=settings.channel_http_timeout_s)


@cached
def chat_channels() -> ChannelService:
    from ragcore.services.channels.service import ChannelService

    container = get_container()
    return ChannelService(container.store, cipher=lambda: container.cipher, platforms=platforms(),
                          background=runtime.background, webhook_base=container.settings.channel_webhook_base_url)


@cached
def channel_webhooks() -> ChannelWebhooks:
    from ragcore.services.channels.webhooks import ChannelWebhooks

    return ChannelWebhooks(get_container().store, chat_channels(), runtime.queue)


@cached
def channel_replies() -> ChannelReplies:
    from ragcore.services.channels.replies import ChannelReplies

    return ChannelReplies(get_container().store, chat_channels(), conversation.chats(), conversation.completion())
