"""Workspace and dataset commits on the AWS adapters (DynamoDB and S3 under moto), through the files Lambda's own app:
create, list (paged in the store: a page reads its page plus a few rank nodes), get, a commit's files, content."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from tests.aws.conftest import USAGE, UsageLines, emulated_aws


class Client:
    def __init__(self, client: TestClient, key: str, usage: UsageLines) -> None:
        self.client, self.headers, self.usage = client, {"Authorization": f"Bearer {key}"}, usage

    def call(self, method: str, path: str, **kw: Any) -> Any:
        self.usage.lines.clear()
        body = self.client.request(method, path, headers=self.headers, **kw).json()
        assert body["code"] == 0, body
        return body["data"]

    def items_read(self) -> int:
        """What the last request read, as the API's usage meter logged it."""
        reads = [int(m.group(1)) for line in self.usage.lines if (m := USAGE.search(line))]
        assert len(reads) == 1, self.usage.lines
        return reads[0]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Client, str]]:
    with emulated_aws(monkeypatch, "commits", "commits-bucket", {"DATA_DIR": str(tmp_path / "var")}) as (tenant, key):
        from functions.files.handler import app

        usage = UsageLines()
        logger = logging.getLogger("ragcore.usage")
        logger.addHandler(usage)
        level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            with TestClient(app) as client:
                yield Client(client, key, usage), tenant
        finally:
            logger.removeHandler(usage)
            logger.setLevel(level)


def test_workspace_commits_on_dynamodb(aws: tuple[Client, str]) -> None:
    api, tenant = aws
    ws = api.call("POST", "/api/v1/files", json={"name": "ws", "type": "folder"})["id"]
    [f] = api.call("POST", "/api/v1/files", files=[("file", ("a.txt", b"v0"))], data={"parent_id": ws})
    base = f"/api/v1/workspaces/{ws}"
    assert api.call("GET", f"{base}/changes") == [{"file_id": f["id"], "file_name": "a.txt", "operation": "add"}]

    ids = []
    for n in range(12):
        change = {"file_id": f["id"], "operation": "add"} if n == 0 else {"file_id": f["id"], "operation": "modify", "content": f"v{n}"}
        created = api.call("POST", f"{base}/commits", json={"message": f"c{n}", "files": [change]})
        assert created["parent_id"] == (ids[-1] if ids else None)
        ids.append(created["id"])

    listed = api.call("GET", f"{base}/commits", params={"page": 2, "page_size": 5})
    assert listed["total"] == 12 and [c["id"] for c in listed["commits"]] == ids[::-1][5:10]
    read = api.items_read()
    assert 5 <= read <= 5 + 10  # its page plus the folder, the key and a few rank nodes
    oldest = api.call("GET", f"{base}/commits", params={"page": 1, "page_size": 3, "desc": "false"})
    assert [c["message"] for c in oldest["commits"]] == ["c0", "c1", "c2"]

    detail = api.call("GET", f"{base}/commits/{ids[3]}")
    assert detail["message"] == "c3" and detail["parent_id"] == ids[2]
    assert detail["files"] == [{"file_id": f["id"], "operation": "modify", "old_hash": hashlib.sha256(b"v2").hexdigest(),
                                "new_hash": hashlib.sha256(b"v3").hexdigest(), "old_name": None, "new_name": None}]
    assert api.items_read() <= 10  # the commit, its one change, the folder and the key
    files = api.call("GET", f"{base}/commits/{ids[3]}/files")
    assert [(x["file_id"], x["new_location"]) for x in files] == [(f["id"], f".objects/{hashlib.sha256(b'v3').hexdigest()}")]
    assert api.call("GET", f"{base}/commits/{ids[3]}/files/{f['id']}/content") == {"content": "v3"}
    assert api.client.get(f"/api/v1/files/{f['id']}", headers=api.headers).content == b"v11"  # the live file moved on
    versions = api.call("GET", f"/api/v1/workspace-files/{f['id']}/versions")
    assert [v["message"] for v in versions] == [f"c{n}" for n in range(11, -1, -1)]

    # they really are in DynamoDB and S3: commits as items, content and trees as objects named by their hashes
    kinds = {i["PK"]["S"].split("#")[-2] for i in boto3.client("dynamodb").scan(TableName="commits")["Items"] if "#" in i["PK"]["S"]}
    assert {"file_commit", "file_commit_item", "file_version"} <= kinds
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="commits-bucket", Prefix=f"commits/{tenant}/")["Contents"]]
    assert sum("/objects/" in k for k in keys) == 12 and sum("/trees/" in k for k in keys) == 12
    tree = json.loads(boto3.client("s3").get_object(Bucket="commits-bucket", Key=next(k for k in keys if "/trees/" in k))["Body"].read())
    assert list(tree) == [f["id"]]


def test_dataset_commits_on_dynamodb(aws: tuple[Client, str]) -> None:
    api, tenant = aws
    from ragcore import bootstrap
    from ragcore.domain.datasets import CreateDataset

    ds = bootstrap.datasets().create(tenant, CreateDataset(name="kb"))["id"]
    doc = bootstrap.documents().upload(tenant, ds, [("one.txt", b"first")])[0]
    base = f"/api/v1/datasets/{ds}"
    created = api.call("POST", f"{base}/commits", json={"message": "docs", "files": [{"file_id": doc["id"], "operation": "add"}]})
    assert created["folder_id"] == ds and json.loads(created["tree_state"])[doc["id"]]["name"] == "one.txt"
    listed = api.call("GET", f"{base}/commits")
    assert [c["id"] for c in listed["commits"]] == [created["id"]] and listed["total"] == 1
    assert api.call("GET", f"{base}/commits/{created['id']}")["files"][0]["operation"] == "add"
    assert api.call("GET", f"{base}/commits/{created['id']}/files/{doc['id']}/content") == {"content": "first"}
    assert api.call("GET", f"{base}/changes") == []
