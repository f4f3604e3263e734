"""Reranker over a Jina/Cohere-style HTTP API: POST {base_url}/rerank {model, query, documents, top_n}."""

from __future__ import annotations

import time

import httpx

from ragcore.errors import ProviderError


class HttpReranker:
    def __init__(self, base_url: str, api_key: str, model: str = "", *, timeout: float = 30, attempts: int = 3) -> None:
        self._url = base_url.rstrip("/") + "/rerank"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._model = model
        self._timeout = timeout
        self._attempts = attempts

    def rerank(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        body = {"model": self._model, "query": query, "documents": texts, "top_n": len(texts)}
        status: int | str = ""
        for attempt in range(self._attempts):
            try:
                reply = httpx.post(self._url, json=body, headers=self._headers, timeout=self._timeout)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            else:
                if reply.status_code == 200:
                    scores = [0.0] * len(texts)
                    for item in reply.json().get("results", []):
                        scores[int(item["index"])] = float(item.get("relevance_score", 0.0))
                    return scores
                status = reply.status_code
                if status not in (429, 500, 502, 503, 504):
                    raise ProviderError(f"The rerank provider refused the request: {status}")
            time.sleep(0.2 * 2**attempt)
        raise ProviderError(f"The rerank provider failed after {self._attempts} attempts: {status}")
