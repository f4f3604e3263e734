"""What RAGFlow serves around a document besides its rows: thumbnails and images, previews, status switches in
bulk, loose uploads (`POST /documents/upload`) and code-sandbox artifacts.

Every read is by id under the caller's tenant, so another tenant's ids answer exactly as ids that do not exist.
"""

from __future__ import annotations

import mimetypes
import re
import time
from typing import Any, NoReturn

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.parsing.thumbnails import has_thumbnail, thumbnail_png
from ragcore.ports import BlobStore, MetadataStore
from ragcore.services.common import stamp_update
from ragcore.services.knowledge.chunks.store import ChunkStore

DOC_KIND = kinds.DOCUMENT  # owned by services.documents (not imported: that module imports this one)
MAX_IDS = 100  # RAGFlow's REST_API_MAX_IDS
THUMBNAIL_NAME = re.compile(r"^thumbnail_([0-9a-f]{32})\.png$")
CHUNK_ID = re.compile(r"^[0-9a-f]{32}$")
IMAGE_URL = "/api/v1/documents/images/{dataset_id}-{name}"
# RAGFlow's CONTENT_TYPE_MAP where it differs from (or is missing in) Python's mimetypes table
CONTENT_TYPES = {
    "md": "text/markdown", "markdown": "text/markdown", "mdx": "text/markdown", "py": "text/plain", "js": "text/plain",
    "java": "text/plain", "c": "text/plain", "cpp": "text/plain", "h": "text/plain", "php": "text/plain",
    "go": "text/plain", "ts": "text/plain", "sh": "text/plain", "cs": "text/plain", "kt": "text/plain",
    "sql": "text/plain", "ico": "image/x-icon", "avif": "image/avif", "heic": "image/heic", "webp": "image/webp",
}
# a browser must not render these inline from our origin (script in HTML/SVG)
FORCE_ATTACHMENT_SUFFIXES = {"htm", "html", "shtml", "xht", "xhtml", "xml", "mhtml", "svg"}
FORCE_ATTACHMENT_TYPES = {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml",
                          "multipart/related"}
ARTIFACT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
                  ".pdf": "application/pdf", ".csv": "text/csv", ".json": "application/json", ".html": "text/html"}


def thumbnail_key(document_blob: str) -> str:
    """Beside the document's bytes, so whatever removes those finds it."""
    return f"{document_blob}.thumbnail.png"


def chunk_images_prefix(document_blob: str) -> str:
    return f"{document_blob}.chunks/"


def chunk_image_key(document_blob: str, chunk_id: str) -> str:
    """A chunk's picture (JPEG), beside the document's bytes: purged with them."""
    return f"{chunk_images_prefix(document_blob)}{chunk_id}.jpg"


def store_thumbnail(blobs: BlobStore, document_blob: str, document_id: str, suffix: str, data: bytes, *,
                    wait: bool = True) -> str:
    """Render and keep a document's thumbnail; its name for the document row ("" when the type has none)."""
    png = thumbnail_png(suffix, data, wait=wait) if has_thumbnail(suffix) else None
    if png is None:
        return ""
    blobs.put(thumbnail_key(document_blob), png, "image/png")
    return f"thumbnail_{document_id}.png"


def content_type(suffix: str, *, visual: bool = False) -> str:
    """RAGFlow's content type for a file suffix ("image/<suffix>" or "application/<suffix>" when unknown)."""
    known = CONTENT_TYPES.get(suffix) or mimetypes.types_map.get(f".{suffix}")
    return known or f"{'image' if visual else 'application'}/{suffix}"


def forced_attachment(suffix: str, mime: str) -> bool:
    return suffix in FORCE_ATTACHMENT_SUFFIXES or mime.split(";")[0].strip().lower() in FORCE_ATTACHMENT_TYPES


def safe_filename(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name.replace("\\", "/").rsplit("/", 1)[-1], flags=re.ASCII)


