"""WebDAV servers (Nextcloud, ownCloud, Apache mod_dav, …) through webdav4 over the guarded httpx client, with
RAGFlow's config (`base_url`, `remote_path`, `allow_images`, `credentials.username/password`).

A listing page is one collection (PROPFIND, Depth 1); the cursor holds the collections still to list. An item's
fingerprint is its ETag (or its modification time and size where the server gives none).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from typing import Any

import httpx
from webdav4.client import Client, ClientError, HTTPError, ResourceNotFound

from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.domain.sources import Listing, SourceError, SourceItem, too_large


class WebDavSource:
    def __init__(self, config: dict[str, Any], guard: OutboundGuard, *, accept: Callable[[str], bool], max_bytes: int) -> None:
        base = str(config.get("base_url") or "").rstrip("/")
        if not base:
            raise SourceError("WebDAV: base_url is required.")
        guard.check_url(base)
        creds = config.get("credentials") or {}
        if not isinstance(creds, dict) or not creds.get("username") or not creds.get("password"):
            raise SourceError("WebDAV requires 'username' and 'password' credentials")
        root = str(config.get("remote_path") or "/")
        root = "/" + root.strip("/")
        self._root = root
        self._allow_images = bool(config.get("allow_images"))
        self._accept = accept
        self._max_bytes = max_bytes
        http = guard.client(base_url=base, auth=(str(creds["username"]), str(creds["password"])))
        self._client = Client(base, http_client=http, retry=False)
        self._base = base

    def check(self) -> None:
        self._ls(self._root)

    def _ls(self, path: str) -> list[dict[str, Any]]:
        try:
            return [e for e in self._client.ls(path, detail=True) if isinstance(e, dict)]
        except ResourceNotFound as exc:
            raise SourceError(f"WebDAV: '{path}' was not found on {self._base}") from exc
        except HTTPError as exc:
            status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", "?")
            reason = "the server refused the credentials" if status in (401, 403) else "the server answered an error"
            raise SourceError(f"WebDAV: {reason} (HTTP {status})") from exc
        except (ClientError, httpx.HTTPError) as exc:
            raise SourceError(f"WebDAV: {exc}") from exc

    def list_page(self, cursor: str | None) -> Listing:
        pending: list[str] = json.loads(cursor) if cursor else [self._root]
        folder, pending = pending[0], pending[1:]
        items = []
        for entry in self._ls(folder):
            path = "/" + str(entry.get("name") or "").strip("/")
            if entry.get("type") == "directory":
                if path.rstrip("/") != folder.rstrip("/"):
                    pending.append(path)
                continue
            name = posixpath.basename(path)
            if not name or name.startswith(".") or not self._wanted(name):
                continue
            size = entry.get("content_length")
            fingerprint = str(entry.get("etag") or "").strip('"') or f"{entry.get('modified')}:{size}"
            items.append(SourceItem(key=path, name=name, fingerprint=fingerprint, size=int(size) if size is not None else None))
        return Listing(items, json.dumps(pending) if pending else None)

    def _wanted(self, name: str) -> bool:
        from ragcore.parsing import IMAGE_SUFFIXES

        return self._accept(name) and (self._allow_images or name.rpartition(".")[2].lower() not in IMAGE_SUFFIXES)

    def fetch(self, item: SourceItem) -> bytes:
        if item.size is not None and item.size > self._max_bytes:
            raise SourceError(too_large(item.name, self._max_bytes))
        try:
            with self._client.open(item.key, mode="rb") as remote:
                data: bytes = remote.read(self._max_bytes + 1)
        except ResourceNotFound as exc:
            raise SourceError(f"{item.name} is gone from the server") from exc
        except (ClientError, httpx.HTTPError) as exc:
            raise SourceError(f"WebDAV: can't read {item.name}: {exc}") from exc
        if len(data) > self._max_bytes:
            raise SourceError(too_large(item.name, self._max_bytes))
        return data
