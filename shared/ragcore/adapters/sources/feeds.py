"""RSS and Atom feeds (RAGFlow's `rss` source, config `feed_url`): the feed is fetched through the guard and parsed
by feedparser; each entry becomes an HTML document (title, link, content). An entry's key is its id (else its link),
its fingerprint a hash of what the document holds, so an edited entry is ingested again and an unchanged one is not.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

import feedparser

from ragcore.adapters.sources.guard import OutboundGuard, fetch_limited
from ragcore.domain.sources import Listing, SourceError, SourceItem

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def file_name(title: str, fallback: str, suffix: str) -> str:
    """A document name from a title: no path separators or control characters, at most ~120 characters."""
    stem = _UNSAFE.sub(" ", title).strip(" .") or fallback
    return f"{stem[:120].strip()}.{suffix}"


class FeedSource:
    def __init__(self, config: dict[str, Any], guard: OutboundGuard, *, max_bytes: int) -> None:
        self._url = str(config.get("feed_url") or "").strip()
        if not self._url.startswith(("http://", "https://")):
            raise SourceError("feed_url must be a valid http or https URL")
        self._guard = guard
        self._max_bytes = max_bytes
        self._bodies: dict[str, bytes] = {}

    def _feed(self, *, require_entries: bool) -> Any:
        with self._guard.client() as http:
            reply = fetch_limited(http, self._url, self._max_bytes, "The feed")
        feed = feedparser.parse(reply.content)
        if getattr(feed, "bozo", False) and not feed.entries:
            error = getattr(feed, "bozo_exception", None)
            raise SourceError(f"Failed to parse RSS feed: {error}" if error else "Failed to parse RSS feed")
        if require_entries and not feed.entries:
            raise SourceError("RSS feed contains no entries")
        return feed

    def check(self) -> None:
        self._feed(require_entries=True)

    def list_page(self, cursor: str | None) -> Listing:
        feed = self._feed(require_entries=False)
        items = []
        for entry in feed.entries:
            link = str(entry.get("link") or "").strip()
            key = str(entry.get("id") or link or "").strip()
            if not key:
                continue
            title = str(entry.get("title") or link or key).strip()
            parts = entry.get("content") or []
            body = str(parts[0].get("value") if parts else entry.get("summary") or "")
            page = (f"<html><head><title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
                    f"<p><a href=\"{html.escape(link)}\">{html.escape(link)}</a></p>{body}</body></html>").encode()
            self._bodies[key] = page
            items.append(SourceItem(key=key, name=file_name(title, "entry", "html"),
                                    fingerprint=hashlib.sha256(page).hexdigest(), size=len(page),
                                    meta={"link": link, "updated": str(entry.get("updated") or entry.get("published") or "")}))
        return Listing(items, None)

    def fetch(self, item: SourceItem) -> bytes:
        body = self._bodies.get(item.key)
        if body is None:
            raise SourceError(f"{item.name} is no longer in the feed")
        return body
