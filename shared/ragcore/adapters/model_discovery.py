"""Remote model discovery for self-hosted factories, as RAGFlow's model lists do: an OpenAI-compatible server's
`GET {base}/v1/models` (OpenAI-API-Compatible, VLLM, LM-Studio) and Ollama's `GET /api/tags` + `POST /api/show`.

A discovery that fails (unreachable, not JSON, an error status) lists nothing remote, as RAGFlow's does: the route
still answers the catalogue's models. One short timeout per call; Ollama's details are asked for at most
MAX_OLLAMA_MODELS models.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0
MAX_OLLAMA_MODELS = 50
OPENAI_COMPATIBLE = {"OpenAI-API-Compatible", "VLLM", "LM-Studio"}
_RERANK = ("rerank", "reranker")
_EMBEDDING = ("embed", "embedding", "bge")
_VISION = ("vl", "vision", "llava", "internvl", "minicpm-v", "gpt-4o", "glm-4v", "qvq", "qwen-vl", "pixtral")


def discovers(factory: str) -> bool:
    return factory in OPENAI_COMPATIBLE or factory == "Ollama"


def _types(name: str) -> list[str]:
    """What a model served under this name is for, guessed from the name (RAGFlow's hints)."""
    lower = name.lower()
    if any(h in lower for h in _RERANK):
        return ["rerank"]
    if any(h in lower for h in _EMBEDDING):
        return ["embedding"]
    return ["chat", "vision"] if any(h in lower for h in _VISION) else ["chat"]


def _models_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return (base.split("/v1")[0].rstrip("/") if "/v1" in base else base) + "/v1/models"


def discover(factory: str, api_key: str, base_url: str) -> list[dict[str, Any]]:
    if not base_url or not discovers(factory):
        return []
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False) as client:
            if factory == "Ollama":
                return _ollama(client, base_url.rstrip("/"), headers)
            reply = client.get(_models_url(base_url), headers=headers)
            if reply.status_code != 200:
                return []
            body = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.info("model discovery at %s failed: %s", base_url, type(exc).__name__)
        return []
    rows = body.get("data") if isinstance(body, dict) else body
    out = []
    for row in rows if isinstance(rows, list) else []:
        name = (row.get("id") or row.get("name")) if isinstance(row, dict) else None
        if isinstance(name, str) and name:
            limit = row.get("max_tokens") or row.get("max_completion_tokens") or row.get("context_length") \
                or row.get("max_model_len") or 8192
            out.append({"name": name, "model_types": _types(name), "features": [], "max_tokens": limit})
    return out


def _ollama(client: httpx.Client, base: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    reply = client.get(base + "/api/tags", headers=headers)
    if reply.status_code != 200:
        return []
    tags = reply.json().get("models") or []
    kinds = {"completion": "chat", "vision": "vision", "embedding": "embedding"}
    features = {"thinking": "thinking", "tools": "is_tools"}
    out = []
    for tag in tags[:MAX_OLLAMA_MODELS]:
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str):
            continue
        shown = client.post(base + "/api/show", headers=headers, json={"model": name})
        if shown.status_code != 200:
            continue
        info = shown.json()
        capabilities = info.get("capabilities") or []
        family = (info.get("details") or {}).get("family", "")
        out.append({"name": name, "model_types": [kinds[c] for c in capabilities if c in kinds],
                    "features": [features[c] for c in capabilities if c in features],
                    "max_tokens": (info.get("model_info") or {}).get(f"{family}.context_length", 8192)})
    return out
