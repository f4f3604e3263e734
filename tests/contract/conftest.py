"""Each port's adapters, local and AWS (under moto), as parametrized fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        from ragcore.adapters.sqlite_store import SqliteMetadataStore

        yield SqliteMetadataStore(tmp_path / "meta.sqlite3")
        return
    request.getfixturevalue("aws_env")
    from ragcore.adapters.dynamodb_store import DynamoMetadataStore
    from ragcore.adapters.table_schema import create_table_kwargs

    boto3.client("dynamodb").create_table(**create_table_kwargs("contract"))
    yield DynamoMetadataStore("contract")


@pytest.fixture(params=["local", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "local":
        from ragcore.adapters.local_blobs import LocalBlobStore

        yield LocalBlobStore(tmp_path / "blobs", upload_base_url="http://127.0.0.1:9380/api/v1/uploads")
        return
    request.getfixturevalue("aws_env")
    from ragcore.adapters.s3_blobs import S3BlobStore

    boto3.client("s3").create_bucket(Bucket="contract")
    yield S3BlobStore("contract")
