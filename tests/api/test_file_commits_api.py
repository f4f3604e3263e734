"""RAGFlow's file_commit routes through the HTTP API: commits of a workspace folder (/workspaces/{id}/…) and of a
dataset (/datasets/{id}/…), the diff, tree, content and uncommitted changes they answer, a file's versions, bad
input, paging and tenancy."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.api.docs_helpers import make_dataset, upload
from tests.conftest import Api


def folder(api: Api, name: str, parent: str | None = None) -> str:
    res = api.call("POST", "/api/v1/files", json={"name": name, "type": "folder", **({"parent_id": parent} if parent else {})})
    assert res["code"] == 0, res
    return str(res["data"]["id"])


def put_file(api: Api, parent: str, name: str, data: bytes, key: str | None = None) -> str:
    res = api.client.post("/api/v1/files", files=[("file", (name, data))], data={"parent_id": parent}, headers=api.headers(key))
    body = res.json()
    assert body["code"] == 0, body
    return str(body["data"][0]["id"])


def ok(api: Api, method: str, path: str, **kw: Any) -> Any:
    res = api.call(method, path, **kw)
    assert res["code"] == 0, res
    return res["data"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commit(api: Api, base: str, message: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(ok(api, "POST", f"{base}/commits", json={"message": message, "files": files}))


def download(api: Api, file_id: str) -> bytes:
    return api.client.get(f"/api/v1/files/{file_id}", headers=api.headers()).content


def objects(tenant: str) -> list[str]:
    from ragcore.bootstrap.container import get_container

    return sorted(get_container().blobs.list(f"commits/{tenant}/objects/"))


def test_workspace_commits_snapshot_change_diff_and_read_back(api: Api) -> None:
    ws = folder(api, "ws")
    sub = folder(api, "sub", ws)
    a = put_file(api, ws, "a.txt", b"alpha v1")
    b = put_file(api, sub, "b.md", b"# bee")
    base = f"/api/v1/workspaces/{ws}"

    changes = ok(api, "GET", f"{base}/changes")
    assert sorted((c["file_id"], c["file_name"], c["operation"]) for c in changes) == sorted([(a, "a.txt", "add"), (b, "b.md", "add")])

    # entries without content commit the files' current bytes
    c1 = commit(api, base, "first", [{"file_id": c["file_id"], "file_name": c["file_name"], "operation": "add"} for c in changes])
    assert {k: c1[k] for k in ("folder_id", "parent_id", "message", "author_id", "file_count")} == {
        "folder_id": ws, "parent_id": None, "message": "first", "author_id": api.tenant, "file_count": 2}
    tree = json.loads(c1["tree_state"])
    assert tree[a] == {"hash": sha(b"alpha v1"), "location": f".objects/{sha(b'alpha v1')}", "name": "a.txt", "size": 8,
                       "status": "1", "parent_id": ws}
    assert tree[b]["parent_id"] == sub and tree[b]["hash"] == sha(b"# bee")
    assert ok(api, "GET", f"{base}/changes") == []

    # a new content and a rename: applied to the live files, as RAGFlow's commit does
    c2 = commit(api, base, "second", [{"file_id": a, "operation": "modify", "content": "alpha v2"},
                                      {"file_id": b, "operation": "rename", "old_name": "b.md", "new_name": "c.md"}])
    assert c2["parent_id"] == c1["id"] and c2["file_count"] == 2
    assert download(api, a) == b"alpha v2"
    assert {f["id"]: f["name"] for f in ok(api, "GET", "/api/v1/files", params={"parent_id": sub})["files"]} == {b: "c.md"}
    assert ok(api, "GET", f"{base}/changes") == []

    diff = ok(api, "GET", f"{base}/commits/diff", params={"from": c1["id"], "to": c2["id"]})
    assert sorted(diff, key=lambda d: d["file_id"]) == diff
    by_id = {d["file_id"]: d for d in diff}
    assert by_id[a] == {"file_id": a, "file_name": "a.txt", "operation": "modify", "old_hash": sha(b"alpha v1"),
                        "old_location": f".objects/{sha(b'alpha v1')}", "new_hash": sha(b"alpha v2"),
                        "new_location": f".objects/{sha(b'alpha v2')}"}
    assert by_id[b]["operation"] == "rename" and by_id[b]["file_name"] == "c.md"
    assert ok(api, "GET", f"{base}/commits/diff", params={"from": c2["id"], "to": c2["id"]}) == []

    assert ok(api, "GET", f"{base}/commits/{c1['id']}/files/{a}/content") == {"content": "alpha v1"}
    assert ok(api, "GET", f"{base}/commits/{c2['id']}/files/{a}/content") == {"content": "alpha v2"}

    detail = ok(api, "GET", f"{base}/commits/{c2['id']}")
    assert detail["message"] == "second" and detail["parent_id"] == c1["id"]
    assert detail["files"] == [
        {"file_id": a, "operation": "modify", "old_hash": sha(b"alpha v1"), "new_hash": sha(b"alpha v2"), "old_name": None, "new_name": None},
        {"file_id": b, "operation": "rename", "old_hash": None, "new_hash": None, "old_name": "b.md", "new_name": "c.md"}]
    files = ok(api, "GET", f"{base}/commits/{c2['id']}/files")
    assert [f["file_id"] for f in files] == [a, b] and files[0]["old_location"] == f".objects/{sha(b'alpha v1')}"
    assert len({f["id"] for f in files}) == 2

    tree_node = ok(api, "GET", f"{base}/commits/{c2['id']}/tree")
    assert (tree_node["id"], tree_node["name"], tree_node["type"]) == (ws, "ws", "folder")
    [leaf_a, sub_node] = tree_node["children"]
    assert leaf_a == {"id": a, "name": "a.txt", "type": "file", "hash": sha(b"alpha v2"), "size": 8, "status": "1",
                      "location": f".objects/{sha(b'alpha v2')}"}
    assert (sub_node["id"], sub_node["name"], sub_node["type"]) == (sub, "sub", "folder")
    assert [(c["id"], c["name"]) for c in sub_node["children"]] == [(b, "c.md")]

    versions = ok(api, "GET", f"/api/v1/workspace-files/{a}/versions")
    assert [(v["commit_id"], v["operation"], v["hash"], v["message"]) for v in versions] == [
        (c2["id"], "modify", sha(b"alpha v2"), "second"), (c1["id"], "add", sha(b"alpha v1"), "first")]


def test_workspace_changes_see_new_edited_and_deleted_files_below_the_folder(api: Api) -> None:
    ws = folder(api, "ws")
    deep = folder(api, "deep", folder(api, "mid", ws))
    a = put_file(api, ws, "a.txt", b"a")
    gone = put_file(api, deep, "gone.txt", b"g")
    outside = put_file(api, folder(api, "elsewhere"), "x.txt", b"x")
    base = f"/api/v1/workspaces/{ws}"
    commit(api, base, "all", [{"file_id": a, "operation": "add"}, {"file_id": gone, "operation": "add"}])
    assert ok(api, "DELETE", "/api/v1/files", json={"ids": [gone]})["success_count"] == 1
    fresh = put_file(api, deep, "new.txt", b"n")
    # a commit's content for a file that then differs from its live bytes shows as modified
    commit(api, base, "edit", [{"file_id": a, "operation": "modify", "content": "A"}])
    from ragcore.bootstrap.container import get_container
    from ragcore.services.files.manager import blob_key

    get_container().blobs.put(blob_key(api.tenant, a), b"edited elsewhere")
    get_container().store.update("file", api.tenant, a, {"_sha256": sha(b"edited elsewhere")})
    changes = ok(api, "GET", f"{base}/changes")
    assert sorted((c["file_id"], c["operation"]) for c in changes) == sorted([(a, "modify"), (gone, "delete"), (fresh, "add")])
    assert outside not in {c["file_id"] for c in changes}
    # a file outside the workspace can't be committed in it
    res = api.call("POST", f"{base}/commits", json={"message": "m", "files": [{"file_id": outside, "operation": "add"}]})
    assert res["code"] == 102 and res["message"] == f"File {outside} not found in this workspace."
    # a deleted file that the workspace's last commit knows can be committed as deleted
    c3 = commit(api, base, "rm", [{"file_id": gone, "operation": "delete"}])
    assert json.loads(c3["tree_state"])[gone]["status"] == "0"
    assert sorted((c["file_id"], c["operation"]) for c in ok(api, "GET", f"{base}/changes")) == sorted([(a, "modify"), (fresh, "add")])


def test_content_is_stored_once_per_distinct_bytes(api: Api) -> None:
    ws = folder(api, "ws")
    one = put_file(api, ws, "one.txt", b"same bytes")
    two = put_file(api, ws, "two.txt", b"same bytes")
    three = put_file(api, ws, "three.txt", b"other bytes")
    base = f"/api/v1/workspaces/{ws}"
    commit(api, base, "c1", [{"file_id": f, "operation": "add"} for f in (one, two, three)])
    assert objects(api.tenant) == sorted(f"commits/{api.tenant}/objects/{sha(d)}" for d in (b"same bytes", b"other bytes"))
    commit(api, base, "c2", [{"file_id": one, "operation": "modify"}])  # unchanged: nothing new is stored
    assert len(objects(api.tenant)) == 2
    commit(api, base, "c3", [{"file_id": one, "operation": "modify", "content": "new"}])
    assert len(objects(api.tenant)) == 3


def test_dataset_commits_record_documents_without_changing_them(api: Api) -> None:
    ds = make_dataset(api, "kb")
    d1, d2 = upload(api, ds, {"one.txt": b"first doc", "two.txt": b"second doc"})
    base = f"/api/v1/datasets/{ds}"
    assert sorted((c["file_id"], c["operation"]) for c in ok(api, "GET", f"{base}/changes")) == sorted([(d1["id"], "add"), (d2["id"], "add")])
    c1 = commit(api, base, "docs", [{"file_id": d1["id"], "operation": "add"}, {"file_id": d2["id"], "operation": "add"}])
    assert c1["folder_id"] == ds
    assert ok(api, "GET", f"{base}/changes") == []
    assert ok(api, "GET", f"{base}/commits/{c1['id']}/files/{d1['id']}/content") == {"content": "first doc"}

    c2 = commit(api, base, "draft", [{"file_id": d1["id"], "operation": "modify", "content": "a draft"},
                                     {"file_id": d2["id"], "operation": "rename", "new_name": "2.txt"}])
    assert ok(api, "GET", f"{base}/commits/{c2['id']}/files/{d1['id']}/content") == {"content": "a draft"}
    docs = {d["id"]: d["name"] for d in ok(api, "GET", f"{base}/documents")["docs"]}
    assert docs == {d1["id"]: "one.txt", d2["id"]: "two.txt"}  # the documents themselves are untouched
    assert api.client.get(f"{base}/documents/{d1['id']}", headers=api.headers()).content == b"first doc"
    assert ok(api, "GET", f"{base}/changes") == [{"file_id": d1["id"], "file_name": "one.txt", "operation": "modify"}]

    tree = ok(api, "GET", f"{base}/commits/{c2['id']}/tree")
    assert (tree["id"], tree["name"]) == (ds, "kb")
    assert sorted(c["name"] for c in tree["children"]) == ["2.txt", "one.txt"]

    assert api.call("DELETE", f"{base}/documents", json={"ids": [d2["id"]]})["code"] == 0
    assert {(c["file_id"], c["operation"]) for c in ok(api, "GET", f"{base}/changes")} == {(d1["id"], "modify"), (d2["id"], "delete")}

    # the two prefixes keep their commits apart
    ws = folder(api, "ws")
    res = api.call("GET", f"/api/v1/workspaces/{ws}/commits/{c1['id']}")
    assert res == {"code": 102, "message": "Commit not found in workspace", "data": None}
    assert ok(api, "GET", f"{base}/commits")["total"] == 2
    # artifact-page history (`slug`) is a knowledge-compilation feature: no page has commits
    assert ok(api, "GET", f"{base}/commits", params={"slug": "entity/x"}) == {"total": 0, "page": 1, "page_size": 30, "commits": []}


def test_commit_list_pages_orders_and_counts_in_the_store(api: Api) -> None:
    ws = folder(api, "ws")
    f = put_file(api, ws, "f.txt", b"0")
    base = f"/api/v1/workspaces/{ws}"
    ids = [commit(api, base, f"c{n}", [{"file_id": f, "operation": "modify", "content": str(n)}])["id"] for n in range(5)]
    listed = ok(api, "GET", f"{base}/commits")
    assert listed["total"] == 5 and (listed["page"], listed["page_size"]) == (1, 30)
    assert [c["id"] for c in listed["commits"]] == ids[::-1]
    assert set(listed["commits"][0]) == {"id", "folder_id", "parent_id", "message", "author_id", "file_count", "create_time", "title", "comments"}
    assert listed["commits"][0]["title"] is None and listed["commits"][0]["parent_id"] == ids[3]
    page2 = ok(api, "GET", f"{base}/commits", params={"page": 2, "page_size": 2, "desc": "false"})
    assert [c["id"] for c in page2["commits"]] == ids[2:4] and page2["total"] == 5
    # RAGFlow's paging rules: a bad page or size is the default, a size over 100 an error
    assert ok(api, "GET", f"{base}/commits", params={"page": "x", "page_size": "0"})["page_size"] == 30
    res = api.call("GET", f"{base}/commits", params={"page_size": 101})
    assert res["code"] == 100 and res["message"] == "ValueError('page_size must be less than or equal to 100')"
    # a commit's files and a file's versions page too
    many = commit(api, base, "many", [{"file_id": put_file(api, ws, f"m{n}.txt", str(n).encode()), "operation": "add"} for n in range(4)])
    all_files = ok(api, "GET", f"{base}/commits/{many['id']}/files")
    assert len(all_files) == 4
    assert ok(api, "GET", f"{base}/commits/{many['id']}/files", params={"page": 2, "page_size": 3}) == all_files[3:]
    versions = ok(api, "GET", f"/api/v1/workspace-files/{f}/versions", params={"page": 2, "page_size": 2})
    assert [v["commit_id"] for v in versions] == ids[2:0:-1]


@pytest.mark.parametrize("prefix", ["workspaces", "datasets"])
def test_bad_input_is_refused_and_changes_nothing(api: Api, prefix: str) -> None:
    if prefix == "workspaces":
        scope = folder(api, "ws")
        good = put_file(api, scope, "good.txt", b"good")
    else:
        scope = make_dataset(api, "kb")
        good = upload(api, scope, {"good.txt": b"good"})[0]["id"]
    base = f"/api/v1/{prefix}/{scope}"

    def refused(body: Any, code: int, message: str) -> None:
        res = api.call("POST", f"{base}/commits", json=body)
        assert (res["code"], res["message"]) == (code, message), res

    refused({}, 101, "required argument are missing: message,files; ")
    refused({"message": "m"}, 101, "required argument are missing: files; ")
    refused({"message": 1, "files": []}, 101, "`message` must be a string.")
    refused({"message": "m", "files": "a.txt"}, 101, "`files` must be a list of file changes.")
    refused({"message": "m", "files": ["a.txt"]}, 101, "files[0] must be an object.")
    refused({"message": "m", "files": [{"operation": "add"}]}, 101, "files[0].file_id is required.")
    refused({"message": "m", "files": [{"file_id": good, "operation": "move"}]}, 101,
            "files[0].operation must be one of add, modify, delete, rename.")
    refused({"message": "m", "files": [{"file_id": good, "content": 5}]}, 101, "files[0].content must be a string.")
    refused({"message": "m", "files": [{"file_id": good}, {"file_id": good}]}, 101, f"files[1]: file {good} is changed twice in one commit.")
    refused({"message": "m", "files": [{"file_id": good, "operation": "rename"}]}, 101, "files[0].new_name is required for a rename.")
    noun = "workspace" if prefix == "workspaces" else "dataset"
    refused({"message": "m", "files": [{"file_id": good, "content": "x"}, {"file_id": "f" * 32}]}, 102,
            f"File {'f' * 32} not found in this {noun}.")
    if prefix == "workspaces":  # the file manager's own rename checks, before anything is written
        res = api.call("POST", f"{base}/commits", json={"message": "m", "files": [
            {"file_id": put_file(api, scope, "other.txt", b"o"), "operation": "modify", "content": "changed"},
            {"file_id": good, "operation": "rename", "new_name": "good.pdf"}]})
        assert (res["code"], res["message"]) == (102, "The extension of file can't be changed")
        assert download(api, good) == b"good"
    refused("not an object", 101, "Invalid request payload: expected object, got str")
    res = api.client.post(f"{base}/commits", content=b"{bad", headers={**api.headers(), "Content-Type": "application/json"}).json()
    assert res["code"] == 101
    assert ok(api, "GET", f"{base}/commits")["total"] == 0
    assert objects(api.tenant) == []

    c = commit(api, base, "ok", [{"file_id": good, "operation": "add"}])["id"]
    for path, params, message in [
        (f"{base}/commits/diff", {"from": c}, "'from' and 'to' parameters are required"),
        (f"{base}/commits/diff", {"from": c, "to": "0" * 32}, "Commit not found"),
        (f"{base}/commits/{'0' * 32}", {}, "Commit not found"),
        (f"{base}/commits/{'0' * 32}/files", {}, "Commit not found"),
        (f"{base}/commits/{'0' * 32}/tree", {}, "Commit not found"),
        (f"{base}/commits/{c}/files/{'0' * 32}/content", {}, "File not found in this commit"),
    ]:
        assert api.call("GET", path, params=params) == {"code": 102, "message": message, "data": None}, path
    missing = "0" * 32
    for path in (f"/api/v1/{prefix}/{missing}/commits", f"/api/v1/{prefix}/{missing}/changes", f"/api/v1/{prefix}/{missing}/commits/{c}"):
        assert api.call("GET", path) == {"code": 100, "message": f"ValueError(\"Could not resolve {prefix} '{missing}' to a folder\")",
                                         "data": None}


def test_tenants_see_only_their_own_commits(api: Api) -> None:
    ws = folder(api, "ws")
    f = put_file(api, ws, "secret.txt", b"secret")
    base = f"/api/v1/workspaces/{ws}"
    c = commit(api, base, "mine", [{"file_id": f, "operation": "add"}])
    other = api.new_tenant_key()
    theirs = api.client.post("/api/v1/files", json={"name": "theirs", "type": "folder"}, headers=api.headers(other)).json()["data"]["id"]
    missing = "0" * 32
    for path in ("commits", "changes", f"commits/{c['id']}", f"commits/{c['id']}/tree", f"commits/{c['id']}/files/{f}/content"):
        foreign = api.call("GET", f"{base}/{path}", key=other)
        absent = api.call("GET", f"/api/v1/workspaces/{missing}/{path}", key=other)
        assert foreign["code"] == absent["code"] == 100 and foreign["message"].replace(ws, missing) == absent["message"]
    # their own workspace, my commit and file ids: like ids that do not exist
    for path in (f"commits/{c['id']}", f"commits/{c['id']}/files", f"commits/{c['id']}/tree"):
        assert api.call("GET", f"/api/v1/workspaces/{theirs}/{path}", key=other)["message"] == "Commit not found"
    res = api.call("POST", f"/api/v1/workspaces/{theirs}/commits", key=other, json={"message": "steal", "files": [{"file_id": f, "operation": "add"}]})
    assert (res["code"], res["message"]) == (102, f"File {f} not found in this workspace.")
    assert api.call("GET", f"/api/v1/workspace-files/{f}/versions", key=other) == {"code": 0, "data": []}
    assert len(ok(api, "GET", f"/api/v1/workspace-files/{f}/versions")) == 1
    assert ok(api, "GET", f"{base}/commits")["total"] == 1


def test_commits_are_bounded(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.services.files import commits as file_commits

    monkeypatch.setattr(file_commits, "MAX_FILES", 3)
    ws = folder(api, "ws")
    ids = [put_file(api, ws, f"{n}.txt", str(n).encode()) for n in range(4)]
    base = f"/api/v1/workspaces/{ws}"
    res = api.call("POST", f"{base}/commits", json={"message": "m", "files": [{"file_id": i, "operation": "add"} for i in ids]})
    assert (res["code"], res["message"]) == (101, "A commit holds at most 3 file changes, got 4.")
    too_many = "The workspace holds more than 3 files: commits, changes and trees are limited to 3 files."
    assert api.call("GET", f"{base}/changes") == {"code": 102, "message": too_many, "data": None}
    commit(api, base, "three", [{"file_id": i, "operation": "add"} for i in ids[:3]])
    res = api.call("POST", f"{base}/commits", json={"message": "m", "files": [{"file_id": ids[3], "operation": "add"}]})
    assert (res["code"], res["message"]) == (102, too_many)
    assert ok(api, "GET", f"{base}/commits")["total"] == 1
