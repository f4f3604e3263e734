"""What a connector's source gives the sync: its items, a page at a time, each with a fingerprint, and their bytes.

The sync (ragcore.services.connectors) speaks only this; each protocol (S3, WebDAV, feeds, websites, GitHub,
Confluence, Notion) is an adapter in ragcore.adapters.sources that implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class SourceError(Exception):
    """The source refused or failed, in words a user can act on (never holding a credential)."""


@dataclass(frozen=True)
class SourceItem:
    key: str  # stable within the source (an object key, a URL, a page id): the document it becomes keeps its id
    name: str  # the document's file name, with the extension its parser goes by
    fingerprint: str  # changes whenever the content does (ETag, version, last-modified, content hash)
    size: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    items: list[SourceItem]
    cursor: str | None  # where the next page starts; None once the whole source has been listed


class Source(Protocol):
    def check(self) -> None:
        """Credentials and reachability: raises SourceError saying what failed."""
        ...

    def list_page(self, cursor: str | None) -> Listing:
        """One page of the source's items from cursor (None: the start)."""
        ...

    def fetch(self, item: SourceItem) -> bytes:
        """The item's content (raises SourceError when it can't be read)."""
        ...


def too_large(name: str, limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"
    return f"{name} is larger than the {size} limit (MAX_UPLOAD_BYTES)"


# (source kind, config with its credentials) -> a Source; raises SourceError for a config it can't use
SourceFactory = Callable[[str, dict[str, Any]], Source]
