"""The provider catalogue (catalogue.json): which factories a tenant may add, their default base URLs and models.

Data rather than code per provider: every factory here speaks the OpenAI-compatible protocol, so adding one is an
entry in the file. A deployment may send a factory's default base URL elsewhere (PROVIDER_BASE_URLS: a gateway,
an air-gapped endpoint, the conformance kit's loopback fake).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ragcore.config import parse_base_urls

MODEL_TYPES = ("chat", "embedding", "rerank", "asr", "vision", "tts", "ocr")
BUILTIN = "Builtin"
# RAGFlow never lists these as providers a tenant adds (Builtin is always there)
HIDDEN = frozenset({BUILTIN})


def model_types(llm: dict[str, Any]) -> list[str]:
    kind = llm.get("model_type")
    return list(kind) if isinstance(kind, list) else ([kind] if kind else [])


@dataclass(frozen=True)
class Factory:
    name: str
    url: str
    rank: int
    llms: tuple[dict[str, Any], ...]
    intl: str = ""
    protocol: str = "openai"  # "bedrock": boto3, no base URL

    def llm(self, name: str) -> dict[str, Any] | None:
        return next((m for m in self.llms if m["llm_name"] == name), None)

    def model_types(self) -> list[str]:
        return sorted({t for m in self.llms for t in model_types(m)})

    def base_url(self, region: str = "") -> str:
        return self.intl if region == "intl" and self.intl else self.url


class Catalogue:
    def __init__(self, factories: list[Factory]) -> None:
        self._by_name = {f.name: f for f in factories}
        self.factories = sorted(factories, key=lambda f: (-f.rank, f.name))  # RAGFlow's order: rank, then name

    def get(self, name: str) -> Factory | None:
        return self._by_name.get(name)

    def rank(self, name: str) -> int:
        factory = self._by_name.get(name)
        return factory.rank if factory else 500


def _int(value: Any, default: int = 500) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@lru_cache(maxsize=4)
def load_catalogue(base_urls: str = "") -> Catalogue:
    """The catalogue with PROVIDER_BASE_URLS ({"factory": "url"}, JSON) applied over the default base URLs."""
    raw = json.loads((Path(__file__).with_name("catalogue.json")).read_text(encoding="utf-8"))
    overrides = parse_base_urls(base_urls)
    factories = []
    for entry in raw["factories"]:
        url = overrides.get(entry["name"], entry.get("url") or "")
        intl = overrides.get(entry["name"], entry.get("intl") or "")
        factories.append(Factory(entry["name"], url, _int(entry.get("rank")), tuple(entry.get("llm") or ()), intl,
                                 entry.get("protocol") or "openai"))
    return Catalogue(factories)
