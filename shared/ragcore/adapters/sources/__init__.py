"""Connector sources, one module per protocol, each behind ragcore.domain.sources.Source; all outbound calls go
through the connector guard (guard.py). Built only by the composition root (ragcore/bootstrap/wiring/connectors.py).

| source                                            | protocol                    | client                     |
|---------------------------------------------------|-----------------------------|----------------------------|
| s3, r2, oci_storage, google_cloud_storage (MinIO) | S3 API                      | boto3, by endpoint URL     |
| webdav                                            | WebDAV (PROPFIND, GET)      | webdav4 over the guard     |
| rss                                               | RSS / Atom                  | feedparser (bytes fetched through the guard) |
| website                                           | HTTP, sitemaps, robots.txt  | httpx + the standard library |
| github                                            | GitHub REST v3              | httpx                      |
| confluence                                        | Confluence REST (CQL)       | httpx                      |
| notion                                            | Notion API                  | notion-client over the guard |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.domain.sources import Source, SourceError, SourceFactory


def source_factory(guard: OutboundGuard, *, accept: Callable[[str], bool], max_bytes: int) -> SourceFactory:
    """(source kind, config with credentials) → its Source; each protocol's module is imported when first used."""

    def build(source: str, config: dict[str, Any]) -> Source:
        if not isinstance(config, dict):
            raise SourceError("config must be an object.")
        if source in ("s3", "r2", "oci_storage", "google_cloud_storage"):
            from ragcore.adapters.sources.s3 import S3Source

            return S3Source(source, config, guard, accept=accept, max_bytes=max_bytes)
        if source == "webdav":
            from ragcore.adapters.sources.webdav import WebDavSource

            return WebDavSource(config, guard, accept=accept, max_bytes=max_bytes)
        if source == "rss":
            from ragcore.adapters.sources.feeds import FeedSource

            return FeedSource(config, guard, max_bytes=max_bytes)
        if source == "website":
            from ragcore.adapters.sources.website import WebsiteSource

            return WebsiteSource(config, guard, max_bytes=max_bytes, accept=accept)
        if source == "github":
            from ragcore.adapters.sources.github import GitHubSource

            return GitHubSource(config, guard, accept=accept, max_bytes=max_bytes)
        if source == "confluence":
            from ragcore.adapters.sources.confluence import ConfluenceSource

            return ConfluenceSource(config, guard)
        if source == "notion":
            from ragcore.adapters.sources.notion import NotionSource

            return NotionSource(config, guard)
        raise SourceError(f"Source {source!r} is not supported here.")

    return build
