"""Notion through notion-client (over the guarded httpx client), with RAGFlow's config: `root_page_id` (that page
and the pages and databases under it; empty: every page shared with the integration, by search) and
`credentials.notion_integration_token`; ours: `database_id` (the pages of one database). API version 2022-06-28, as
RAGFlow's connector speaks it.

A page is fingerprinted by its last_edited_time; only an edited page's blocks are read, into a Markdown document.
"""

from __future__ import annotations

import json
from typing import Any

from notion_client import APIResponseError, Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from ragcore.adapters.sources.feeds import file_name
from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.domain.sources import Listing, SourceError, SourceItem

API = "https://api.notion.com"
VERSION = "2022-06-28"
MAX_BLOCK_DEPTH = 3
_PREFIX = {"heading_1": "# ", "heading_2": "## ", "heading_3": "### ", "bulleted_list_item": "- ",
           "numbered_list_item": "1. ", "to_do": "- [ ] ", "quote": "> ", "callout": "> ", "toggle": "- "}


def _text(rich: list[dict[str, Any]] | None) -> str:
    return "".join(str(part.get("plain_text") or "") for part in rich or [])


def _title(page: dict[str, Any]) -> str:
    for prop in (page.get("properties") or {}).values():
        if isinstance(prop, dict) and prop.get("type") == "title":
            return _text(prop.get("title"))
    return ""


class NotionSource:
    def __init__(self, config: dict[str, Any], guard: OutboundGuard) -> None:
        token = str((config.get("credentials") or {}).get("notion_integration_token") or "")
        if not token:
            raise SourceError("Notion: credentials.notion_integration_token is required.")
        base = str(config.get("base_url") or API).rstrip("/")
        guard.check_url(base)
        self._root = str(config.get("root_page_id") or "").strip()
        self._database = str(config.get("database_id") or "").strip()
        self._notion = Client(client=guard.client(), options={"auth": token, "base_url": base, "notion_version": VERSION,
                                                              "retry": False, "timeout_ms": int(guard.timeout_s * 1000)})
        self._pages: dict[str, dict[str, Any]] = {}

    def _call(self, what: str, call: Any) -> Any:
        try:
            return call()
        except APIResponseError as exc:
            if exc.status == 401:
                raise SourceError("Notion credential appears to be invalid or expired (HTTP 401).") from exc
            if exc.status == 403:
                raise SourceError("Your Notion token does not have sufficient permissions (HTTP 403).") from exc
            if exc.status == 404:
                raise SourceError(f"Notion: {what} not found or not shared with the integration (HTTP 404).") from exc
            raise SourceError(f"Notion answered HTTP {exc.status} for {what}: {exc}") from exc
        except (HTTPResponseError, RequestTimeoutError) as exc:
            raise SourceError(f"Notion: {what} failed: {exc}") from exc
        except Exception as exc:  # httpx transport errors, the guard's refusal
            if isinstance(exc, SourceError):
                raise
            raise SourceError(f"Notion could not be reached: {exc}") from exc

    def check(self) -> None:
        if self._database:
            self._call("the database", lambda: self._notion.request(path=f"databases/{self._database}", method="GET"))
        elif self._root:
            self._call("the root page", lambda: self._notion.pages.retrieve(page_id=self._root))
        else:
            self._call("search", lambda: self._notion.search(filter={"property": "object", "value": "page"}, page_size=1))

    def _item(self, page: dict[str, Any]) -> SourceItem | None:
        if page.get("object") != "page" or page.get("archived") or page.get("in_trash"):
            return None
        self._pages[str(page["id"])] = page
        title = _title(page) or f"Untitled {page['id']}"
        return SourceItem(key=str(page["id"]), name=file_name(title, "page", "md"),
                          fingerprint=str(page.get("last_edited_time") or ""), meta={"url": page.get("url", "")})

    def list_page(self, cursor: str | None) -> Listing:
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        if self._database:
            got = self._call("the database", lambda: self._notion.request(
                path=f"databases/{self._database}/query", method="POST",
                body={"page_size": 100, **({"start_cursor": state["next"]} if state.get("next") else {})}))
            return self._results(got)
        if not self._root:
            got = self._call("search", lambda: self._notion.search(
                filter={"property": "object", "value": "page"}, page_size=100,
                **({"start_cursor": state["next"]} if state.get("next") else {})))
            return self._results(got)
        return self._tree_page(state)

    def _results(self, got: dict[str, Any]) -> Listing:
        items = [it for it in (self._item(p) for p in got.get("results") or []) if it is not None]
        return Listing(items, json.dumps({"next": got["next_cursor"]}) if got.get("has_more") else None)

    def _tree_page(self, state: dict[str, Any]) -> Listing:
        """The root page, then one page's children a step: child pages are listed and queued for their own children;
        child databases' pages are listed too."""
        queue: list[str] = state.get("queue") or []
        items: list[SourceItem] = []
        if not state:
            root = self._call("the root page", lambda: self._notion.pages.retrieve(page_id=self._root))
            item = self._item(root)
            items += [item] if item else []
            queue = [self._root]
        if queue:
            parent = queue.pop(0)
            for block in self._children(parent):
                if block.get("type") == "child_page":
                    page = self._call("a child page", lambda b=block: self._notion.pages.retrieve(page_id=b["id"]))
                    item = self._item(page)
                    if item is not None:
                        items.append(item)
                        queue.append(str(page["id"]))
                elif block.get("type") == "child_database":
                    got = self._call("a child database", lambda b=block: self._notion.request(
                        path=f"databases/{b['id']}/query", method="POST", body={"page_size": 100}))
                    for page in got.get("results") or []:
                        item = self._item(page)
                        if item is not None:
                            items.append(item)
                            queue.append(str(page["id"]))
        return Listing(items, json.dumps({"queue": queue}) if queue else None)

    def _children(self, block_id: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            got = self._call("a page's blocks", lambda s=start: self._notion.blocks.children.list(
                block_id=block_id, page_size=100, **({"start_cursor": s} if s else {})))
            blocks += got.get("results") or []
            if not got.get("has_more"):
                return blocks
            start = got.get("next_cursor")

    def fetch(self, item: SourceItem) -> bytes:
        page = self._pages.get(item.key)
        title = _title(page) if page else ""
        lines = [f"# {title or item.name[:-3]}", ""]
        if page and page.get("url"):
            lines += [str(page["url"]), ""]
        self._blocks(item.key, lines, 0)
        return ("\n".join(lines).rstrip() + "\n").encode("utf-8")

    def _blocks(self, block_id: str, lines: list[str], depth: int) -> None:
        for block in self._children(block_id):
            kind = str(block.get("type") or "")
            raw = block.get(kind)
            value: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if kind in ("child_page", "child_database"):
                continue  # documents of their own
            text = _text(value.get("rich_text"))
            if kind == "code":
                lines += [f"```{value.get('language', '')}", text, "```"]
            elif kind == "to_do" and value.get("checked"):
                lines.append(f"- [x] {text}")
            elif text:
                lines.append(_PREFIX.get(kind, "") + text)
            if block.get("has_children") and depth < MAX_BLOCK_DEPTH:
                self._blocks(str(block["id"]), lines, depth + 1)
