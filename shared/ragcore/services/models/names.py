"""How models are named and typed: `model@instance@factory` references, RAGFlow's model types and the tenant
default fields they fill, and how a stored key is shown."""

from __future__ import annotations

import hashlib
from typing import Any

# RAGFlow's bit order of model types (get_model_type_human lists them in this order)
TYPE_ORDER = ("chat", "embedding", "asr", "vision", "rerank", "tts", "ocr")
LEGACY_TYPES = {"speech2text": "asr", "image2text": "vision"}
DEFAULT_FIELDS = {"chat": "llm_id", "embedding": "embd_id", "rerank": "rerank_id", "asr": "asr_id",
                  "vision": "img2txt_id", "tts": "tts_id", "ocr": "ocr_id"}


def human_types(value: Any) -> list[str]:
    names = [value] if isinstance(value, str) else list(value or [])
    wanted = {LEGACY_TYPES.get(str(n), str(n)) for n in names}
    return [t for t in TYPE_ORDER if t in wanted]


def split_model_name(ref: str) -> tuple[str, str, str]:
    """`model@instance@factory`, `model@factory` (instance "default") or a bare model: right-anchored, so a model
    name that itself holds '@' (LM Studio's `name@q8_0`) stays whole."""
    parts = ref.rsplit("@", 2)
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], "default", parts[1]
    return parts[0], "", ""


def mask_key(key: str) -> str:
    """A stored key as shown: its first and last characters only (enough to tell two keys apart)."""
    if not key:
        return ""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}...{key[-4:]}"


def model_item_id(instance_id: str, model_name: str) -> str:
    return hashlib.sha256(f"{instance_id}\0{model_name}".encode()).hexdigest()[:32]
