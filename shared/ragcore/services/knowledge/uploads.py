"""Direct uploads for large files: a URL the client PUTs bytes to, outside the API's body limits.

On AWS the URL is a presigned S3 PUT (no Lambda in the path, so the 6 MB payload limit does not apply).
Locally it is a one-time token URL served by the same process.
"""

from __future__ import annotations

import hashlib
import time

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ports import BlobStore, MetadataStore

KIND = kinds.UPLOAD_TOKEN
GLOBAL = "_uploads"
TTL_S = 3600


class UploadService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, *, presigned: bool, max_bytes: int) -> None:
        self._store = store
        self._blobs = blobs
        self._presigned = presigned
        self._max_bytes = max_bytes

    def remember(self, token: str, tenant: str, blob_key: str, document_id: str) -> None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        self._store.put(KIND, GLOBAL, {"id": digest, "tenant": tenant, "blob": blob_key, "document_id": document_id,
                                       "expires": time.time() + TTL_S})

    def url(self, blob_key: str, token: str) -> str:
        if self._presigned:
            return self._blobs.upload_url(blob_key, TTL_S, "application/octet-stream")
        return self._blobs.upload_url(f"_token/{token}", TTL_S, "application/octet-stream").replace("/_token/", "/")

    def receive(self, token: str, data: bytes) -> str:
        digest = hashlib.sha256(token.encode()).hexdigest()
        grant = self._store.get(KIND, GLOBAL, digest)
        if grant is None or time.time() > float(grant["expires"]):
            raise ApiError(RetCode.FORBIDDEN, "The upload URL is unknown or expired.", http_status=403)
        if len(data) > self._max_bytes:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"The file is larger than the {self._max_bytes // (1024 * 1024)} MB limit.")
        self._blobs.put(grant["blob"], data)
        before = self._store.get(DOC_KIND, grant["tenant"], grant["document_id"])
        self._store.update(DOC_KIND, grant["tenant"], grant["document_id"],
                           {"size": len(data), "_hash": hashlib.sha256(data).hexdigest()})
        if before is not None and before.get("dataset_id"):
            self._store.increment(DATASET_KIND, grant["tenant"], before["dataset_id"],
                                  {"_size_total": len(data) - int(before.get("size") or 0)})
        self._store.delete(KIND, GLOBAL, digest)
        return str(grant["document_id"])
