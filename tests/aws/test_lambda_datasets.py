"""The datasets Lambda as deployed: an API Gateway HTTP API v2 event into the Mangum handler, DynamoDB under moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws.conftest import emulated_aws

EVENTS = Path(__file__).resolve().parents[1] / "events"


class Context:
    function_name = "datasets"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:datasets"
    aws_request_id = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def event(name: str, key: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text().replace("{{API_KEY}}", key))  # type: ignore[no-any-return]


@pytest.fixture
def lambda_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    with emulated_aws(monkeypatch, "lambda-test", "lambda-bucket", {"DATA_DIR": str(tmp_path / "var")}) as (_, key):
        yield key


def test_create_then_list_through_the_handler(lambda_key: str) -> None:
    from functions.datasets.handler import handler

    created = handler(event("apigw_v2_create_dataset.json", lambda_key), Context())
    assert created["statusCode"] == 200
    body = json.loads(created["body"])
    assert body["code"] == 0 and body["data"]["name"] == "lambda dataset" and body["data"]["chunk_method"] == "qa"
    listed = json.loads(handler(event("apigw_v2_list_datasets.json", lambda_key), Context())["body"])
    assert listed["code"] == 0 and [d["id"] for d in listed["data"]] == [body["data"]["id"]] and listed["total_datasets"] == 1
    # it really is in DynamoDB
    items = boto3.client("dynamodb").scan(TableName="lambda-test")["Items"]
    assert any(i["PK"]["S"].endswith(f"#dataset#{body['data']['id']}") for i in items)


def test_bad_key_through_the_handler(lambda_key: str) -> None:
    from functions.datasets.handler import handler

    reply = handler(event("apigw_v2_list_datasets.json", "invalid_key_123"), Context())
    assert reply["statusCode"] == 401
    assert json.loads(reply["body"]) == {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}


def test_healthz_through_the_handler(lambda_key: str) -> None:
    from functions.system.handler import handler

    e = event("apigw_v2_list_datasets.json", lambda_key)
    e["rawPath"] = e["requestContext"]["http"]["path"] = "/api/v1/system/healthz"
    e["rawQueryString"] = ""
    e.pop("queryStringParameters")
    reply = json.loads(handler(e, Context())["body"])
    assert reply["code"] == 0 and reply["data"]["runtime"] == "aws"


def test_completions_through_a_function_url_event(lambda_key: str) -> None:
    """The completion routes as the function URL delivers them (payload format 2.0), non-streaming."""
    from ragcore import bootstrap

    from functions.completions.handler import handler

    tenant = next(k["tenant_id"] for k in bootstrap.tenants().list_keys())
    chat = bootstrap.chats().create(str(tenant), {"name": "url chat"})
    body = {"model": "model", "messages": [{"role": "user", "content": "hello"}]}
    e = event("apigw_v2_list_datasets.json", lambda_key)
    path = f"/api/v1/chats_openai/{chat['id']}/chat/completions"
    e.update({"rawPath": path, "rawQueryString": "", "body": json.dumps(body), "routeKey": "$default"})
    e.pop("queryStringParameters")
    e["headers"]["content-type"] = "application/json"
    e["requestContext"].update({"domainName": "abc.lambda-url.us-east-1.on.aws", "routeKey": "$default",
                                "http": {**e["requestContext"]["http"], "method": "POST", "path": path}})
    reply = handler(e, Context())
    assert reply["statusCode"] == 200
    answer = json.loads(reply["body"])
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["role"] == "assistant"


def test_requests_that_call_no_provider_never_wait_on_secrets_manager(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The provider keys are read when an adapter that calls a provider is built, not on every cold start: a
    dataset list works even while the secret cannot be read (here: it does not exist)."""
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    env = {"DATA_DIR": str(tmp_path / "var"), "PROVIDER_SECRET_ARN": missing}
    with emulated_aws(monkeypatch, "lazy-secret", "lazy-bucket", env) as (_, key):
        from ragcore.bootstrap.container import get_container

        from functions.datasets.handler import handler

        assert handler(event("apigw_v2_create_dataset.json", key), Context())["statusCode"] == 200
        listed = json.loads(handler(event("apigw_v2_list_datasets.json", key), Context())["body"])
        assert listed["code"] == 0 and listed["total_datasets"] == 1
        with pytest.raises(Exception, match="ResourceNotFound|can't find"):
            get_container().keys  # noqa: B018 - the first provider adapter is what reads the secret


def login_event(email: str, password: str, source_ip: str, forwarded: str = "") -> dict[str, Any]:
    headers = {"content-type": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com"}
    if forwarded:
        headers["x-forwarded-for"] = forwarded
    return {
        "version": "2.0", "routeKey": "POST /api/v1/auth/login", "rawPath": "/api/v1/auth/login", "rawQueryString": "",
        "headers": headers, "body": json.dumps({"email": email, "password": password}), "isBase64Encoded": False,
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "stage": "$default", "requestId": "r",
                           "http": {"method": "POST", "path": "/api/v1/auth/login", "protocol": "HTTP/1.1",
                                    "sourceIp": source_ip, "userAgent": "curl"}},
    }


def test_the_login_limit_counts_api_gateways_source_ip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "var"), "LOGIN_MAX_FAILURES": "100", "LOGIN_ADDRESS_MAX_FAILURES": "2"}
    with emulated_aws(monkeypatch, "login-test", "login-bucket", env):
        from ragcore import bootstrap

        from functions.system.handler import handler

        bootstrap.users().register({"email": "u@example.com", "nickname": "u", "password": "secret"})

        def code(email: str, password: str, ip: str, forwarded: str = "") -> int:
            return int(json.loads(handler(login_event(email, password, ip, forwarded), Context())["body"])["code"])

        assert code("u@example.com", "guess", "203.0.113.7") == 109
        assert code("x@example.com", "guess", "203.0.113.7", forwarded="198.51.100.1") == 109
        assert code("u@example.com", "secret", "203.0.113.7", forwarded="198.51.100.2") == 10  # the header is no way out
        assert code("u@example.com", "secret", "203.0.113.8") == 0  # another client address is not locked
