"""The provider catalogue is data, and PROVIDER_BASE_URLS sends a factory's default base URL elsewhere."""

from __future__ import annotations

import pytest
from ragcore.config import Settings
from ragcore.services.models.catalogue import load_catalogue
from ragcore.services.models.names import mask_key, split_model_name


def test_factories_carry_ragflows_base_urls_and_models() -> None:
    catalogue = load_catalogue()
    zhipu = catalogue.get("ZHIPU-AI")
    assert zhipu is not None and zhipu.url == "https://open.bigmodel.cn/api/paas/v4"
    assert zhipu.llm("glm-4-flash") is not None and "chat" in zhipu.model_types()
    assert catalogue.get("SILICONFLOW") is not None and catalogue.get("SILICONFLOW").base_url("intl") == "https://api.siliconflow.com/v1"  # type: ignore[union-attr]
    assert [f.name for f in catalogue.factories][:1] == ["OpenAI"]  # RAGFlow's rank order


def test_a_deployment_maps_a_factory_elsewhere_and_a_malformed_map_stops_start_up() -> None:
    moved = load_catalogue('{"ZHIPU-AI": "http://127.0.0.1:9999/v1"}')
    assert moved.get("ZHIPU-AI").url == "http://127.0.0.1:9999/v1"  # type: ignore[union-attr]
    assert moved.get("OpenAI").url == "https://api.openai.com/v1"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="PROVIDER_BASE_URLS"):
        Settings.from_env({"PROVIDER_BASE_URLS": '["not", "an", "object"]'})


def test_model_names_and_masks() -> None:
    assert split_model_name("glm-4-flash@CI@ZHIPU-AI") == ("glm-4-flash", "CI", "ZHIPU-AI")
    assert split_model_name("gpt-4o-mini@OpenAI") == ("gpt-4o-mini", "default", "OpenAI")
    assert split_model_name("nomic@q8_0@lab@LM-Studio") == ("nomic@q8_0", "lab", "LM-Studio")
    assert mask_key("sk-provider-secret-0123456789") == "sk-...6789" and mask_key("short") == "*****"
