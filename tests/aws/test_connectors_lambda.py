"""Connectors in the serverless shape, under moto: the connectors Lambda (through API Gateway events) creates and
links a connector, its credentials sealed with KMS; the sync steps go onto the task queue and the ingest Lambda runs
them from the SQS records; the tick Lambda starts the next run from the due index; the table never holds the secret."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from ragcore.bootstrap import container as container_module

from tests.aws.conftest import Aws, Context
from tests.aws.test_ingest_lambda import documents_of, search
from tests.connectors.helpers import force_due

SOURCE = "team-docs"
SECRET = "s3cr3t-source-key-0123456789"


def call(handler: Any, method: str, path: str, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = json.dumps(body or {}).encode()
    event = {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "api.example.com", "content-type": "application/json", "authorization": f"Bearer {key}"},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "api.example.com", "requestId": "r",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                                    "userAgent": "pytest"}, "routeKey": f"{method} {path}", "stage": "$default",
                           "timeEpoch": 1795546801000},
        "body": base64.b64encode(raw).decode(), "isBase64Encoded": True,
    }
    reply = handler(event, Context(function_name="api"))
    return dict(json.loads(reply["body"]))


def test_connector_sync_through_the_task_queue_and_the_tick(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from ragcore import bootstrap

    from functions.connectors.handler import handler as connectors_api
    from functions.connectors.handler import tick
    from functions.datasets.handler import handler as datasets_api

    monkeypatch.setenv("PROVIDER_KEY_KMS_KEY_ID", boto3.client("kms").create_key()["KeyMetadata"]["KeyId"])
    container_module.reset()
    key = bootstrap.tenants().create_key(aws.tenant).key
    aws.s3.create_bucket(Bucket=SOURCE)
    aws.s3.put_object(Bucket=SOURCE, Key="policies/leave.txt", Body=b"Staff get twenty days of annual leave.\n")
    aws.s3.put_object(Bucket=SOURCE, Key="policies/travel.md", Body=b"# Travel\n\nBook trains over flights.\n")

    config = {"bucket_name": SOURCE, "prefix": "policies", "sync_deleted_files": True,
              "credentials": {"authentication_method": "access_key", "aws_access_key_id": "AKIDTEAM",
                              "aws_secret_access_key": SECRET, "region": "us-east-1"}}
    made = call(connectors_api, "POST", "/api/v1/connectors", key, {"name": "policies", "source": "s3", "config": config,
                                                                    "prune_freq": 0})
    assert made["code"] == 0 and made["data"]["config"]["credentials"]["aws_secret_access_key"] == "s3c...6789"
    conn = made["data"]["id"]
    ds = call(datasets_api, "POST", "/api/v1/datasets", key, {"name": "policies"})["data"]["id"]
    assert call(datasets_api, "PUT", f"/api/v1/datasets/{ds}", key, {"connectors": [{"id": conn}]})["code"] == 0

    aws.settle(rounds=40)  # the first run's steps, then the parse tasks they queue
    [first] = call(connectors_api, "GET", f"/api/v1/connectors/{conn}/logs", key)["data"]["logs"]
    assert (first["status"], first["docs_added"]) == ("3", 2), first
    docs = {d["name"]: d for d in documents_of(aws, ds)}
    assert {n: d["run"] for n, d in docs.items()} == {"leave.txt": "DONE", "travel.md": "DONE"}
    assert search(aws, "annual leave days", ds)["chunks"][0]["document_id"] == docs["leave.txt"]["id"]

    aws.s3.put_object(Bucket=SOURCE, Key="policies/leave.txt", Body=b"Staff get twenty-five days of annual leave.\n")
    aws.s3.delete_object(Bucket=SOURCE, Key="policies/travel.md")
    force_due(conn)
    assert tick({}, Context(function_name="tick")) == {"due": 1}
    aws.settle(rounds=40)
    second = call(connectors_api, "GET", f"/api/v1/connectors/{conn}/logs", key)["data"]["logs"][0]
    assert (second["status"], second["docs_updated"], second["docs_removed"]) == ("3", 1, 1), second
    assert [(d["name"], d["id"]) for d in documents_of(aws, ds)] == [("leave.txt", docs["leave.txt"]["id"])]
    assert "twenty-five" in search(aws, "annual leave days", ds)["chunks"][0]["content"]
    table = json.dumps(boto3.client("dynamodb").scan(TableName="ragflow-test")["Items"])
    assert "AKIDTEAM" not in table and SECRET not in table and SOURCE in table
