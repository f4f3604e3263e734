"""One BlobStore contract, run against local files and S3 (moto)."""

from __future__ import annotations

from typing import Any


def test_put_get_delete(blobs: Any) -> None:
    assert blobs.get("docs/t1/a") is None and not blobs.exists("docs/t1/a")
    blobs.put("docs/t1/a", b"\x00bytes\xff")
    assert blobs.get("docs/t1/a") == b"\x00bytes\xff" and blobs.exists("docs/t1/a")
    blobs.put("docs/t1/a", b"replaced")
    assert blobs.get("docs/t1/a") == b"replaced"
    blobs.delete("docs/t1/a")
    blobs.delete("docs/t1/a")  # deleting twice is fine
    assert blobs.get("docs/t1/a") is None


def test_list_and_delete_prefix(blobs: Any) -> None:
    for name in ("docs/t1/x/1", "docs/t1/x/2", "docs/t1/y/1", "docs/t2/x/1"):
        blobs.put(name, name.encode())
    assert sorted(blobs.list("docs/t1/x/")) == ["docs/t1/x/1", "docs/t1/x/2"]
    assert blobs.delete_prefix("docs/t1/") == 3
    assert list(blobs.list("docs/t1/")) == [] and blobs.get("docs/t2/x/1") == b"docs/t2/x/1"


def test_empty_blob_and_upload_url(blobs: Any) -> None:
    blobs.put("docs/t1/empty", b"")
    assert blobs.get("docs/t1/empty") == b""
    url = blobs.upload_url("docs/t1/big", 3600, "application/octet-stream")
    assert url.startswith("http") and "big" in url
