"""Issue #18's store-backed answers on the AWS adapters (DynamoDB and S3 under moto): dataset ids, size and owner
filter, document ids and bounds, file deletes refused whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.aws.conftest import emulated_aws


class _Dropped:
    def submit(self, task: dict[str, Any]) -> None:
        pass


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, vector_env: dict[str, str]) -> Iterator[tuple[TestClient, str]]:
    with emulated_aws(monkeypatch, "contract", "contract-bucket", {"DATA_DIR": str(tmp_path / "var"), **vector_env}) as (_, key):
        from ragcore.api.app import create_app
        from ragcore.bootstrap.container import get_container

        from functions.datasets.routes import router as datasets
        from functions.documents.routes import router as documents
        from functions.files.routes import router as files

        get_container().set_queue(_Dropped())  # purges and parses are queued work, not run here
        with TestClient(create_app([datasets, documents, files])) as client:
            yield client, key


def test_contract_answers_on_dynamodb(aws: tuple[TestClient, str]) -> None:
    client, key = aws
    h = {"Authorization": f"Bearer {key}"}
    ds = [client.post("/api/v1/datasets", json={"name": f"d{i}"}, headers=h).json()["data"]["id"] for i in range(3)]
    listed = client.get(f"/api/v1/datasets?ids={ds[0]},{ds[2]}", headers=h).json()
    assert [d["id"] for d in listed["data"]] == [ds[2], ds[0]] and listed["total_datasets"] == 2
    assert client.get("/api/v1/datasets", params={"page_size": 101}, headers=h).json()["code"] == 101
    files = [("file", ("a.txt", b"hello world", "text/plain")), ("file", ("b.txt", b"12345", "text/plain"))]
    docs = client.post(f"/api/v1/datasets/{ds[0]}/documents", files=files, headers=h).json()["data"]
    assert client.get(f"/api/v1/datasets/{ds[0]}", headers=h).json()["data"]["size"] == 16
    narrowed = client.get(f"/api/v1/datasets/{ds[0]}/documents?ids={docs[1]['id']}", headers=h).json()["data"]
    assert [d["name"] for d in narrowed["docs"]] == ["b.txt"]
    assert client.request("DELETE", f"/api/v1/datasets/{ds[0]}/documents", json={"ids": [docs[0]["id"]]},
                          headers=h).json() == {"code": 0, "data": {"deleted": 1}}
    assert client.get(f"/api/v1/datasets/{ds[0]}", headers=h).json()["data"]["size"] == 5
    ghost = uuid.uuid4().hex
    folder = client.post("/api/v1/files", json={"name": "f", "type": "folder"}, headers=h).json()["data"]["id"]
    refused = client.request("DELETE", "/api/v1/files", json={"ids": [folder, ghost]}, headers=h).json()
    assert refused["code"] == 102 and refused["data"] == {"success_count": 0, "errors": [f"File or Folder not found: {ghost}"]}
    assert client.get("/api/v1/files", headers=h).json()["data"]["total"] == 1
    assert client.request("DELETE", "/api/v1/datasets", json={"ids": ds}, headers=h).json() == {"code": 0, "data": {"success_count": 3}}
