"""Files handed to an agent (its upload route, a webhook's multipart body) and read back by id, as RAGFlow's
FileService.upload_info describes them. The bytes sit under the tenant's own prefix, so another tenant's id
reads like one that does not exist."""

from __future__ import annotations

import re
import time
from typing import Any

from ragcore.errors import ApiError, RetCode
from ragcore.ids import is_hex_id, new_id
from ragcore.ports import BlobStore

NAME_LIMIT = 255  # bytes, RAGFlow's FILE_NAME_LEN_LIMIT
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "doc": "application/msword",
    "pdf": "application/pdf", "csv": "text/csv", "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "txt": "text/plain",
    **dict.fromkeys(("py", "js", "java", "c", "cpp", "h", "php", "go", "ts", "sh", "cs", "kt", "sql"), "text/plain"),
    "md": "text/markdown", "markdown": "text/markdown", "mdx": "text/markdown", "htm": "text/html",
    "html": "text/html", "json": "application/json", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "gif": "image/gif", "bmp": "image/bmp", "tiff": "image/tiff", "tif": "image/tiff", "webp": "image/webp",
    "svg": "image/svg+xml", "ico": "image/x-icon", "avif": "image/avif", "heic": "image/heic",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# a browser would run these inline: always a download, never sniffed
FORCE_DOWNLOAD_EXT = {"htm", "html", "shtml", "xht", "xhtml", "xml", "mhtml", "svg"}
FORCE_DOWNLOAD_TYPES = {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml", "multipart/related"}


def blob_key(tenant: str, attachment_id: str) -> str:
    return f"agent-attachments/{tenant}/{attachment_id}"


def content_type(ext: str | None, mime_type: str | None) -> tuple[str, str]:
    """RAGFlow's resolution: the mime type (and its known extension) first, then the extension, else binary."""
    if mime_type:
        normalized = mime_type.lower().split(";")[0].strip()
        known = next((e for e, t in CONTENT_TYPES.items() if t == normalized), None)
        return normalized, known or (ext or "").lower().strip(".") or "bin"
    if ext:
        e = ext.lower().strip(".")
        return CONTENT_TYPES.get(e, f"application/{e}"), e
    return "application/octet-stream", "bin"


def disposition_headers(ctype: str, ext: str, filename: str | None, inline: bool) -> dict[str, str]:
    headers = {"Content-Type": ctype}
    if ext.lower().strip(".") in FORCE_DOWNLOAD_EXT or ctype.lower().split(";")[0].strip() in FORCE_DOWNLOAD_TYPES:
        return {**headers, "X-Content-Type-Options": "nosniff", "Content-Disposition": "attachment"}
    kind = "inline" if inline else "attachment"
    base = re.sub(r"[^\w.\-]", "_", str(filename).split("/")[-1].split("\\")[-1], flags=re.ASCII) if filename else ""
    return {**headers, "Content-Disposition": f'{kind}; filename="{base}"' if base else kind}


class AgentAttachments:
    def __init__(self, blobs: BlobStore, max_bytes: int) -> None:
        self._blobs = blobs
        self._max_bytes = max_bytes

    def _check(self, name: str, data: bytes) -> None:
        if len(name.encode("utf-8")) > NAME_LIMIT:
            raise ApiError(RetCode.EXCEPTION_ERROR, "Exceed the maximum length of file name!")
        if len(data) > self._max_bytes:
            raise ApiError(RetCode.EXCEPTION_ERROR, f"{name}: the file is larger than the {self._max_bytes // (1024 * 1024)} MB limit.")

    def store(self, tenant: str, name: str, data: bytes, mime_type: str | None) -> dict[str, Any]:
        self._check(name, data)
        attachment_id = new_id()
        self._blobs.put(blob_key(tenant, attachment_id), data, mime_type or "application/octet-stream")
        return {"id": attachment_id, "name": name, "size": len(data), "extension": name.split(".")[-1].lower(),
                "mime_type": mime_type, "created_by": tenant, "created_at": time.time(), "preview_url": None}

    def upload(self, tenant: str, files: list[tuple[str, bytes, str | None]], url: str | None) -> Any:
        if url:
            raise ApiError(RetCode.EXCEPTION_ERROR, "Fetching a web page into an agent attachment is not offered by ragflow-serverless.")
        for name, data, _ in files:  # all checked before any is kept
            self._check(name, data)
        stored = [self.store(tenant, name, data, mime) for name, data, mime in files]
        return stored[0] if len(stored) == 1 else stored

    def read(self, tenant: str, attachment_id: str) -> bytes:
        # ids are ours (32 hex): anything else, a path above all, is simply not found
        data = self._blobs.get(blob_key(tenant, attachment_id)) if is_hex_id(attachment_id) else None
        if not data:
            raise ApiError(RetCode.DATA_ERROR, "document not found")
        return data
