"""Provider adapters against loopback fakes: OpenAI-compatible embeddings and chat, retries, secrets."""

from __future__ import annotations

import json
import math

import boto3
import pytest
from moto import mock_aws
from ragcore.errors import ProviderError

from tests.fakes.openai_server import FakeOpenAI


def test_openai_embedder_batches_normalises_and_retries(openai_fake: FakeOpenAI) -> None:
    from ragcore.adapters.openai_embedder import OpenAIEmbedder

    embedder = OpenAIEmbedder("text-embedding-3-small", openai_fake.url, "sk-secret", backoff_s=0.01)
    texts = [f"text {i}" for i in range(70)]
    openai_fake.fail_next(1, status=429)
    vectors = embedder.embed(texts)
    assert len(vectors) == 70 and embedder.dimension == openai_fake.dimension
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-6 for v in vectors)
    assert vectors[3] == embedder.embed(["text 3"])[0]  # order kept across batches
    embedding_calls = [r for r in openai_fake.requests if r["path"].endswith("/embeddings")]
    assert [len(r["body"]["input"]) for r in embedding_calls[:3]] == [64, 64, 6]  # the 429, then the retry
    openai_fake.fail_next(5, status=503)
    with pytest.raises(ProviderError) as err:
        embedder.embed(["x"])
    assert "after 3 attempts" in str(err.value) and "sk-secret" not in str(err.value)


def test_openai_chat_complete_stream_and_options(openai_fake: FakeOpenAI) -> None:
    from ragcore.adapters.openai_chat import OpenAIChatModel

    model = OpenAIChatModel("fake", openai_fake.url, "sk-secret", backoff_s=0.01)
    openai_fake.reply = "one two three"
    text, usage = model.complete([{"role": "user", "content": "hi"}], temperature=0.2, knowledge=[{"id": 0, "content": "x"}])
    assert text == "one two three" and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    sent = openai_fake.chat_requests()[-1]["body"]
    assert sent["temperature"] == 0.2 and "knowledge" not in sent
    assert "".join(model.stream([{"role": "user", "content": "hi"}])) == "one two three"
    openai_fake.fail_next(1, status=500)
    assert "".join(model.stream([{"role": "user", "content": "hi"}])) == "one two three"  # retried before the first delta
    openai_fake.fail_next(1, status=401)
    with pytest.raises(ProviderError, match="refused"):
        model.complete([{"role": "user", "content": "hi"}])


def test_extractive_answers_cite_the_knowledge() -> None:
    from ragcore.adapters.extractive_llm import ExtractiveChatModel

    model = ExtractiveChatModel()
    knowledge = [{"id": 0, "content": "Bananas are yellow. Apples can be red."}, {"id": 1, "content": "The sky is blue."}]
    answer, usage = model.complete([{"role": "user", "content": "What colour is the sky?"}], knowledge=knowledge)
    assert answer.startswith("Extractive answer") and "The sky is blue. [ID:1]" in answer and "Bananas" not in answer
    assert usage["completion_tokens"] > 0
    assert "nothing in the knowledge base" in model.complete([{"role": "user", "content": "x"}], knowledge=[])[0]
    assert "".join(model.stream([{"role": "user", "content": "sky colour"}], knowledge=knowledge)) == model.complete(
        [{"role": "user", "content": "sky colour"}], knowledge=knowledge)[0]


def test_provider_keys_come_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.adapters.secrets import load_secret
    from ragcore.bootstrap.container import with_provider_secrets
    from ragcore.config import Settings

    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="keys", SecretString=json.dumps({"PINECONE_API_KEY": "pc-key", "LLM_API_KEY": "llm-key"}))["ARN"]
        load_secret.cache_clear()
        settings = with_provider_secrets(Settings(provider_secret_arn=arn))
        assert settings.pinecone_api_key == "pc-key" and settings.llm_api_key == "llm-key"
        assert settings.embedding_api_key == ""
        load_secret.cache_clear()


def test_http_reranker_scores_in_input_order(openai_fake: FakeOpenAI) -> None:
    from ragcore.adapters.http_reranker import HttpReranker

    reranker = HttpReranker(openai_fake.url, "rk-secret", "rerank-model")
    scores = reranker.rerank("red apples", ["green pears", "red apples are sweet", "apples"])
    assert scores[1] > scores[2] > scores[0] == 0.0
    openai_fake.fail_next(1, status=503)
    assert reranker.rerank("red", ["red"]) == [1.0]
    openai_fake.fail_next(1, status=401)
    with pytest.raises(ProviderError, match="refused"):
        reranker.rerank("red", ["red"])
