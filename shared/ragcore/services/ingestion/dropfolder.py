"""The drop folder: `inbox/<dataset name or id>/<path>` becomes a parsed document of that dataset.

Locally a watcher of ./var/inbox/ calls this; on AWS the ingest Lambda does, from S3 events. A file that
reappears with new bytes is re-ingested; the same bytes again change nothing (repeated events are safe);
a removed file removes its document and every chunk of it.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.datasets import CreateDataset
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.domain.validation import parse_model
from ragcore.ids import is_hex_id
from ragcore.ports import MetadataStore
from ragcore.services.knowledge.datasets import DatasetService
from ragcore.services.knowledge.document_parsing import ParseControl
from ragcore.services.knowledge.documents import DocumentService

log = logging.getLogger("ragcore.dropfolder")
KIND = kinds.INBOX


def _key(relpath: str) -> str:
    return hashlib.sha256(relpath.encode("utf-8")).hexdigest()[:32]


def split_relpath(relpath: str) -> tuple[str, str] | None:
    """'<dataset>/<sub/path/file>' → (dataset ref, file path); None for files directly in inbox/."""
    parts = [p for p in relpath.replace("\\", "/").split("/") if p]
    if len(parts) < 2 or any(p in (".", "..") for p in parts):
        return None
    return parts[0], "/".join(parts[1:])


class DropFolderService:
    def __init__(self, store: MetadataStore, datasets: DatasetService, documents: DocumentService,
                 parsing: ParseControl) -> None:
        self._store = store
        self._datasets = datasets
        self._documents = documents
        self._parsing = parsing

    def _dataset(self, tenant: str, ref: str, *, create: bool) -> dict[str, Any] | None:
        if is_hex_id(ref):
            found = self._datasets.find(tenant, ref)
            if found is not None:
                return found
        found = self._datasets.find_by_name(tenant, ref)
        if found is None and create:
            found = self._datasets.create(tenant, parse_model(CreateDataset, {"name": ref}))
        return found

    def put(self, tenant: str, relpath: str, data: bytes) -> str | None:
        """Ingest (or re-ingest) one dropped file; returns the document id, None when ignored."""
        split = split_relpath(relpath)
        if split is None:
            log.warning("ignored %r: put files under inbox/<dataset>/", relpath)
            return None
        ref, path = split
        name = path.rsplit("/", 1)[-1]
        if name.startswith(".") or not self._documents_supported(name):
            log.warning("ignored %r: hidden or unsupported file type", relpath)
            return None
        dataset = self._dataset(tenant, ref, create=True)
        assert dataset is not None
        digest = hashlib.sha256(data).hexdigest()
        key = _key(f"{dataset['id']}/{path}")
        mapping = self._store.get(KIND, tenant, key)
        if mapping is not None:
            doc = self._store.get(DOC_KIND, tenant, mapping["document_id"])
            if doc is not None and doc.get("_hash") == digest:
                return str(doc["id"])  # same bytes: a repeated event
            if doc is not None:
                self._documents.delete_one(tenant, doc)
        view = self._documents.create_from_bytes(tenant, dataset["id"], name, data, source=f"inbox:{relpath}")
        self._store.put(KIND, tenant, {"id": key, "document_id": view["id"], "relpath": relpath, "dataset_id": dataset["id"]})
        doc = self._store.get(DOC_KIND, tenant, view["id"])
        if doc is not None:
            self._parsing.queue_parse(tenant, dataset, doc)
        return str(view["id"])

    def remove(self, tenant: str, relpath: str) -> bool:
        split = split_relpath(relpath)
        if split is None:
            return False
        ref, path = split
        dataset = self._dataset(tenant, ref, create=False)
        if dataset is None:
            return False
        key = _key(f"{dataset['id']}/{path}")
        mapping = self._store.get(KIND, tenant, key)
        if mapping is None:
            return False
        doc = self._store.get(DOC_KIND, tenant, mapping["document_id"])
        if doc is not None:
            self._documents.delete_one(tenant, doc)
        self._store.delete(KIND, tenant, key)
        return True

    def known(self, tenant: str) -> list[str]:
        return [m["relpath"] for batch in self._store.batches(KIND, tenant, "") for m in batch]

    def _documents_supported(self, name: str) -> bool:
        from ragcore.parsing import is_supported

        return bool(is_supported(name))
