"""Amazon Bedrock chat (Converse) and Titan embeddings (InvokeModel) through boto3, the requests asserted with
botocore's Stubber; and a tenant's Bedrock instance used by a chat over HTTP."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from ragcore.adapters.bedrock import BedrockChatModel, BedrockEmbedder
from ragcore.errors import ProviderError

from tests.conftest import Api, app_with


def client() -> Any:
    return boto3.client("bedrock-runtime", region_name="eu-west-1", aws_access_key_id="AKIATEST", aws_secret_access_key="test")


def converse_reply(text: str) -> dict[str, Any]:
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn",
            "usage": {"inputTokens": 7, "outputTokens": 3, "totalTokens": 10}, "metrics": {"latencyMs": 5}}


def test_chat_sends_the_converse_request_and_reads_the_answer() -> None:
    bedrock = client()
    with Stubber(bedrock) as stub:
        stub.add_response("converse", converse_reply("Paris."), {
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "system": [{"text": "Answer briefly."}],
            "messages": [{"role": "user", "content": [{"text": "Capital of France?"}]}],
            "inferenceConfig": {"maxTokens": 64, "temperature": 0.1},
        })
        answer, usage = BedrockChatModel("anthropic.claude-3-haiku-20240307-v1:0", bedrock).complete(
            [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Capital of France?"}],
            max_tokens=64, temperature=0.1)
        stub.assert_no_pending_responses()
    assert answer == "Paris." and usage == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def test_embeddings_send_titans_request_and_return_unit_vectors() -> None:
    bedrock = client()
    raw = json.dumps({"embedding": [3.0, 4.0], "inputTextTokenCount": 2}).encode()
    with Stubber(bedrock) as stub:
        stub.add_response("invoke_model", {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"}, {
            "modelId": "amazon.titan-embed-text-v2:0", "contentType": "application/json", "accept": "application/json",
            "body": json.dumps({"inputText": "hello"}),
        })
        vectors = BedrockEmbedder("amazon.titan-embed-text-v2:0", bedrock).embed(["hello"])
    assert vectors == [[0.6, 0.8]]


def test_a_refusal_is_a_readable_provider_error() -> None:
    bedrock = client()
    with Stubber(bedrock) as stub:
        stub.add_client_error("converse", service_error_code="AccessDeniedException", http_status_code=403)
        with pytest.raises(ProviderError, match="AccessDeniedException"):
            BedrockChatModel("m", bedrock).complete([{"role": "user", "content": "hi"}])


@pytest.fixture
def bedrock_api(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, list[tuple[str, str]], Stubber]]:
    from ragcore.adapters import bedrock as adapter

    stubbed = client()
    stub = Stubber(stubbed)
    stub.activate()
    seen: list[tuple[str, str]] = []

    def fake_client(api_key: str, region: str = "", endpoint_url: str | None = None) -> Any:
        seen.append((api_key, region))
        return stubbed

    monkeypatch.setattr(adapter, "bedrock_client", fake_client)
    for api in app_with({}, monkeypatch):
        yield api, seen, stub
    stub.deactivate()


def test_a_tenants_bedrock_instance_answers_its_chats(bedrock_api: tuple[Api, list[tuple[str, str]], Stubber]) -> None:
    api, seen, stub = bedrock_api
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    key = {"auth_mode": "access_key_secret", "bedrock_ak": "AKIASECRET", "bedrock_sk": "sk-bedrock-secret", "bedrock_region": "eu-west-1"}
    stub.add_response("converse", converse_reply("Hi!"), {"modelId": model, "messages": [{"role": "user", "content": [{"text": "Hi"}]}]})
    assert api.call("PUT", "/api/v1/providers", json={"provider_name": "Bedrock"}) == {"code": 0}
    res = api.call("POST", "/api/v1/providers/Bedrock/instances", json={
        "instance_name": "aws", "api_key": key, "region": "eu-west-1", "model_info": [{"model_name": model, "model_type": ["chat"]}]})
    assert res == {"code": 0}, res
    assert json.loads(seen[0][0]) == key
    chat = api.call("POST", "/api/v1/chats", json={"name": "claude", "llm_id": f"{model}@aws@Bedrock"})["data"]
    stub.add_response("converse", converse_reply("Bonjour."), None)
    reply = api.call("POST", f"/api/v1/chats/{chat['id']}/completions", json={"question": "Hello?", "stream": False})
    assert reply["data"]["answer"] == "Bonjour."
    assert seen[-1] == (json.dumps(key), "eu-west-1")
    shown = api.call("GET", "/api/v1/providers/Bedrock/instances/aws")["data"]["api_key"]
    assert "sk-bedrock-secret" not in shown and "AKIASECRET" not in shown
