"""Confluence (Cloud or Data Center) through its REST API, with RAGFlow's config: `wiki_base`, `is_cloud`,
`index_mode` ("everything", "space" with `space`, "page" with `page_id` and `index_recursively`) and
`credentials.confluence_username` / `confluence_access_token` (Cloud: an API token with the user's e-mail;
Data Center: a personal access token).

Listing is a CQL content search, 50 pages a call, each page fingerprinted by its version number; only a page whose
version moved is downloaded (its storage-format body, an HTML document).
"""

from __future__ import annotations

import html
from typing import Any

from ragcore.adapters.sources.feeds import file_name
from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.adapters.sources.rest import RestApi
from ragcore.domain.sources import Listing, SourceError, SourceItem

LIMIT = 50


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfluenceSource:
    def __init__(self, config: dict[str, Any], guard: OutboundGuard) -> None:
        base = str(config.get("wiki_base") or "").strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise SourceError("Confluence: wiki_base must be the wiki's http(s) URL.")
        mode = str(config.get("index_mode") or "everything").lower()
        mode = mode if mode in ("everything", "space", "page") else "everything"
        if mode == "space":
            space = str(config.get("space") or "").strip()
            if not space:
                raise SourceError("Space Key is required when indexing a specific Confluence space.")
            self._cql = f"type=page and space={_quoted(space)}"
        elif mode == "page":
            page_id = str(config.get("page_id") or "").strip()
            if not page_id:
                raise SourceError("Page ID is required when indexing a specific Confluence page.")
            recursive = bool(config.get("index_recursively"))
            self._cql = f"type=page and (id={page_id} or ancestor={page_id})" if recursive else f"type=page and id={page_id}"
        else:
            self._cql = "type=page"
        creds = config.get("credentials") or {}
        token = str(creds.get("confluence_access_token") or "") if isinstance(creds, dict) else ""
        if not token:
            raise SourceError("Confluence: credentials.confluence_access_token is required.")
        is_cloud = config.get("is_cloud", True) not in (False, "false", "0", 0)
        headers = {"Accept": "application/json"}
        auth = None
        if is_cloud:
            user = str(creds.get("confluence_username") or "")
            if not user:
                raise SourceError("Confluence Cloud: credentials.confluence_username (the account's e-mail) is required.")
            auth = (user, token)
        else:
            headers["Authorization"] = f"Bearer {token}"
        self._api = RestApi(guard, base, name="Confluence", headers=headers, auth=auth)
        self._base = base

    def check(self) -> None:
        self._api.json("/rest/api/space", {"limit": 1}, what="the spaces")
        self._api.json("/rest/api/content/search", {"cql": self._cql, "limit": 1}, what="the pages to index")

    def list_page(self, cursor: str | None) -> Listing:
        start = int(cursor or 0)
        got = self._api.json("/rest/api/content/search", {"cql": self._cql, "limit": LIMIT, "start": start,
                                                          "expand": "version,space"}, what="the pages to index")
        results = got.get("results") or []
        items = [SourceItem(key=str(page["id"]), name=file_name(str(page.get("title") or page["id"]), "page", "html"),
                            fingerprint=f"v{(page.get('version') or {}).get('number', '')}",
                            meta={"space": (page.get("space") or {}).get("key", "")})
                 for page in results if page.get("type", "page") == "page"]
        more = bool((got.get("_links") or {}).get("next")) or len(results) == LIMIT and int(got.get("size") or 0) == LIMIT
        return Listing(items, str(start + len(results)) if more and results else None)

    def fetch(self, item: SourceItem) -> bytes:
        page = self._api.json(f"/rest/api/content/{item.key}", {"expand": "body.storage,version"}, what=item.name)
        title = html.escape(str(page.get("title") or ""))
        body = str(((page.get("body") or {}).get("storage") or {}).get("value") or "")
        link = f"{self._base}{(page.get('_links') or {}).get('webui', '')}"
        return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
                f"<p><a href=\"{html.escape(link)}\">{html.escape(link)}</a></p>{body}</body></html>").encode()
