"""Amazon Bedrock chat (the Converse API) and Titan text embeddings (InvokeModel) through boto3.

The instance's key is RAGFlow's Bedrock key, a JSON object: `auth_mode` "access_key_secret" (bedrock_ak,
bedrock_sk), "iam_role" (aws_role_arn, assumed through STS) or "assume_role" (the process's own credentials: on
Lambda its IAM role, nothing stored), and `bedrock_region`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ragcore.errors import ProviderError
from ragcore.ports import ChatUsage


def bedrock_client(api_key: str, region: str = "", endpoint_url: str | None = None) -> Any:
    try:
        key = json.loads(api_key) if api_key else {}
    except ValueError:
        raise ProviderError("The Bedrock key must be a JSON object with auth_mode and bedrock_region") from None
    key = key if isinstance(key, dict) else {}
    region = str(key.get("bedrock_region") or region or "us-east-1")
    mode = key.get("auth_mode") or "assume_role"
    kwargs: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint_url}
    if mode == "access_key_secret":
        kwargs.update(aws_access_key_id=key.get("bedrock_ak"), aws_secret_access_key=key.get("bedrock_sk"))
    elif mode == "iam_role":
        creds = boto3.client("sts", region_name=region).assume_role(
            RoleArn=str(key.get("aws_role_arn") or ""), RoleSessionName="BedrockSession")["Credentials"]
        kwargs.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"])
    return boto3.client("bedrock-runtime", **kwargs)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


class BedrockChatModel:
    def __init__(self, model: str, client: Any) -> None:
        self.model_name = model
        self._client = client

    def complete(self, messages: list[dict[str, str]], **options: Any) -> tuple[str, ChatUsage]:
        system = [{"text": m["content"]} for m in messages if m["role"] == "system" and m["content"]]
        turns = [{"role": "assistant" if m["role"] == "assistant" else "user", "content": [{"text": m["content"]}]}
                 for m in messages if m["role"] != "system"]
        config = {name: options[key] for key, name in (("max_tokens", "maxTokens"), ("temperature", "temperature"),
                                                      ("top_p", "topP")) if options.get(key) is not None}
        request: dict[str, Any] = {"modelId": self.model_name, "messages": turns}
        if system:
            request["system"] = system
        if config:
            request["inferenceConfig"] = config
        try:
            reply = self._client.converse(**request)
        except (ClientError, BotoCoreError) as exc:
            raise ProviderError(f"The chat model refused the request: {_reason(exc)}") from exc
        text = "".join(part.get("text", "") for part in reply["output"]["message"]["content"])
        usage = reply.get("usage") or {}
        return text, {"prompt_tokens": int(usage.get("inputTokens", 0)), "completion_tokens": int(usage.get("outputTokens", 0)),
                      "total_tokens": int(usage.get("totalTokens", 0))}

    def stream(self, messages: list[dict[str, str]], **options: Any) -> Iterator[str]:
        # one piece: the Converse answer whole (ConverseStream's event stream is not needed for correctness)
        yield self.complete(messages, **options)[0]


class BedrockEmbedder:
    def __init__(self, model: str, client: Any) -> None:
        self.model_name = model
        self.dimension = 0
        self._client = client

    def embed(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            try:
                reply = self._client.invoke_model(modelId=self.model_name, contentType="application/json",
                                                  accept="application/json",
                                                  body=json.dumps({"inputText": text if text.strip() else " "}))
            except (ClientError, BotoCoreError) as exc:
                raise ProviderError(f"The embedding provider refused the request: {_reason(exc)}") from exc
            vector = [float(x) for x in json.loads(reply["body"].read())["embedding"]]
            norm = math.sqrt(sum(x * x for x in vector)) or 1.0
            out.append([x / norm for x in vector])
        if out and not self.dimension:
            self.dimension = len(out[0])
        return out
