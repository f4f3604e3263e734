"""The ports services depend on. Each has a local and an AWS adapter and one contract suite."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

Item = dict[str, Any]


class MetadataStore(Protocol):
    """Tenant-scoped items of a kind, each optionally under a parent (a dataset's documents…)."""

    def put(self, kind: str, tenant: str, item: Item, *, parent: str = "", if_absent: bool = False) -> bool:
        """Write the whole item (must hold "id"). With if_absent, return False instead of overwriting."""
        ...

    def get(self, kind: str, tenant: str, item_id: str) -> Item | None: ...

    def get_many(self, kind: str, tenant: str, item_ids: list[str]) -> list[Item]: ...

    def list(self, kind: str, tenant: str, parent: str | None = None) -> list[Item]:
        """Every item of the kind for the tenant (under parent when given), oldest first."""
        ...

    def update(self, kind: str, tenant: str, item_id: str, changes: Mapping[str, Any]) -> Item | None:
        """Merge changes into an existing item; None when it does not exist (nothing is created)."""
        ...

    def increment(self, kind: str, tenant: str, item_id: str, deltas: Mapping[str, int | float]) -> Item | None:
        """Atomically add numbers to fields of an existing item."""
        ...

    def delete(self, kind: str, tenant: str, item_id: str) -> bool: ...

    def delete_under(self, kind: str, tenant: str, parent: str) -> int:
        """Delete every item of the kind under parent; returns how many."""
        ...

    def claim(self, tenant: str, scope: str, key: str, owner: str) -> bool:
        """Reserve a unique key (e.g. a dataset name); False when another owner holds it."""
        ...

    def release(self, tenant: str, scope: str, key: str, owner: str) -> None: ...


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]: ...

    def upload_url(self, key: str, expires_s: int, content_type: str) -> str:
        """A URL a client can PUT the bytes to directly (presigned on S3)."""
        ...
