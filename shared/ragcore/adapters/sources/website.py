"""A website (our source beyond RAGFlow's): pages of one site from a start URL (links followed breadth-first, same
site only, to `max_depth` and at most `max_pages`) or from a sitemap (`sitemap_url`, sitemap indexes followed),
robots.txt obeyed for our user agent. Pages become HTML documents; linked files the parsers read (PDF, DOCX, …) are
taken too. A page's fingerprint is the sitemap's lastmod where it gives one (then an unchanged page is not even
downloaded), else a hash of its body (downloaded to find links, but never parsed again when unchanged).

The cursor holds the crawl's frontier and the pages already seen, so a crawl goes on where the last step stopped.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from ragcore.adapters.sources.feeds import file_name
from ragcore.adapters.sources.guard import Fetched, OutboundGuard, fetch_limited
from ragcore.domain.sources import Listing, SourceError, SourceItem

USER_AGENT = "ragflow-serverless-connector/1.0"
PAGES_PER_STEP = 20
MAX_PAGES_CAP = 5000
HTML_TYPES = ("text/html", "application/xhtml+xml")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.title = ""
        self._in_title = False
        self.noindex = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "a" and values.get("href") and "nofollow" not in values.get("rel", "").lower():
            self.links.append(values["href"])
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and values.get("name", "").lower() == "robots" and "noindex" in values.get("content", "").lower():
            self.noindex = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _normal(url: str) -> str:
    return urldefrag(url)[0]


class WebsiteSource:
    def __init__(self, config: dict[str, Any], guard: OutboundGuard, *, max_bytes: int,
                 accept: Callable[[str], bool] | None = None) -> None:
        self._start = str(config.get("url") or config.get("start_url") or "").strip()
        self._sitemap = str(config.get("sitemap_url") or "").strip()
        first = self._sitemap or self._start
        if not first.startswith(("http://", "https://")):
            raise SourceError("website: `url` (a start page) or `sitemap_url` must be an http(s) URL")
        self._host = (urlsplit(first).hostname or "").lower()
        self._depth = _bounded(config.get("max_depth"), 2, 0, 20, "max_depth")
        self._max_pages = _bounded(config.get("max_pages"), 100, 1, MAX_PAGES_CAP, "max_pages")
        prefix = str(config.get("path_prefix") or "")
        self._prefix = prefix
        self._guard = guard
        self._max_bytes = max_bytes
        self._accept = accept
        self._robots: dict[str, RobotFileParser] = {}
        self._bodies: dict[str, bytes] = {}
        self._http: httpx.Client | None = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = self._guard.client(headers={"User-Agent": USER_AGENT})
        return self._http

    def _get(self, url: str) -> Fetched:
        return fetch_limited(self._client(), url, self._max_bytes, "The website")

    # ---- rules ------------------------------------------------------------------------------------------------
    def _same_site(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() == self._host \
            and (not self._prefix or parts.path.startswith(self._prefix))

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = self._robots.get(origin)
        if robots is None:
            robots = RobotFileParser()
            try:
                got = fetch_limited(self._client(), f"{origin}/robots.txt", 512 * 1024, "robots.txt", ok_statuses=(404, 410))
                robots.parse(got.content.decode("utf-8", "replace").splitlines() if got.status < 400 else [])
            except SourceError:
                robots.parse([])  # unreachable robots.txt: the pages themselves will say whether they are
            self._robots[origin] = robots
        return robots.can_fetch(USER_AGENT, url)

    # ---- the Source protocol ----------------------------------------------------------------------------------
    def check(self) -> None:
        first = self._sitemap or self._start
        if not self._allowed(first):
            raise SourceError(f"robots.txt of {self._host} does not allow {first}")
        self._get(first)

    def list_page(self, cursor: str | None) -> Listing:
        if self._sitemap:
            return self._sitemap_page(cursor)
        state: dict[str, Any] = json.loads(cursor) if cursor else {"queue": [[_normal(self._start), 0]],
                                                                    "seen": [_normal(self._start)]}
        queue: list[list[Any]] = state["queue"]
        seen: list[str] = state["seen"]
        items: list[SourceItem] = []
        done = 0
        while queue and done < PAGES_PER_STEP:
            url, depth = queue.pop(0)
            done += 1
            if not self._allowed(url):
                continue
            try:
                got = self._get(url)
            except SourceError:
                if url == _normal(self._start) and cursor is None:
                    raise  # the start page itself: the whole listing fails, with its reason
                continue  # a broken link is not a failed sync
            item, links = self._item(url, got)
            if item is not None:
                items.append(item)
            if depth < self._depth:
                for link in links:
                    if link not in seen and len(seen) < self._max_pages and self._same_site(link):
                        seen.append(link)
                        queue.append([link, depth + 1])
        more = json.dumps({"queue": queue, "seen": seen}) if queue else None
        return Listing(items, more)

    def _item(self, url: str, got: Fetched) -> tuple[SourceItem | None, list[str]]:
        base = _normal(got.url)
        if got.content_type in HTML_TYPES or (not got.content_type and got.content.lstrip()[:1] == b"<"):
            parser = _Links()
            parser.feed(got.content.decode("utf-8", "replace"))
            links = [_normal(urljoin(base, h)) for h in parser.links]
            if parser.noindex:
                return None, links
            name = file_name(parser.title.strip() or urlsplit(url).path.strip("/") or self._host, "page", "html")
            self._bodies[url] = got.content
            return SourceItem(key=url, name=name, fingerprint=hashlib.sha256(got.content).hexdigest(),
                              size=len(got.content)), links
        name = posixpath.basename(unquote(urlsplit(url).path))
        if name and self._accept is not None and self._accept(name):
            self._bodies[url] = got.content
            return SourceItem(key=url, name=name, fingerprint=hashlib.sha256(got.content).hexdigest(), size=len(got.content)), []
        return None, []

    def _sitemap_page(self, cursor: str | None) -> Listing:
        """One sitemap file per page: its <url> entries (lastmod as fingerprint), nested sitemaps queued."""
        state: dict[str, Any] = json.loads(cursor) if cursor else {"maps": [self._sitemap], "count": 0}
        maps: list[str] = state["maps"]
        count = int(state["count"])
        url = maps.pop(0)
        got = self._get(url)
        try:
            root = ET.fromstring(got.content)
        except ET.ParseError as exc:
            raise SourceError(f"{url} is not a sitemap: {exc}") from exc
        items: list[SourceItem] = []
        for node in root:
            tag = node.tag.rsplit("}", 1)[-1]
            loc = next((c.text or "" for c in node if c.tag.rsplit("}", 1)[-1] == "loc"), "").strip()
            lastmod = next((c.text or "" for c in node if c.tag.rsplit("}", 1)[-1] == "lastmod"), "").strip()
            if not loc or not self._same_site(loc):
                continue
            if tag == "sitemap":
                maps.append(loc)
            elif tag == "url" and count < self._max_pages and self._allowed(loc):
                count += 1
                key = _normal(loc)
                if lastmod:  # downloaded only when it changed
                    items.append(SourceItem(key=key, name=file_name(urlsplit(key).path.strip("/") or self._host, "page", "html"),
                                            fingerprint=f"lastmod:{lastmod}"))
                    continue
                try:
                    page = self._get(key)
                except SourceError:
                    continue
                item, _ = self._item(key, page)
                if item is not None:
                    items.append(item)
        return Listing(items, json.dumps({"maps": maps, "count": count}) if maps else None)

    def fetch(self, item: SourceItem) -> bytes:
        body = self._bodies.get(item.key)
        if body is None:  # listed from a sitemap's lastmod: downloaded now
            got = self._get(item.key)
            body = got.content
        return body


def _bounded(raw: Any, default: int, low: int, high: int, name: str) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise SourceError(f"website: {name} must be a whole number") from None
    return max(low, min(value, high))
