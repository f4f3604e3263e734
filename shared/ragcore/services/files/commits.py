"""Commits of a workspace folder or a dataset: RAGFlow's file_commit routes.

A commit is a snapshot of its scope's file metadata (the "tree": id → name, parent, size, content hash), kept as one
JSON blob named by its own hash, beside the commit's changes (one item per changed file, listed in the store) and
one version record per changed file (a file's history, listed in the store). File content is kept once per
distinct SHA-256 under the tenant (`commits/<tenant>/objects/<hash>`): a file unchanged between commits, or the
same bytes in two files, is stored once.

Scopes, as RAGFlow's two URL prefixes name them: a workspace is a folder of the file manager (its files are the
files anywhere below it); a dataset's files are its documents. A workspace commit applies its changes to the live
files as RAGFlow does (new content, a new name); a dataset commit only records them (a document's bytes change by
re-upload and re-parse, not by a commit).

Bounded work: a commit names at most MAX_FILES changes and its tree holds at most MAX_FILES files; a diff, a tree,
uncommitted changes and a commit's detail read at most that many entries per side. A scope past the bound is
answered with a clear error, never read whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import BlobStore, ListQuery, MetadataStore
from ragcore.services.common import stamp_new
from ragcore.services.files.commit_model import (
    DEFAULT_PAGE_SIZE,
    MAX_FILES,
    MAX_PAGE_SIZE,
    OPERATIONS,
    Change,
    Scope,
    Tree,
    argument_error,
    data_error,
    object_key,
    object_location,
    page_size_param,
    positive_int,
    sha256_hex,
    too_many_files,
    tree_key,
)

_READ_BATCH = 500
COMMIT = kinds.FILE_COMMIT
CHANGE = kinds.FILE_COMMIT_ITEM
VERSION = kinds.FILE_VERSION
FILE = kinds.FILE
DOCUMENT = kinds.DOCUMENT
class FileCommitService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, *, max_bytes: int,
                 file_blob: Callable[[str, str], str], write_file: Callable[[str, str, bytes, str], None],
                 rename_file: Callable[[str, str, str, bool], None], document_blob: Callable[[dict[str, Any]], bytes | None]) -> None:
        self._store = store
        self._blobs = blobs
        self._max_bytes = max_bytes
        self._file_blob = file_blob  # (tenant, file id) → the file manager's blob key
        self._write_file = write_file  # (tenant, file id, bytes, sha256): a workspace file's new content
        self._rename_file = rename_file  # (tenant, file id, new name, apply): checks (and applies) a rename
        self._document_blob = document_blob

    # ---- scopes -------------------------------------------------------------------------------
    def scope(self, tenant: str, kind: str, entity_id: str) -> Scope:
        """The workspace folder or dataset the URL names; another tenant's answers like a missing one (as RAGFlow's
        resolver words a missing dataset)."""
        item: dict[str, Any] | None = None
        if entity_id:
            if kind == "datasets":
                item = self._store.get(DATASET_KIND, tenant, entity_id)
            else:
                found = self._store.get(FILE, tenant, entity_id)
                item = found if found is not None and found.get("type") == "folder" else None
        if item is None:
            raise ApiError(RetCode.EXCEPTION_ERROR, f"ValueError(\"Could not resolve {kind} '{entity_id}' to a folder\")")
        return Scope(kind, item["id"], str(item.get("name") or item["id"]))

    def _under(self, tenant: str, scope: Scope, item: dict[str, Any]) -> bool:
        """Whether a file manager entry lies anywhere below the workspace folder (a walk up its folders)."""
        seen: set[str] = set()
        current = item
        while current["parent_id"] != current["id"] and current["parent_id"] not in seen:
            if current["parent_id"] == scope.id:
                return True
            seen.add(current["id"])
            parent = self._store.get(FILE, tenant, current["parent_id"])
            if parent is None:
                return False
            current = parent
        return False

    def _live(self, tenant: str, scope: Scope, file_id: str) -> dict[str, Any] | None:
        if scope.kind == "datasets":
            doc = self._store.get(DOCUMENT, tenant, file_id)
            return doc if doc is not None and doc.get("dataset_id") == scope.id else None
        item = self._store.get(FILE, tenant, file_id)
        if item is None or item.get("type") == "folder" or not self._under(tenant, scope, item):
            return None
        return item

    def _live_bytes(self, tenant: str, scope: Scope, item: dict[str, Any]) -> bytes:
        if scope.kind == "datasets":
            return self._document_blob(item) or b""
        return self._blobs.get(self._file_blob(tenant, item["id"])) or b""

    def _live_hash(self, tenant: str, scope: Scope, item: dict[str, Any]) -> str:
        """The live content's SHA-256: kept on documents and on files written since commits exist; otherwise read
        once and kept on the file."""
        field = "_hash" if scope.kind == "datasets" else "_sha256"
        if item.get(field):
            return str(item[field])
        digest = sha256_hex(self._live_bytes(tenant, scope, item))
        self._store.update(DOCUMENT if scope.kind == "datasets" else FILE, tenant, item["id"], {field: digest})
        return digest

    def _live_parent(self, scope: Scope, item: dict[str, Any] | None) -> str | None:
        if item is None:
            return None
        return scope.id if scope.kind == "datasets" else str(item.get("parent_id") or "") or None

    def _live_all(self, tenant: str, scope: Scope) -> dict[str, dict[str, Any]]:
        """Every live file of the scope, at most MAX_FILES (else an error before the entries are read): the
        collections are counted first (kept counts), then read a page at a time."""
        if scope.kind == "datasets":
            query = ListQuery(DOCUMENT, tenant, scope.id, order="create_time", desc=False)
            if self._store.count(query) > MAX_FILES:
                raise too_many_files(scope, MAX_FILES)
            return {d["id"]: d for d in self._pages(query)}
        found: dict[str, dict[str, Any]] = {}
        folders, budget = [scope.id], MAX_FILES
        while folders:
            folder = folders.pop()
            query = ListQuery(FILE, tenant, folder, order="create_time", desc=False)
            budget -= self._store.count(query)  # folders count too: a deep empty tree is work as well
            if budget < 0:
                raise too_many_files(scope, MAX_FILES)
            for item in self._pages(query):
                if item.get("type") == "folder":
                    folders.append(item["id"])
                elif item["id"] != folder:
                    found[item["id"]] = item
        return found

    def _pages(self, query: ListQuery) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            batch = self._store.page(query, len(out), _READ_BATCH)
            out.extend(batch)
            if len(batch) < _READ_BATCH:
                return out

    # ---- commits ------------------------------------------------------------------------------
    def _latest(self, tenant: str, scope: Scope) -> dict[str, Any] | None:
        return next(iter(self._store.page(ListQuery(COMMIT, tenant, scope.id, order="create_time", desc=True), 0, 1)), None)

    def _tree(self, tenant: str, commit: dict[str, Any] | None) -> Tree:
        if commit is None or not commit.get("_tree"):
            return {}
        raw = self._blobs.get(commit["_tree"])
        if raw is None:
            return {}
        tree: Tree = json.loads(raw)
        return tree

    def commit(self, tenant: str, scope: Scope, commit_id: Any) -> dict[str, Any]:
        item = self._store.get(COMMIT, tenant, commit_id) if isinstance(commit_id, str) and commit_id else None
        if item is None:
            raise data_error("Commit not found")
        if item.get("folder_id") != scope.id:
            raise data_error("Commit not found in workspace")
        return item

    def create(self, tenant: str, scope: Scope, body: dict[str, Any]) -> dict[str, Any]:
        message, files = body.get("message"), body.get("files")
        if not isinstance(message, str):
            raise argument_error("`message` must be a string.")
        if len(message) > 512:
            raise argument_error("`message` is longer than 512 characters.")
        if not isinstance(files, list):
            raise argument_error("`files` must be a list of file changes.")
        if len(files) > MAX_FILES:
            raise argument_error(f"A commit holds at most {MAX_FILES} file changes, got {len(files)}.")
        latest = self._latest(tenant, scope)
        tree = self._tree(tenant, latest)
        changes = self._check(tenant, scope, files, tree)
        added = {c.file_id for c in changes if c.operation in ("add", "modify") and c.file_id not in tree}
        if len(tree) + len(added) > MAX_FILES:
            raise too_many_files(scope, MAX_FILES)

        # every check has passed: from here the commit is written and applied
        commit_id = new_id()
        items: list[dict[str, Any]] = []
        for position, change in enumerate(changes):
            items.append(self._apply(tenant, scope, change, tree, commit_id, position))
        tree_json = json.dumps(tree, ensure_ascii=False)
        raw = tree_json.encode("utf-8")
        tree_blob = tree_key(tenant, sha256_hex(raw))
        if not self._blobs.exists(tree_blob):
            self._blobs.put(tree_blob, raw, "application/json")
        commit = stamp_new({
            "id": commit_id, "folder_id": scope.id, "parent_id": latest["id"] if latest else None, "message": message,
            "author_id": tenant, "file_count": len(changes), "title": None, "comments": None,
            "_scope": scope.kind, "_tree": tree_blob, "_tree_count": len(tree),
        })
        for item in items:
            item.update({k: commit[k] for k in ("create_time", "create_date", "update_time", "update_date")})
        self._store.put_many(CHANGE, tenant, items, parent=commit_id)
        for item in items:
            version = {"id": new_id(), "commit_id": commit_id, "file_id": item["file_id"], "operation": item["operation"],
                       "hash": item.get("new_hash") or item.get("old_hash") or "", "message": message,
                       **{k: commit[k] for k in ("create_time", "create_date", "update_time", "update_date")}}
            self._store.put(VERSION, tenant, version, parent=item["file_id"])
        # the commit is written last, so a listing never shows a commit whose changes are not all stored
        self._store.put(COMMIT, tenant, commit, parent=scope.id)
        return {"id": commit_id, "folder_id": scope.id, "parent_id": commit["parent_id"], "message": message,
                "author_id": tenant, "file_count": len(changes), "tree_state": tree_json, "create_time": commit["create_time"]}

    def _check(self, tenant: str, scope: Scope, files: list[Any], tree: Tree) -> list[Change]:
        """Every change is checked before anything is written: bad input changes nothing."""
        out: list[Change] = []
        seen: set[str] = set()
        renamed: set[tuple[str, str]] = set()
        for n, raw in enumerate(files):
            if not isinstance(raw, dict):
                raise argument_error(f"files[{n}] must be an object.")
            file_id, operation = raw.get("file_id"), raw.get("operation", "modify")
            if not isinstance(file_id, str) or not file_id:
                raise argument_error(f"files[{n}].file_id is required.")
            if operation not in OPERATIONS:
                raise argument_error(f"files[{n}].operation must be one of add, modify, delete, rename.")
            if file_id in seen:
                raise argument_error(f"files[{n}]: file {file_id} is changed twice in one commit.")
            seen.add(file_id)
            for field in ("file_name", "content", "old_name", "new_name"):
                if raw.get(field) is not None and not isinstance(raw[field], str):
                    raise argument_error(f"files[{n}].{field} must be a string.")
            live = self._live(tenant, scope, file_id)
            known = tree.get(file_id)
            if live is None and (operation != "delete" or known is None):
                noun = "dataset" if scope.kind == "datasets" else "workspace"
                raise data_error(f"File {file_id} not found in this {noun}.")
            name = raw.get("file_name") or (known or {}).get("name") or (live or {}).get("name") or ""
            change = Change(file_id, str(operation), str(name), live)
            if operation in ("add", "modify"):
                content = raw.get("content")
                if isinstance(content, str):
                    data = content.encode("utf-8")
                    if len(data) > self._max_bytes:
                        raise argument_error(f"files[{n}]: the content is larger than the {self._max_bytes // (1024 * 1024)} MB limit.")
                    change.data = data
                # without content the file's current bytes are committed (read when applied, and only if new)
            elif operation == "rename":
                new_name = raw.get("new_name")
                if not isinstance(new_name, str) or not new_name.strip():
                    raise argument_error(f"files[{n}].new_name is required for a rename.")
                change.new_name = new_name.strip()
                change.old_name = raw.get("old_name") or (live or {}).get("name") or (known or {}).get("name") or ""
                change.name = change.new_name
                if scope.kind == "workspaces" and live is not None:
                    target = (str(live["parent_id"]), change.new_name.lower())
                    if target in renamed:
                        raise ApiError(RetCode.CONFLICT, f"The name {change.new_name} already exists in the destination folder.")
                    renamed.add(target)
                    self._rename_file(tenant, file_id, change.new_name, False)  # the file manager's own checks
            out.append(change)
        return out

    def _apply(self, tenant: str, scope: Scope, change: Change, tree: Tree, commit_id: str, position: int) -> dict[str, Any]:
        """Stores the change's content, moves the tree forward and, in a workspace, changes the live file."""
        entry = tree.get(change.file_id)
        item: dict[str, Any] = {"id": new_id(), "commit_id": commit_id, "file_id": change.file_id,
                                "operation": change.operation, "old_hash": None, "new_hash": None, "old_location": None,
                                "new_location": None, "old_name": None, "new_name": None, "position": position}
        if change.operation in ("add", "modify"):
            data = change.data
            if data is None:  # a snapshot of the live file: its kept hash says whether its bytes are stored already
                live = change.live or {}
                digest, size = self._live_hash(tenant, scope, live), int(live.get("size") or 0)
            else:
                digest, size = sha256_hex(data), len(data)
            key = object_key(tenant, digest)
            if not self._blobs.exists(key):  # content-addressed: bytes already committed are not stored again
                if data is None:
                    data = self._live_bytes(tenant, scope, change.live or {})
                    size = len(data)
                self._blobs.put(key, data)
            if change.operation == "modify" and entry and entry.get("hash"):
                item["old_hash"], item["old_location"] = entry["hash"], entry.get("location", "")
            item["new_hash"], item["new_location"] = digest, object_location(digest)
            if scope.kind == "workspaces" and change.live is not None and change.data is not None:
                self._write_file(tenant, change.file_id, change.data, digest)
            tree[change.file_id] = {"hash": digest, "location": object_location(digest), "name": change.name,
                                    "size": size, "status": "1", "parent_id": self._live_parent(scope, change.live)}
        elif change.operation == "delete":
            if entry and entry.get("hash"):
                item["old_hash"], item["old_location"] = entry["hash"], entry.get("location", "")
            if entry is not None:
                entry["status"] = "0"
        else:
            item["old_name"], item["new_name"] = change.old_name, change.new_name
            if scope.kind == "workspaces" and change.live is not None:
                self._rename_file(tenant, change.file_id, change.new_name, True)
            if entry is not None:
                entry["name"] = change.new_name
        return item

    # ---- reads --------------------------------------------------------------------------------
    def listing(self, tenant: str, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
        page = positive_int(params.get("page"), 1)
        page_size = page_size_param(params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        desc = str(params.get("desc", "true")).lower() != "false"
        if params.get("slug"):
            # artifact-page history (knowledge compilation) is not served: no page has commits
            return {"total": 0, "page": page, "page_size": page_size, "commits": []}
        # commits never change after they are made, so update order is creation order
        query = ListQuery(COMMIT, tenant, scope.id, order="create_time", desc=desc)
        commits = self._store.page(query, (page - 1) * page_size, page_size)
        return {"total": self._store.count(query), "page": page, "page_size": page_size,
                "commits": [{k: c.get(k) for k in ("id", "folder_id", "parent_id", "message", "author_id", "file_count",
                                                   "create_time", "title", "comments")} for c in commits]}

    def _changes(self, tenant: str, commit_id: str, offset: int = 0, limit: int = MAX_FILES) -> list[dict[str, Any]]:
        query = ListQuery(CHANGE, tenant, commit_id, order="create_time", desc=False)
        return self._store.page(query, offset, limit)

    def detail(self, tenant: str, scope: Scope, commit_id: Any) -> dict[str, Any]:
        commit = self.commit(tenant, scope, commit_id)
        return {**{k: commit.get(k) for k in ("id", "folder_id", "parent_id", "message", "author_id", "file_count", "create_time")},
                "files": [{k: c.get(k) for k in ("file_id", "operation", "old_hash", "new_hash", "old_name", "new_name")}
                          for c in self._changes(tenant, commit["id"])]}

    def files(self, tenant: str, scope: Scope, commit_id: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        commit = self.commit(tenant, scope, commit_id)
        page = positive_int(params.get("page"), 1)
        page_size = page_size_param(params.get("page_size"), MAX_FILES, MAX_FILES)
        return [{k: c.get(k) for k in ("id", "file_id", "operation", "old_hash", "new_hash", "old_location", "new_location",
                                       "old_name", "new_name")}
                for c in self._changes(tenant, commit["id"], (page - 1) * page_size, page_size)]

    def diff(self, tenant: str, scope: Scope, from_id: Any, to_id: Any) -> list[dict[str, Any]]:
        if not from_id or not to_id:
            raise data_error("'from' and 'to' parameters are required")
        found = {c["id"]: c for c in self._store.get_many(COMMIT, tenant, list(dict.fromkeys([str(from_id), str(to_id)])))}
        if str(from_id) not in found or str(to_id) not in found:
            raise data_error("Commit not found")
        if found[str(from_id)].get("folder_id") != scope.id or found[str(to_id)].get("folder_id") != scope.id:
            raise data_error("Commit not found in workspace")
        before, after = self._tree(tenant, found[str(from_id)]), self._tree(tenant, found[str(to_id)])
        out: list[dict[str, Any]] = []
        for fid in sorted(set(before) | set(after)):
            old, new = before.get(fid), after.get(fid)
            if new is None and old is not None:
                out.append({"file_id": fid, "file_name": old.get("name", ""), "operation": "delete",
                            "old_hash": old.get("hash") or None, "old_location": old.get("location", ""),
                            "new_hash": None, "new_location": None})
            elif old is None and new is not None:
                out.append({"file_id": fid, "file_name": new.get("name", ""), "operation": "add", "old_hash": None,
                            "old_location": None, "new_hash": new.get("hash") or None, "new_location": new.get("location", "")})
            elif old is not None and new is not None:
                operation = ""
                if old.get("hash", "") != new.get("hash", ""):
                    operation = "modify"
                if old.get("status", "1") != new.get("status", "1"):
                    operation = "delete" if new.get("status") == "0" else "add"
                if old.get("name", "") != new.get("name", ""):
                    operation = "rename"
                if operation:
                    out.append({"file_id": fid, "file_name": new.get("name") or old.get("name", ""), "operation": operation,
                                "old_hash": old.get("hash") or None, "old_location": old.get("location") or None,
                                "new_hash": new.get("hash") or None, "new_location": new.get("location") or None})
        return out

    def uncommitted(self, tenant: str, scope: Scope) -> list[dict[str, Any]]:
        committed = self._tree(tenant, self._latest(tenant, scope))
        current = self._live_all(tenant, scope)
        changes: list[dict[str, Any]] = []
        gone: list[str] = []
        for fid, entry in committed.items():
            if entry.get("status") == "0":
                continue
            live = current.get(fid)
            if live is None:
                gone.append(fid)
            elif self._live_hash(tenant, scope, live) != entry.get("hash", ""):
                changes.append({"file_id": fid, "file_name": entry.get("name", ""), "operation": "modify"})
        # a file moved out of the workspace is not a deletion: only files that no longer exist are
        still = {i["id"] for i in self._store.get_many(DOCUMENT if scope.kind == "datasets" else FILE, tenant, gone)}
        changes.extend({"file_id": fid, "file_name": committed[fid].get("name", ""), "operation": "delete"}
                       for fid in gone if fid not in still)
        changes.extend({"file_id": fid, "file_name": live.get("name", ""), "operation": "add"}
                       for fid, live in current.items() if fid not in committed)
        return changes

    def tree(self, tenant: str, scope: Scope, commit_id: Any) -> dict[str, Any]:
        commit = self.commit(tenant, scope, commit_id)
        entries = self._tree(tenant, commit)
        by_parent: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for fid, entry in entries.items():
            by_parent.setdefault(entry.get("parent_id") or scope.id, []).append((fid, entry))
        # folders as they are now (RAGFlow reads them live too), each read once; a folder that no longer lies below
        # the workspace (moved out or deleted since the commit) hangs under its root, so no file is lost
        parent_of: dict[str, str] = {}
        names: dict[str, str] = {}
        for start in list(by_parent):
            chain: list[str] = []
            current = start
            while current != scope.id and current not in parent_of and current not in chain:
                row = self._store.get(FILE, tenant, current) if scope.kind == "workspaces" else None
                if row is None or row.get("parent_id") == row.get("id"):
                    break
                chain.append(current)
                names[current] = str(row.get("name") or current)
                current = str(row["parent_id"])
            if current == scope.id or current in parent_of:
                for n, folder_id in enumerate(chain):
                    parent_of[folder_id] = chain[n + 1] if n + 1 < len(chain) else current
            else:
                parent_of[start] = scope.id
                names.setdefault(start, start)
        subfolders: dict[str, list[str]] = {}
        for child, parent in parent_of.items():
            subfolders.setdefault(parent, []).append(child)

        def node(folder_id: str, name: str, depth: int) -> dict[str, Any]:
            children: list[dict[str, Any]] = []
            for fid, entry in by_parent.get(folder_id, []):
                leaf = {"id": fid, "name": entry.get("name", fid), "type": "file", "hash": entry.get("hash", ""),
                        "size": entry.get("size", 0), "status": entry.get("status", "1")}
                if entry.get("location"):
                    leaf["location"] = entry["location"]
                children.append(leaf)
            if depth < 256:  # parent_of has no cycles (each walk stops at a folder seen before); this is belt and braces
                children.extend(node(sub, names.get(sub, sub), depth + 1) for sub in subfolders.get(folder_id, []))
            return {"id": folder_id, "name": name, "type": "folder", "children": children}

        return node(scope.id, scope.name, 0)

    def content(self, tenant: str, scope: Scope, commit_id: Any, file_id: str) -> dict[str, str]:
        commit = self.commit(tenant, scope, commit_id)
        entry = self._tree(tenant, commit).get(file_id)
        data = self._blobs.get(object_key(tenant, entry["hash"])) if entry and entry.get("hash") else None
        if data is None:
            raise data_error("File not found in this commit")
        return {"content": data.decode("utf-8", errors="replace")}

    def versions(self, tenant: str, file_id: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """A file's versions, newest first; a page of at most MAX_FILES (the first one unless `page` says)."""
        page = positive_int(params.get("page"), 1)
        page_size = page_size_param(params.get("page_size"), MAX_FILES, MAX_FILES)
        query = ListQuery(VERSION, tenant, file_id, order="create_time", desc=True)
        return [{k: v.get(k) for k in ("commit_id", "operation", "hash", "create_time", "message")}
                for v in self._store.page(query, (page - 1) * page_size, page_size)]
