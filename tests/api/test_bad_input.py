"""Bad input gets a clear RAGFlow-style answer and changes nothing: oversized bodies (declared or chunked), path
traversal in file names, absurd paging, wrong content types, and a data folder that can't be written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.docs_helpers import make_dataset, upload
from tests.conftest import Api, app_with

LIMIT = 64 * 1024


@pytest.fixture
def small_api(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"MAX_REQUEST_BYTES": str(LIMIT)}, monkeypatch)


def test_oversized_bodies_are_refused_before_anything_is_written(small_api: Api) -> None:
    api = small_api
    expected = {"code": 413, "message": f"The request body is larger than the {LIMIT} bytes this server accepts (MAX_REQUEST_BYTES).",
                "data": None}
    res = api.client.post("/api/v1/datasets", headers=api.headers(), json={"name": "big", "description": "x" * (LIMIT + 1)})
    assert res.status_code == 413 and res.json() == expected
    ds = make_dataset(api, "small")
    res = api.client.post(f"/api/v1/datasets/{ds}/documents", headers=api.headers(), files={"file": ("big.txt", b"y" * (LIMIT * 2))})
    assert res.status_code == 413 and res.json() == expected

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"name": "'
        for _ in range(LIMIT // 1024 + 2):
            yield b"z" * 1024
        yield b'"}'

    res = api.client.post("/api/v1/datasets", headers={**api.headers(), "Content-Type": "application/json"}, content=chunked())
    assert res.status_code == 413 and res.json() == expected
    assert [d["name"] for d in api.call("GET", "/api/v1/datasets")["data"]] == ["small"]
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["total"] == 0


@pytest.mark.parametrize("name", ["../../../escape.txt", "..\\..\\escape.txt", "/etc/escape.txt", "a/../../escape.txt"])
def test_path_traversal_in_file_names_stays_inside_the_data_folder(api: Api, data_dir: Path, name: str) -> None:
    ds = make_dataset(api, "names")
    [doc] = upload(api, ds, {name: b"contained"})
    assert "/" not in doc["name"] and "\\" not in doc["name"] and ".." not in doc["name"]
    res = api.client.get(f"/api/v1/datasets/{ds}/documents/{doc['id']}", headers=api.headers())
    assert res.content == b"contained"
    assert not list(data_dir.parent.glob("**/escape.txt")) or all(data_dir in p.parents for p in data_dir.parent.glob("**/escape.txt"))
    folder = api.call("POST", "/api/v1/files", json={"name": "dir", "type": "folder"})["data"]
    res = api.client.post("/api/v1/files", headers=api.headers(), data={"parent_id": folder["id"]}, files={"file": (name, b"f")})
    body = res.json()
    assert res.status_code == 200 and (body["code"] != 0 or all("/" not in f["name"] and ".." not in f["name"] for f in body["data"]))


@pytest.mark.parametrize("path", ["/api/v1/datasets", "/api/v1/chats", "/api/v1/files", "/api/v1/agents", "/api/v1/memories"])
@pytest.mark.parametrize("page_size", ["1000000000", "-1", "0", "abc", "1e9", "99999999999999999999999"])
def test_absurd_paging_is_answered_in_the_envelope(api: Api, path: str, page_size: str) -> None:
    make_dataset(api, "one")
    res = api.client.get(path, headers=api.headers(), params={"page": page_size, "page_size": page_size})
    assert res.status_code == 200 and res.json()["code"] in (0, 100, 101, 102), res.text


@pytest.mark.parametrize(("content_type", "body"), [("text/plain", b"name=x"), ("application/xml", b"<name>x</name>"),
                                                     ("application/json", b"[1, 2]"), ("application/json", b"{\"name\": ")])
def test_wrong_content_types_and_shapes(api: Api, content_type: str, body: bytes) -> None:
    res = api.client.post("/api/v1/datasets", headers={**api.headers(), "Content-Type": content_type}, content=body)
    assert res.status_code == 200 and res.json()["code"] in (101, 102), res.text
    assert api.call("GET", "/api/v1/datasets")["data"] == []


def test_a_data_folder_that_cant_be_written_gives_a_clear_error(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.bootstrap.container import get_container

    ds = make_dataset(api, "before")
    store = get_container().store
    plain = store._conn  # type: ignore[attr-defined]

    def read_only() -> object:
        conn = plain()
        conn.execute("PRAGMA query_only=1")  # what SQLite reports for a read-only file system
        return conn

    monkeypatch.setattr(store, "_conn", read_only)
    res = api.client.post("/api/v1/datasets", headers=api.headers(), json={"name": "after"})
    assert res.status_code == 200
    assert res.json() == {"code": 500, "message": "The data folder is read-only: cannot write metadata.", "data": None}
    assert api.call("PUT", f"/api/v1/datasets/{ds}", json={"name": "renamed"})["message"] == "The data folder is read-only: cannot write metadata."
    assert [d["name"] for d in api.call("GET", "/api/v1/datasets")["data"]] == ["before"]  # reads still work


def test_unknown_paths_and_methods_answer_as_ragflow(api: Api) -> None:
    missing = api.client.get("/api/v1/__missing_route__")  # no key needed to learn a path does not exist
    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "message": "Not Found: /api/v1/__missing_route__", "data": None, "error": "Not Found"}
    wrong_method = api.client.patch("/api/v1/datasets", headers=api.headers())
    assert wrong_method.status_code == 200
    assert wrong_method.json() == {"code": 100, "message": "<MethodNotAllowed '405: Method Not Allowed'>", "data": None}
