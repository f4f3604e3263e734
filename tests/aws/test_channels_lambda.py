"""Chat channels in the serverless shape, under moto: the chat-channels Lambda (API Gateway events) creates Telegram,
Discord, Feishu and LINE channels (credentials sealed with KMS) and acknowledges their platforms' deliveries at once,
queueing each accepted one on SQS; the ingest Lambda, fed those SQS records, answers them with the chat assistant
(citations as footnotes) through the platform fakes on loopback. A forged delivery is refused before anything is
queued; a repeated one is queued once; the table never holds a platform secret."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ragcore.bootstrap import container as container_module

from tests.aws.conftest import BUCKET, Aws, Context
from tests.aws.test_connectors_lambda import call
from tests.channels.conftest import HANDBOOK, QUESTION
from tests.channels.fakes import SECRETS, Delivery, Platforms, credential, delivery
from tests.connectors.fake_http import serve

KINDS = ("telegram", "discord", "feishu", "line")


@pytest.fixture
def platforms() -> Iterator[Platforms]:
    with serve() as fake:
        yield Platforms(fake)


def webhook(handler: Any, channel_id: str, sent: Delivery) -> dict[str, Any]:
    """The platform's POST as API Gateway (HTTP API, payload 2.0) hands it to the function."""
    path = f"/api/v1/chat-channels/{channel_id}/webhook"
    event = {
        "version": "2.0", "routeKey": "POST /api/v1/chat-channels/{channel_id}/webhook", "rawPath": path,
        "rawQueryString": "", "headers": {"host": "api.example.com", **{k.lower(): v for k, v in sent.headers.items()}},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "api.example.com", "requestId": "r",
                           "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                                    "userAgent": "platform"}, "routeKey": "POST", "stage": "$default",
                           "timeEpoch": 1795546801000},
        "pathParameters": {"channel_id": channel_id},
        "body": base64.b64encode(sent.body).decode(), "isBase64Encoded": True,
    }
    return dict(handler(event, Context(function_name="chat_channels")))


def test_webhooks_acknowledge_and_the_ingest_function_answers(aws: Aws, platforms: Platforms,  # noqa: F811
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore import bootstrap

    monkeypatch.setenv("PROVIDER_KEY_KMS_KEY_ID", boto3.client("kms").create_key()["KeyMetadata"]["KeyId"])
    monkeypatch.setenv("CHANNEL_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("CHANNEL_API_BASE_URLS", platforms.api_bases())
    container_module.reset()
    from functions.chat_channels.handler import handler as channels_api
    from functions.chats.handler import handler as chats_api

    key = bootstrap.tenants().create_key(aws.tenant).key
    aws.s3.put_object(Bucket=BUCKET, Key="inbox/handbook/handbook.txt", Body=HANDBOOK)
    aws.settle()
    dataset = bootstrap.datasets().find_by_name(aws.tenant, "handbook")
    assert dataset is not None
    chat = call(chats_api, "POST", "/api/v1/chats", key, {"name": "handbook assistant", "dataset_ids": [dataset["id"]]})
    assert chat["code"] == 0, chat

    for kind in KINDS:
        made = call(channels_api, "POST", "/api/v1/chat-channels", key, {
            "name": f"{kind} bot", "channel": kind, "chat_id": chat["data"]["id"],
            "config": {"credential": credential(kind, platforms)}})
        assert made["code"] == 0, made
        channel = made["data"]
        assert channel["webhook_url"] == f"https://api.example.com/api/v1/chat-channels/{channel['id']}/webhook"

        forged = webhook(channels_api, channel["id"], delivery(kind, platforms, 1, QUESTION, forge=True))
        assert forged["statusCode"] == 401
        assert aws.drain(aws.task_queue) == []  # nothing of a forged delivery is queued
        signed = delivery(kind, platforms, 1, QUESTION)
        first, again = webhook(channels_api, channel["id"], signed), webhook(channels_api, channel["id"], signed)
        assert (first["statusCode"], again["statusCode"]) == (200, 200)
        if kind == "discord":
            assert json.loads(first["body"]) == {"type": 5}  # deferred: the answer edits it later
        queued = aws.drain(aws.task_queue)
        assert [json.loads(r["body"])["type"] for r in queued] == ["channel_reply"]  # the repeat was not queued

        assert aws.run_lambda(queued + [dict(queued[0], messageId="redelivered")]) == {"batchItemFailures": []}
        [answer] = platforms.answers(kind)  # SQS delivering the task twice answered once
        assert "twenty days of annual leave" in answer and answer.rstrip().endswith("Sources:\n[1] handbook.txt"), answer
        state = call(channels_api, "GET", f"/api/v1/chat-channels/{channel['id']}/runtime", key)["data"]
        assert (state["deliveries"], state["duplicates"], state["rejected"], state["replies"]) == (1, 1, 1, 1)
        assert state["status"] == "connected"

    table = json.dumps(boto3.client("dynamodb").scan(TableName="ragflow-test")["Items"])
    assert not [s for s in SECRETS if s in table]
