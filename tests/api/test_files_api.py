"""The file manager over HTTP, in both path families: tree, names, moves, deletes, links to datasets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.docs_helpers import wait_done
from tests.conftest import Api


def upload(api: Api, path: str, files: dict[str, bytes], parent_id: str | None = None) -> list[dict[str, Any]]:
    data = {"parent_id": parent_id} if parent_id else {}
    res = api.client.post(path, files=[("file", (n, b)) for n, b in files.items()], data=data, headers=api.headers()).json()
    assert res["code"] == 0, res
    return list(res["data"])


@pytest.mark.parametrize("legacy", [False, True])
def test_tree_lifecycle(api: Api, legacy: bool) -> None:
    create = "/api/v1/file/create" if legacy else "/api/v1/files"
    root = api.call("GET", "/api/v1/file/root_folder")["data"]["root_folder"]
    docs = api.call("POST", create, json={"name": "docs", "type": "folder"})["data"]
    assert docs["parent_id"] == root["id"] and docs["type"] == "folder"
    dup = api.call("POST", create, json={"name": "DOCS", "type": "folder"})
    assert dup == {"code": 102, "message": "Duplicated folder name in the same folder.", "data": None}
    assert api.call("POST", create, json={"name": "a/b", "type": "folder"})["message"] == 'Folder name cannot contain "/"'
    sub = api.call("POST", create, json={"name": "sub", "type": "folder", "parent_id": docs["id"]})["data"]
    [a, b] = upload(api, "/api/v1/file/upload" if legacy else "/api/v1/files", {"a.txt": b"alpha", "a(1).txt": b"x"}, sub["id"])
    [again] = upload(api, "/api/v1/files", {"a.txt": b"beta"}, sub["id"])
    assert again["name"] == "a(2).txt"  # names are unique within a folder
    listing = api.call("GET", "/api/v1/file/list" if legacy else "/api/v1/files", params={"parent_id": sub["id"]})["data"]
    assert listing["total"] == 3 and listing["parent_folder"] == {"id": sub["id"], "name": "sub"}
    assert api.call("GET", "/api/v1/files", params={"parent_id": sub["id"], "keywords": "(1)"})["data"]["total"] == 1
    top = api.call("GET", "/api/v1/files")["data"]
    assert [f["name"] for f in top["files"]] == ["docs"] and top["files"][0]["has_child_folder"] is True
    if legacy:
        parent = api.call("GET", "/api/v1/file/parent_folder", params={"file_id": a["id"]})["data"]["parent_folder"]
        chain = api.call("GET", "/api/v1/file/all_parent_folder", params={"file_id": a["id"]})["data"]["parent_folders"]
        got = api.client.get(f"/api/v1/file/get/{a['id']}", headers=api.headers())
    else:
        parent = api.call("GET", f"/api/v1/files/{a['id']}/parent")["data"]["parent_folder"]
        chain = api.call("GET", f"/api/v1/files/{a['id']}/ancestors")["data"]["parent_folders"]
        got = api.client.get(f"/api/v1/files/{a['id']}", headers=api.headers())
    assert parent["id"] == sub["id"] and [c["name"] for c in chain] == ["sub", "docs", "/"]
    assert got.content == b"alpha" and got.headers["content-disposition"].startswith("attachment")
    assert b["name"] == "a(1).txt"


def test_move_rename_and_cycles(api: Api) -> None:
    one = api.call("POST", "/api/v1/files", json={"name": "one", "type": "folder"})["data"]
    two = api.call("POST", "/api/v1/files", json={"name": "two", "type": "folder", "parent_id": one["id"]})["data"]
    [f] = upload(api, "/api/v1/files", {"notes.txt": b"n"}, one["id"])
    cycle = api.call("POST", "/api/v1/files/move", json={"src_file_ids": [one["id"]], "dest_file_id": two["id"]})
    assert cycle == {"code": 102, "message": "Cannot move a folder into its own subfolder.", "data": None}
    assert api.call("POST", "/api/v1/files/move", json={"src_file_ids": [f["id"]], "new_name": "notes.pdf"})["message"] == \
        "The extension of file can't be changed"
    assert api.call("POST", "/api/v1/files/move", json={"src_file_ids": [f["id"]], "new_name": "renamed.txt"}) == {"code": 0, "data": True}
    assert api.call("POST", "/api/v1/file/mv", json={"src_file_ids": [f["id"]], "dest_file_id": two["id"]})["data"] is True
    assert api.call("GET", f"/api/v1/files/{f['id']}/parent")["data"]["parent_folder"]["id"] == two["id"]
    [clash] = upload(api, "/api/v1/files", {"renamed.txt": b"r"}, one["id"])
    res = api.call("POST", "/api/v1/files/move", json={"src_file_ids": [clash["id"]], "dest_file_id": two["id"]})
    assert res == {"code": 102, "message": "Duplicated file name in the same folder.", "data": None}
    assert api.call("POST", "/api/v1/file/rename", json={"file_id": clash["id"], "name": "other.txt"})["data"] is True
    assert api.call("POST", "/api/v1/files/move", json={"src_file_ids": [uuid.uuid4().hex], "dest_file_id": two["id"]}) == {
        "code": 102, "message": "Source files not found!", "data": None}
    assert api.call("POST", "/api/v1/files/move", json={"src_file_ids": [f["id"]], "dest_file_id": uuid.uuid4().hex})["message"] == \
        "Parent folder not found!"


def test_recursive_delete_removes_rows_bytes_and_linked_documents(api: Api) -> None:
    from ragcore.bootstrap.container import get_container

    folder = api.call("POST", "/api/v1/files", json={"name": "kb-source", "type": "folder"})["data"]
    inner = api.call("POST", "/api/v1/files", json={"name": "inner", "type": "folder", "parent_id": folder["id"]})["data"]
    [f] = upload(api, "/api/v1/files", {"fact.txt": b"Octopuses have three hearts.\n"}, inner["id"])
    ds = api.call("POST", "/api/v1/datasets", json={"name": "linked"})["data"]
    links = api.call("POST", "/api/v1/files/link-to-datasets", json={"file_ids": [folder["id"]], "kb_ids": [ds["id"]]})["data"]
    assert [link["file_id"] for link in links] == [f["id"]]
    doc_id = links[0]["document_id"]
    listed = api.call("GET", "/api/v1/files", params={"parent_id": inner["id"]})["data"]["files"][0]
    assert listed["kbs_info"] == [{"kb_id": ds["id"], "kb_name": "linked"}]
    api.call("POST", f"/api/v1/datasets/{ds['id']}/chunks", json={"document_ids": [doc_id]})
    assert wait_done(api, ds["id"], doc_id)["run"] == "DONE"
    res = api.call("POST", "/api/v1/retrieval", json={"question": "octopus hearts", "dataset_ids": [ds["id"]]})
    assert res["data"]["total"] == 1
    assert api.call("DELETE", "/api/v1/files", json={"ids": [folder["id"]]}) == {"code": 0, "data": {"success_count": 1}}
    for gone in (folder["id"], inner["id"], f["id"]):
        assert api.call("GET", f"/api/v1/files/{gone}/parent") == {"code": 102, "message": "Folder not found!", "data": None}
    assert get_container().blobs.get(f"files/{api.tenant}/{f['id']}") is None
    assert api.call("GET", f"/api/v1/datasets/{ds['id']}/documents")["data"]["total"] == 0
    res = api.call("POST", "/api/v1/retrieval", json={"question": "octopus hearts", "dataset_ids": [ds["id"]], "similarity_threshold": 0})
    assert res["data"]["total"] == 0


def test_files_are_tenant_scoped(api: Api) -> None:
    [f] = upload(api, "/api/v1/files", {"secret.txt": b"s"})
    other = api.new_tenant_key()
    missing = uuid.uuid4().hex
    for path in (f"/api/v1/files/{f['id']}/parent", f"/api/v1/files/{f['id']}/ancestors"):
        assert api.call("GET", path, key=other) == api.call("GET", path.replace(f["id"], missing), key=other)
    assert api.client.get(f"/api/v1/files/{f['id']}", headers=api.headers(other)).json() == {
        "code": 102, "message": "document not found", "data": None}
    assert api.call("DELETE", "/api/v1/files", key=other, json={"ids": [f["id"]]}) == {
        "code": 102, "message": "Deleted files failed with 1 errors",
        "data": {"success_count": 0, "errors": [f"File or Folder not found: {f['id']}"]}}
    assert api.call("GET", "/api/v1/files", key=other)["data"]["total"] == 0
    assert api.client.get(f"/api/v1/files/{f['id']}", headers=api.headers()).content == b"s"
