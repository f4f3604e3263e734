"""Wiring of the connectors area: the connectors (their dataset links, logs and the scheduler's tick), the OAuth
web flows, and the sources they reach (adapters, each call through the connector guard).

The knowledge wiring links datasets through `connectors()` (a dataset's `connectors` field), so this module builds
nothing from knowledge: the sync runs, which write documents, are wired in `connector_sync.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragcore.bootstrap.container import cached, get_container
from ragcore.bootstrap.wiring import runtime

if TYPE_CHECKING:
    from ragcore.adapters.sources.guard import OutboundGuard
    from ragcore.domain.sources import SourceFactory
    from ragcore.services.connectors.oauth import OAuthFlows
    from ragcore.services.connectors.service import ConnectorService


def connector_guard() -> OutboundGuard:
    """Outbound HTTP for the sources: public addresses only, unless a host is listed in CONNECTOR_ALLOWED_HOSTS."""
    from ragcore.adapters.sources.guard import OutboundGuard

    settings = get_container().settings
    hosts = frozenset(h.strip() for h in settings.connector_allowed_hosts.split(",") if h.strip())
    return OutboundGuard(hosts, timeout_s=settings.connector_http_timeout_s)


def connector_sources() -> SourceFactory:
    from ragcore.adapters.sources import source_factory

    return source_factory(connector_guard(), accept=runtime.is_supported,
                          max_bytes=get_container().settings.max_upload_bytes)


@cached
def connectors() -> ConnectorService:
    from ragcore.services.connectors.service import ConnectorService

    container = get_container()
    return ConnectorService(container.store, cipher=lambda: container.cipher, sources=connector_sources(),
                            queue=runtime.queue, lease_s=container.settings.connector_lease_s)


@cached
def oauth_flows() -> OAuthFlows:
    from ragcore.adapters.sources.oauth import OAuthClient
    from ragcore.services.connectors.oauth import OAuthFlows, RedirectUris

    container = get_container()
    settings = container.settings
    base = f"http://{settings.host}:{settings.port}/api/v1/connectors"
    redirects = RedirectUris(
        google_drive=settings.google_drive_oauth_redirect_uri or f"{base}/google-drive/oauth/web/callback",
        gmail=settings.gmail_oauth_redirect_uri or f"{base}/gmail/oauth/web/callback",
        box=settings.box_oauth_redirect_uri or f"{base}/box/oauth/web/callback",
    )
    client = OAuthClient(connector_guard(), box_authorize_url=settings.box_oauth_authorize_url,
                         box_token_url=settings.box_oauth_token_url)
    return OAuthFlows(container.store, cipher=lambda: container.cipher, client=client, redirects=redirects)
