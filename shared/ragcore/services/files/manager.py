"""The file manager: a folder tree per tenant, file bytes in the blob store, links from files to datasets.

The root folder is created on first use (its parent is itself, as in RAGFlow). A move never creates a cycle,
a name is unique within its folder, and deleting a folder removes everything below it — rows, bytes and the
documents linked from those files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.documents import doc_type
from ragcore.domain.files import CreateFolderReq, DeleteFileReq, ListFilesQuery, MoveFileReq
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.ids import new_id
from ragcore.ports import BlobStore, ListQuery, MetadataStore
from ragcore.services.common import stamp_new, stamp_update
from ragcore.services.knowledge.documents import DocumentService, split_name

KIND = kinds.FILE
LINK = "file2doc"
COUNTER = kinds.FILE_COUNT  # one item per tenant: how many files and folders it has (its quota)
ROOT = "_root"
ROOTS = "_roots"  # where a tenant's root folder (and the pointer to it) is stored: apart from any folder's children


def _not_found(message: str = "File or Folder not found!") -> ApiError:
    # RAGFlow's file_api answers every service refusal with get_error_data_result (code 102)
    return ApiError(RetCode.DATA_ERROR, message)


def blob_key(tenant: str, file_id: str) -> str:
    return f"files/{tenant}/{file_id}"


class FileService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, documents: Callable[[], DocumentService], *,
                 max_files: int, max_bytes: int) -> None:
        self._store = store
        self._blobs = blobs
        self._documents = documents
        self._max_files = max_files
        self._max_bytes = max_bytes

    # ---- tree ---------------------------------------------------------------------------------
    def root(self, tenant: str) -> dict[str, Any]:
        pointer = self._store.get(KIND, tenant, ROOT)
        if pointer is not None:
            found = self._store.get(KIND, tenant, pointer["root_id"])
            if found is not None:
                if not pointer.get("apart"):  # a root stored among its own children (older data) moves out once
                    self._store.put(KIND, tenant, found, parent=ROOTS)
                    self._store.update(KIND, tenant, ROOT, {"apart": True})
                return found
        root_id = new_id()
        if self._store.put(KIND, tenant, {"id": ROOT, "root_id": root_id, "apart": True}, parent=ROOTS, if_absent=True):
            item = stamp_new({"id": root_id, "parent_id": root_id, "name": "/", "type": "folder", "size": 0,
                              "location": "", "source_type": "", "tenant_id": tenant, "created_by": tenant})
            # the root's parent_id is itself (as in RAGFlow) but it is stored apart, so it never lists as its own child
            self._store.put(KIND, tenant, item, parent=ROOTS)
            return item
        return self.root(tenant)  # another request created it first

    def _get(self, tenant: str, file_id: Any) -> dict[str, Any] | None:
        if not isinstance(file_id, str) or file_id == ROOT:
            return None
        return self._store.get(KIND, tenant, file_id)

    def get(self, tenant: str, file_id: Any) -> dict[str, Any]:
        item = self._get(tenant, file_id)
        if item is None:
            raise _not_found()
        return item

    def folder(self, tenant: str, folder_id: Any, message: str = "Folder not found!") -> dict[str, Any]:
        if folder_id in (None, ""):
            return self.root(tenant)
        item = self._get(tenant, folder_id)
        if item is None or item["type"] != "folder":
            raise _not_found(message)
        return item

    def children(self, tenant: str, folder_id: str) -> Iterator[dict[str, Any]]:
        """Everything in a folder (work about the whole folder: deletes and links of a folder tree)."""
        for batch in self._store.batches(KIND, tenant, folder_id):
            yield from batch

    def _named(self, tenant: str, folder_id: str, name: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The folder's entries of this name, any case (an indexed lookup)."""
        query = ListQuery(KIND, tenant, folder_id, name_equals=name, where={"type": [kind]} if kind else {})
        return self._store.page(query, 0, 10)

    def view(self, tenant: str, item: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in item.items() if not k.startswith("_")}
        if item["type"] == "folder":
            out["kbs_info"] = []
            out["has_child_folder"] = self._store.count(ListQuery(KIND, tenant, item["id"], where={"type": ["folder"]})) > 0
        else:
            out["kbs_info"] = item["_kbs"] if "_kbs" in item else [
                {"kb_id": link["kb_id"], "kb_name": link.get("kb_name", "")} for link in self._links(tenant, item["id"])]
        return out

    def _links(self, tenant: str, file_id: str) -> list[dict[str, Any]]:
        return [link for batch in self._store.batches(LINK, tenant, file_id) for link in batch]

    def ancestors(self, tenant: str, file_id: str) -> list[dict[str, Any]]:
        item = self._get(tenant, file_id)
        if item is None:
            raise _not_found("Folder not found!")  # RAGFlow's get_all_parent_folders words it so
        chain = []
        seen = {item["id"]}
        while item["parent_id"] != item["id"]:
            parent = self._get(tenant, item["parent_id"])
            if parent is None or parent["id"] in seen:
                break
            chain.append({"id": parent["id"], "name": parent["name"]})
            seen.add(parent["id"])
            item = parent
        return chain

    def parent(self, tenant: str, file_id: str) -> dict[str, Any]:
        item = self._get(tenant, file_id)
        if item is None:
            raise _not_found("Folder not found!")  # RAGFlow's get_parent_folder words it so
        parent = self.folder(tenant, item["parent_id"])
        return {"id": parent["id"], "name": parent["name"]}

    def list_folder(self, tenant: str, req: ListFilesQuery) -> dict[str, Any]:
        folder = self.folder(tenant, req.parent_id or None)
        orderby = req.orderby if req.orderby in ("create_time", "update_time", "name") else "create_time"
        page, page_size = req.page, req.page_size
        query = ListQuery(KIND, tenant, folder["id"], order=orderby, desc=req.desc, name_contains=req.keywords)
        return {"total": self._store.count(query),
                "files": [self.view(tenant, i) for i in self._store.page(query, (page - 1) * page_size, page_size)],
                "parent_folder": {"id": folder["id"], "name": folder["name"]}}

    # ---- create -------------------------------------------------------------------------------
    def _check_quota(self, tenant: str, adding: int) -> None:
        counted = self._store.get(COUNTER, tenant, "files")
        if counted is not None and int(counted.get("n", 0)) + adding > self._max_files:
            raise ApiError(RetCode.DATA_ERROR, "Exceed the maximum file number of a free user!")

    def _counted(self, tenant: str, delta: int) -> None:
        """The tenant's file count (its quota), kept with every create and delete."""
        if self._store.increment(COUNTER, tenant, "files", {"n": delta}) is None:
            self._store.put(COUNTER, tenant, {"id": "files", "n": 0}, if_absent=True)
            self._store.increment(COUNTER, tenant, "files", {"n": delta})

    def _free_name(self, tenant: str, folder_id: str, name: str) -> str:
        stem, suffix = split_name(name)
        candidate, n = name, 0
        while self._named(tenant, folder_id, candidate):
            n += 1
            candidate = f"{stem}({n}).{name.rpartition('.')[2]}" if suffix else f"{name}({n})"
        return candidate

    def upload(self, tenant: str, parent_id: str | None, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        if not files:
            raise ApiError(RetCode.BAD_REQUEST, "No file part!")
        folder = self.folder(tenant, parent_id or None, "Can't find this folder!")
        for name, data in files:
            if not name:
                raise ApiError(RetCode.BAD_REQUEST, "No file selected!")
            if len(data) > self._max_bytes:
                raise ApiError(RetCode.ARGUMENT_ERROR, f"{name}: the file is larger than the {self._max_bytes // (1024 * 1024)} MB limit.")
        self._check_quota(tenant, len(files))
        out = []
        for raw_name, data in files:
            # a path in the file name puts the file in (new) sub-folders, as a folder upload does
            parts = [p for p in raw_name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
            target = folder
            for part in parts[:-1]:
                existing = next((c for c in self._named(tenant, target["id"], part, "folder") if c["name"] == part), None)
                target = existing or self._new(tenant, target["id"], part, "folder", 0)
            name = self._free_name(tenant, target["id"], parts[-1] if parts else "file")
            item = self._new(tenant, target["id"], name, doc_type(split_name(name)[1]), len(data),
                             sha256=hashlib.sha256(data).hexdigest())
            self._blobs.put(blob_key(tenant, item["id"]), data)
            out.append(self.view(tenant, item))
        return out

    def _new(self, tenant: str, parent_id: str, name: str, kind: str, size: int, *, sha256: str | None = None) -> dict[str, Any]:
        item = stamp_new({"id": new_id(), "parent_id": parent_id, "name": name, "type": kind, "size": size, "location": name,
                          "source_type": "", "tenant_id": tenant, "created_by": tenant})
        if sha256:
            item["_sha256"] = sha256  # the content's hash, which commits compare without reading the bytes
        self._store.put(KIND, tenant, item, parent=parent_id)
        self._counted(tenant, 1)
        return item

    def create(self, tenant: str, req: CreateFolderReq) -> dict[str, Any]:
        name = req.name
        if "/" in name:
            raise ApiError(RetCode.DATA_ERROR, 'Folder name cannot contain "/"')
        # RAGFlow: type "folder" (any case) makes a folder, anything else a virtual file
        kind = "folder" if (req.type or "folder").lower() == "folder" else "virtual"
        folder = self.folder(tenant, req.parent_id or None, "Parent Folder Doesn't Exist!")
        if self._named(tenant, folder["id"], name):
            raise ApiError(RetCode.DATA_ERROR, "Duplicated folder name in the same folder.")
        self._check_quota(tenant, 1)
        return self.view(tenant, self._new(tenant, folder["id"], name, kind, 0))

    def content(self, tenant: str, file_id: str) -> tuple[str, bytes]:
        item = self._get(tenant, file_id)
        if item is None or item["type"] == "folder":
            raise _not_found("document not found")
        return item["name"], self._blobs.get(blob_key(tenant, item["id"])) or b""

    def write_content(self, tenant: str, file_id: str, data: bytes, sha256: str) -> None:
        """A file's new bytes (a workspace commit's add/modify); nothing is written when they are the same."""
        item = self._get(tenant, file_id)
        if item is None or item["type"] == "folder" or item.get("_sha256") == sha256:
            return
        self._blobs.put(blob_key(tenant, file_id), data)
        self._store.update(KIND, tenant, file_id, stamp_update({"size": len(data), "_sha256": sha256}))

    # ---- change -------------------------------------------------------------------------------
    def rename(self, tenant: str, file_id: str, new_name: str, apply: bool) -> None:
        self.move(tenant, MoveFileReq(src_file_ids=[file_id], new_name=new_name), apply=apply)

    def move(self, tenant: str, req: MoveFileReq, *, apply: bool = True) -> bool:
        """Moves and/or renames; with apply=False only checks that it would succeed (raising what it would)."""
        ids, dest_id, new_name = req.src_file_ids, req.dest_file_id, req.new_name
        found = {it["id"]: it for it in (self._get(tenant, i) for i in ids) if it is not None}
        if not found:
            raise _not_found("Source files not found!")
        if any(i not in found for i in ids):
            raise _not_found("File or folder not found!")
        items = [found[i] for i in ids]
        dest = self.folder(tenant, dest_id, "Parent folder not found!") if dest_id else None
        if new_name is not None and "/" in new_name:
            raise ApiError(RetCode.DATA_ERROR, 'Name cannot contain "/"')
        root = self.root(tenant)
        for item in items:
            if item["id"] == root["id"]:
                raise ApiError(RetCode.DATA_ERROR, "The root folder can't be moved or renamed.")
            if new_name is not None and item["type"] != "folder" and split_name(new_name)[1] != split_name(item["name"])[1]:
                raise ApiError(RetCode.DATA_ERROR, "The extension of file can't be changed")
        if dest is not None:
            if any(item["type"] == "folder" and item["id"] == dest["id"] for item in items):
                raise ApiError(RetCode.DATA_ERROR, "Cannot move a folder to itself.")
            above = {a["id"] for a in self.ancestors(tenant, dest["id"])}
            if any(item["type"] == "folder" and item["id"] in above for item in items):
                raise ApiError(RetCode.DATA_ERROR, "Cannot move a folder into its own subfolder.")
        target_names: set[str] = set()
        for item in items:
            folder_id = dest["id"] if dest is not None else item["parent_id"]
            name = (new_name or item["name"]).strip()
            clash = any(c["id"] != item["id"] for c in self._named(tenant, folder_id, name))
            if clash or (folder_id, name.lower()) in target_names:
                raise ApiError(RetCode.DATA_ERROR, "Duplicated file name in the same folder.")
            target_names.add((folder_id, name.lower()))  # type: ignore[arg-type]
        if not apply:
            return True
        for item in items:
            folder_id = dest["id"] if dest is not None else item["parent_id"]
            name = (new_name or item["name"]).strip()
            self._store.put(KIND, tenant, stamp_update({**item, "parent_id": folder_id, "name": name, "location": name}), parent=folder_id)
        return True

    def delete(self, tenant: str, req: DeleteFileReq) -> dict[str, Any]:
        """RAGFlow's DeleteFileReq and its per-id errors; a request naming any file it cannot delete is refused whole
        (nothing is deleted) with RAGFlow's answer for a delete where every id failed."""
        ids = req.ids
        root = self.root(tenant)
        errors: list[str] = []
        targets = []
        for file_id in dict.fromkeys(ids):
            item = self._get(tenant, file_id)
            if item is None:
                errors.append(f"File or Folder not found: {file_id}")
            elif item["id"] == root["id"]:
                errors.append("The root folder can't be deleted.")
            else:
                targets.append(item)
        if errors:
            raise ApiError(RetCode.DATA_ERROR, f"Deleted files failed with {len(errors)} errors",
                           data={"success_count": 0, "errors": errors})
        for item in targets:
            self._remove_tree(tenant, item)
        return {"success_count": len(targets)}

    def _remove_tree(self, tenant: str, item: dict[str, Any]) -> None:
        for child in list(self.children(tenant, item["id"])):
            self._remove_tree(tenant, child)
        self._unlink(tenant, item)
        self._store.delete(KIND, tenant, item["id"])
        self._counted(tenant, -1)
        self._blobs.delete(blob_key(tenant, item["id"]))

    def _unlink(self, tenant: str, item: dict[str, Any]) -> None:
        """The file's links to datasets go, and the documents they made."""
        for link in self._links(tenant, item["id"]):
            doc = self._store.get("document", tenant, link["document_id"])
            if doc is not None:
                self._documents().delete_one(tenant, doc)
            self._store.delete(LINK, tenant, link["id"])

    # ---- datasets -----------------------------------------------------------------------------
    def link_to_datasets(self, tenant: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        require_arguments(payload, "file_ids", "kb_ids")
        file_ids, kb_ids = payload.get("file_ids"), payload.get("kb_ids")
        if not isinstance(file_ids, list) or not file_ids or not isinstance(kb_ids, list) or not kb_ids:
            raise ApiError(RetCode.ARGUMENT_ERROR, "`file_ids` and `kb_ids` are required lists.")
        # RAGFlow's order: every file first ("File not found!"), then every dataset
        sources = [self._get(tenant, file_id) if isinstance(file_id, str) else None for file_id in file_ids]
        if any(item is None for item in sources):
            raise _not_found("File not found!")
        datasets = []
        for kb_id in kb_ids:
            ds = self._store.get(DATASET_KIND, tenant, kb_id) if isinstance(kb_id, str) else None
            if ds is None:
                raise ApiError(RetCode.DATA_ERROR, "Can't find this dataset!")
            datasets.append(ds)
        files: list[dict[str, Any]] = []
        for source in sources:
            assert source is not None
            files.extend(self._files_under(tenant, source))
        out = []
        for item in files:
            # a file links to the datasets of the latest call: earlier links (and their documents) go
            self._unlink(tenant, item)
            data = self._blobs.get(blob_key(tenant, item["id"])) or b""
            kbs = []
            for ds in datasets:
                doc = self._documents().create_from_bytes(tenant, ds["id"], item["name"], data, source_file_id=item["id"])
                link = {"id": new_id(), "file_id": item["id"], "document_id": doc["id"], "kb_id": ds["id"], "kb_name": ds["name"]}
                self._store.put(LINK, tenant, link, parent=item["id"])
                kbs.append({"kb_id": ds["id"], "kb_name": ds["name"]})
                out.append({"id": link["id"], "file_id": item["id"], "document_id": doc["id"]})
            self._store.update(KIND, tenant, item["id"], {"_kbs": kbs})  # what a listing shows, kept on the file
        return out

    def _files_under(self, tenant: str, item: dict[str, Any]) -> list[dict[str, Any]]:
        if item["type"] != "folder":
            return [item]
        out: list[dict[str, Any]] = []
        for child in list(self.children(tenant, item["id"])):
            out.extend(self._files_under(tenant, child))
        return out
