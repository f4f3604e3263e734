"""Embedder over an OpenAI-compatible embeddings API, in batches, with retries and readable failures."""

from __future__ import annotations

import math
import time

import openai
from openai import OpenAI

from ragcore.adapters.openai_chat import RETRYABLE, describe
from ragcore.errors import ProviderError

BATCH = 64


class OpenAIEmbedder:
    def __init__(self, model: str, base_url: str, api_key: str, *, dimension: int | None = None, timeout: float = 30,
                 attempts: int = 3, backoff_s: float = 0.5) -> None:
        self.model_name = model
        self.dimension = dimension or 0
        self._client = OpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0)
        self._attempts = attempts
        self._backoff = backoff_s

    def _batch(self, texts: list[str]) -> list[list[float]]:
        last: Exception | None = None
        for attempt in range(self._attempts):
            try:
                reply = self._client.embeddings.create(model=self.model_name, input=texts)
                vectors = [list(d.embedding) for d in sorted(reply.data, key=lambda d: d.index)]
                out = []
                for v in vectors:
                    norm = math.sqrt(sum(x * x for x in v)) or 1.0
                    out.append([x / norm for x in v])
                if out and not self.dimension:
                    self.dimension = len(out[0])
                return out
            except RETRYABLE as exc:
                last = exc
                time.sleep(self._backoff * 2**attempt)
            except openai.APIError as exc:
                raise ProviderError(f"The embedding provider refused the request: {describe(exc)}") from exc
        raise ProviderError(f"The embedding provider failed after {self._attempts} attempts: {describe(last or Exception())}")

    def embed(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            out.extend(self._batch([t if t.strip() else " " for t in texts[start : start + BATCH]]))
        return out
