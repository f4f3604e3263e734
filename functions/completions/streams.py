"""Turns a completion into RAGFlow's native SSE frames, OpenAI's chunks, or one JSON reply."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from ragcore.api import sse
from ragcore.errors import ProviderError
from ragcore.services.conversation.completion import CompletionService, Turn, clean_citations


def native_stream(service: CompletionService, tenant: str, turn: Turn, *, msg_id: str, session_id: str, chat_id: str,
                  legacy: bool) -> Iterator[str]:
    base = {"audio_binary": None, "prompt": "", "id": msg_id, "session_id": session_id, "chat_id": chat_id}
    answer = ""
    try:
        for delta in service.stream(turn):
            answer += delta
            shown = answer if legacy else delta
            yield sse.native({**base, "answer": shown, "reference": {}, "created_at": time.time(), "final": False})
    except ProviderError as exc:
        yield sse.native({**base, "answer": f"**ERROR**: {exc}", "reference": {}}, code=500, message=str(exc))
        yield sse.native_end()
        return
    final_answer = clean_citations(answer, len(turn.knowledge))
    service.remember(tenant, session_id, turn, answer, msg_id)
    yield sse.native({**base, "answer": final_answer if legacy else "", "reference": turn.reference,
                      "created_at": time.time(), "final": True})
    yield sse.native_end()


def search_stream(service: CompletionService, turn: Turn) -> Iterator[str]:
    answer = ""
    try:
        for delta in service.stream(turn):
            answer += delta
            yield sse.native({"answer": delta, "reference": {}, "final": False})
    except ProviderError as exc:
        yield sse.native({"answer": f"**ERROR**: {exc}", "reference": []}, code=500, message=str(exc))
        yield sse.native_end()
        return
    yield sse.native({"answer": "", "reference": turn.reference, "final": True})
    yield sse.native_end()


def native_reply(service: CompletionService, tenant: str, turn: Turn, *, msg_id: str, session_id: str, chat_id: str) -> dict[str, Any]:
    answer, _usage = service.complete(turn)
    service.remember(tenant, session_id, turn, answer, msg_id)
    return {"answer": answer, "reference": turn.reference, "audio_binary": None, "prompt": "", "id": msg_id,
            "session_id": session_id, "chat_id": chat_id, "created_at": time.time()}


def openai_stream(service: CompletionService, turn: Turn, *, model: str, with_reference: bool) -> Iterator[str]:
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    yield sse.openai_chunk(completion_id, model, {"role": "assistant", "content": ""}, created=created)
    answer = ""
    try:
        for delta in service.stream(turn):
            answer += delta
            yield sse.openai_chunk(completion_id, model, {"content": delta}, created=created)
    except ProviderError as exc:
        yield sse.openai_chunk(completion_id, model, {"content": f"**ERROR**: {exc}"}, finish_reason="stop", created=created)
        yield sse.openai_done()
        return
    final: dict[str, Any] = {}
    if with_reference:
        final["reference"] = turn.reference
    counted = service.usage_of(turn, answer)
    usage = {"prompt_tokens": counted["prompt_tokens"], "completion_tokens": counted["completion_tokens"], "total_tokens": counted["total_tokens"]}
    yield sse.openai_chunk(completion_id, model, final, finish_reason="stop", usage=usage,
                           created=created)
    yield sse.openai_done()


def openai_reply(service: CompletionService, turn: Turn, *, model: str, with_reference: bool) -> dict[str, Any]:
    answer, usage = service.complete(turn)
    if not usage["prompt_tokens"]:
        usage = service.usage_of(turn, answer)
    message: dict[str, Any] = {"role": "assistant", "content": answer}
    if with_reference:
        message["reference"] = turn.reference
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": dict(usage),
    }
