"""Builds the adapters the settings ask for, once per process (a Lambda cold start or `make serve`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ragcore.config import Settings, get_settings
from ragcore.ports import BlobStore, MetadataStore


@dataclass
class Container:
    settings: Settings
    store: MetadataStore
    blobs: BlobStore
    extras: dict[str, Any] = field(default_factory=dict)


def build_container(settings: Settings) -> Container:
    if settings.runtime == "aws":
        from ragcore.adapters.dynamodb_store import DynamoMetadataStore
        from ragcore.adapters.s3_blobs import S3BlobStore

        return Container(
            settings=settings,
            store=DynamoMetadataStore(settings.table_name, endpoint_url=settings.aws_endpoint_url),
            blobs=S3BlobStore(settings.bucket_name, endpoint_url=settings.aws_endpoint_url),
        )
    from ragcore.adapters.local_blobs import LocalBlobStore
    from ragcore.adapters.sqlite_store import SqliteMetadataStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Container(
        settings=settings,
        store=SqliteMetadataStore(settings.sqlite_path),
        blobs=LocalBlobStore(settings.blob_dir, upload_base_url=f"http://{settings.host}:{settings.port}/api/v1/uploads"),
    )


@lru_cache(maxsize=1)
def get_container() -> Container:
    return build_container(get_settings())


_resetters: list[Callable[[], None]] = [get_settings.cache_clear, get_container.cache_clear]


def on_reset(clear: Callable[[], None]) -> None:
    """Register a per-process cache to drop when settings change (tests switch DATA_DIR)."""
    _resetters.append(clear)


def reset() -> None:
    for clear in _resetters:
        clear()