class DocumentAssets:
    def __init__(self, store: MetadataStore, blobs: BlobStore, chunks: ChunkStore, *, max_upload_bytes: int) -> None:
        self._store = store
        self._blobs = blobs
        self._chunks = chunks
        self._max_upload = max_upload_bytes

    # ---- status ---------------------------------------------------------------------------------
    def batch_update_status(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, dict[str, str]]:
        """Switch documents on ("1") or off ("0"); per-document outcomes, ApiError(500, "Partial failure") with them
        when any failed (RAGFlow's shape)."""
        doc_ids = payload.get("doc_ids", [])
        if not isinstance(doc_ids, list) or not doc_ids:
            raise ApiError(RetCode.ARGUMENT_ERROR, '"doc_ids" must be a non-empty list.')
        if any(not isinstance(doc_id, str) or not doc_id for doc_id in doc_ids):
            raise ApiError(RetCode.ARGUMENT_ERROR, '"doc_ids" must contain non-empty document IDs.')
        status = str(payload.get("status", -1))
        if status not in ("0", "1"):
            raise ApiError(RetCode.ARGUMENT_ERROR, f'"Status" must be either 0 or 1:{status}!')
        if self._store.get(DATASET_KIND, tenant, dataset_id) is None:
            raise ApiError(RetCode.DATA_ERROR, "you don't own the dataset")
        found = {item["id"]: item for item in self._store.get_many(DOC_KIND, tenant, list(dict.fromkeys(doc_ids)))}
        result: dict[str, dict[str, str]] = {}
        failed = False
        for doc_id in doc_ids:
            item = found.get(doc_id)
            if item is None:
                result[doc_id], failed = {"error": "Document not found"}, True
            elif item["dataset_id"] != dataset_id:
                result[doc_id], failed = {"error": "Document not found in this dataset."}, True
            elif str(item.get("status", "1")) == status:
                result[doc_id] = {"status": status}
            elif self._store.update(DOC_KIND, tenant, doc_id, stamp_update({"status": status})) is None:
                result[doc_id], failed = {"error": "Document not found"}, True  # deleted meanwhile
            else:
                self._chunks.set_document_available(tenant, doc_id, status == "1")
                result[doc_id] = {"status": status}
        if failed:
            raise ApiError(RetCode.SERVER_ERROR, "Partial failure", data=result)
        return result

    # ---- bytes ----------------------------------------------------------------------------------
    def preview(self, tenant: str, doc_id: str) -> tuple[bytes, dict[str, str]]:
        """A document's bytes and the headers to serve them inline (HTML and SVG as attachments)."""
        item = self._store.get(DOC_KIND, tenant, doc_id)
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, "document not found")
        data = self._blobs.get(item["_blob"])
        if not data:
            raise ApiError(RetCode.DATA_ERROR, "This file is empty.")
        suffix = item.get("suffix") or ""
        headers: dict[str, str] = {}
        if suffix:
            headers["Content-Type"] = content_type(suffix, visual=item.get("type") == "visual")
        if forced_attachment(suffix, headers.get("Content-Type", "")):
            headers.update({"X-Content-Type-Options": "nosniff", "Content-Disposition": "attachment"})
        else:
            name = safe_filename(item["name"])
            headers["Content-Disposition"] = f'inline; filename="{name}"' if name else "inline"
        headers.setdefault("Content-Type", "application/octet-stream")
        return data, headers

    def thumbnails(self, tenant: str, doc_ids: list[str]) -> dict[str, str]:
        """Each of the tenant's documents named → the URL of its thumbnail ("" when it has none)."""
        if not doc_ids:
            raise ApiError(RetCode.ARGUMENT_ERROR, 'Lack of "Document ID"', data=False)
        if len(doc_ids) > MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"doc_ids must contain at most {MAX_IDS} IDs")
        return {
            item["id"]: IMAGE_URL.format(dataset_id=item["dataset_id"], name=item["thumbnail"]) if item.get("thumbnail") else ""
            for item in self._store.get_many(DOC_KIND, tenant, list(dict.fromkeys(doc_ids)))
        }

    def image(self, tenant: str, image_id: str) -> tuple[bytes, str]:
        """An image by RAGFlow's id `<dataset_id>-<name>` (split at the first hyphen), if the dataset is the tenant's:
        a document's thumbnail (`thumbnail_<doc_id>.png`) or a chunk's picture (the chunk id, its `img_id`)."""
        dataset_id, _, name = image_id.partition("-")
        if CHUNK_ID.match(name):
            return self._chunk_image(tenant, dataset_id, name), "image/jpeg"
        match = THUMBNAIL_NAME.match(name)
        if not dataset_id or not match or self._store.get(DATASET_KIND, tenant, dataset_id) is None:
            raise ApiError(RetCode.DATA_ERROR, "Image not found.")
        doc = self._store.get(DOC_KIND, tenant, match.group(1))
        data = self._blobs.get(thumbnail_key(doc["_blob"])) if doc is not None and doc["dataset_id"] == dataset_id else None
        if not data:
            raise ApiError(RetCode.DATA_ERROR, "Image not found.")
        return data, "image/png"  # thumbnails are PNG

    def _chunk_image(self, tenant: str, dataset_id: str, chunk_id: str) -> bytes:
        chunk = self._chunks.get(tenant, chunk_id)  # the tenant's own chunks only
        doc = self._store.get(DOC_KIND, tenant, chunk["document_id"]) if chunk else None
        if chunk is None or doc is None or chunk.get("dataset_id") != dataset_id \
                or chunk.get("image_id") != f"{dataset_id}-{chunk_id}":
            raise ApiError(RetCode.DATA_ERROR, "Image not found.")
        data = self._blobs.get(chunk_image_key(doc["_blob"], chunk_id))
        if not data:
            raise ApiError(RetCode.DATA_ERROR, "Image not found.")
        return data

    def artifact(self, filename: str) -> NoReturn:
        """A code-sandbox artifact. Names are checked as RAGFlow does; our agents' code runners keep no files, so a
        well-formed name is never one of the caller's artifacts."""
        if "/" in filename or "\\" in filename:
            raise ApiError(RetCode.DATA_ERROR, "Invalid filename.")
        dot = filename.rfind(".")
        if dot <= 0 or filename[dot:].lower() not in ARTIFACT_TYPES:
            raise ApiError(RetCode.DATA_ERROR, "invalid file type")
        raise ApiError(RetCode.DATA_ERROR, "Artifact not found.")

    # ---- loose uploads ----------------------------------------------------------------------------
    def upload_info(self, tenant: str, files: list[tuple[str, str, bytes]]) -> list[dict[str, Any]]:
        """Files kept for the tenant outside any dataset (RAGFlow's FileService.upload_info: chat attachments)."""
        for name, _, data in files:
            if len(data) > self._max_upload:
                raise ApiError(RetCode.ARGUMENT_ERROR,
                               f"{name}: the file is larger than the {self._max_upload // (1024 * 1024)} MB limit.")
        out = []
        for name, mime, data in files:
            location = new_id()
            self._blobs.put(f"uploads/{tenant}/{location}", data, mime or "application/octet-stream")
            out.append({"id": location, "name": name, "size": len(data), "extension": name.split(".")[-1].lower(),
                        "mime_type": mime or None, "created_by": tenant, "created_at": time.time(), "preview_url": None})
        return out

