"""Server-Sent Events framing: RAGFlow's native frames and OpenAI's chat.completion.chunk frames."""

from __future__ import annotations

import json
import time
from typing import Any


def native(data: Any, *, code: int = 0, message: str = "") -> str:
    return "data:" + json.dumps({"code": code, "message": message, "data": data}, ensure_ascii=False) + "\n\n"


def native_end() -> str:
    return native(True)


def openai_chunk(completion_id: str, model: str, delta: dict[str, Any], *, finish_reason: str | None = None,
                 usage: dict[str, int] | None = None, created: int | None = None) -> str:
    body: dict[str, Any] = {
        "id": completion_id, "object": "chat.completion.chunk", "created": created or int(time.time()), "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }
    if usage is not None:
        body["usage"] = usage
    return "data: " + json.dumps(body, ensure_ascii=False) + "\n\n"


def openai_done() -> str:
    return "data: [DONE]\n\n"
