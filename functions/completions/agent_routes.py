"""Conversing with an agent: RAGFlow's native agent events over SSE (or one JSON reply), and the
OpenAI-compatible agent paths. Served by the streaming function with the chat completions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from ragcore import bootstrap
from ragcore.api import sse
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object
from ragcore.errors import ApiError, RetCode

if TYPE_CHECKING:  # the agent engine loads with the first agent run, not with every chat completion
    from ragcore.services.agents.runs import AgentRunner, Turn

# included by functions/completions/routes.py under its /api/v1 prefix
router = APIRouter(prefix="/api/v1", tags=["agent completions"], dependencies=[Depends(current_tenant)])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


def _native_stream(runner: AgentRunner, turn: Turn, with_trace: bool) -> Iterator[str]:
    for event, data in runner.stream(turn):
        if event == "node_finished" and with_trace:
            data = {**data, "trace": [{k: v for k, v in data.items() if k != "created_at"}]}
        frame = {"event": event, "message_id": turn.message_id, "created_at": int(time.time()), "task_id": turn.agent["id"],
                 "data": data, "session_id": turn.session["id"]}
        yield "data:" + json.dumps(frame, ensure_ascii=False, default=str) + "\n\n"
    yield "data:[DONE]\n\n"


def _openai_stream(runner: AgentRunner, turn: Turn, model: str) -> Iterator[str]:
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    content, ref = "", {}
    for event, data in runner.stream(turn):
        if event == "message" and data.get("content"):
            content += data["content"]
            yield sse.openai_chunk(completion_id, model, {"content": data["content"]}, created=created)
        elif event == "message_end" and data.get("reference"):
            ref = data["reference"]
    usage = runner.usage(turn, content)
    yield sse.openai_chunk(completion_id, model, {"content": "", "reference": ref}, finish_reason="stop", usage=usage, created=created)
    yield sse.openai_done()


def _openai_reply(runner: AgentRunner, turn: Turn, model: str) -> dict[str, Any]:
    result = runner.complete(turn)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": result.content, "reference": result.reference}}],
        "usage": runner.usage(turn, result.content),
    }


def converse(tenant: str, body: dict[str, Any], agent_id: str | None = None) -> Any:
    runner = bootstrap.agent_runner()
    openai = body.get("openai-compatible") is True or body.get("openai_compatible") is True
    turn = runner.start(tenant, body, agent_id=agent_id, openai=openai)
    stream = body.get("stream", True) not in (False, "false", 0)
    if openai:
        return _openai_response(runner, turn, body, stream=body.get("stream") is True)
    if stream:
        return StreamingResponse(_native_stream(runner, turn, bool(body.get("return_trace"))),
                                 media_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS)
    result = runner.complete(turn)
    if result.error:
        raise ApiError(RetCode.EXCEPTION_ERROR, result.content)
    data = {"content": result.content, "reference": result.reference,
            "trace": result.trace if body.get("return_trace") else [], "created_at": time.time()}
    return ok({"data": data, "message_id": turn.message_id, "session_id": turn.session["id"], "task_id": turn.agent["id"],
               "created_at": int(time.time()), "event": "workflow_finished"})


def _openai_response(runner: AgentRunner, turn: Turn, body: dict[str, Any], *, stream: bool) -> Any:
    model = str(body.get("model") or turn.agent["id"])
    if stream:
        return StreamingResponse(_openai_stream(runner, turn, model), media_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS)
    return JSONResponse(_openai_reply(runner, turn, model))


@router.post("/agents/chat/completions")
def agent_completions(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    return converse(tenant, body)


@router.post("/agents/{agent_id}/completions")
def agent_completions_legacy(agent_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    return converse(tenant, body, agent_id)


@router.post("/agents_openai/{agent_id}/chat/completions")
def agent_openai_completions(agent_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    runner = bootstrap.agent_runner()
    turn = runner.start(tenant, body, agent_id=agent_id, openai=True)
    return _openai_response(runner, turn, body, stream=body.get("stream") is True)
