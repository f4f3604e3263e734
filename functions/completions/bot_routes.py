"""The embeddable bots (RAGFlow's bot_api): a chat, an agent or a search app in a web page, authorised by the
tenant's beta token instead of an API key. Served by the streaming function with the other completions; the
answers come from the same services and stream helpers as the API-key routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from ragcore import bootstrap
from ragcore.api import sse
from ragcore.api.auth import current_bot_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object
from ragcore.errors import ApiError, ProviderError, RetCode, require_arguments
from ragcore.services.conversation.completion import new_message_id

from functions.completions import streams
from functions.completions.agent_routes import converse

router = APIRouter(prefix="/api/v1", tags=["bots"], dependencies=[Depends(current_bot_tenant)])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


def _streamed(body: dict[str, Any]) -> bool:
    return body.get("stream", True) not in (False, "false", 0)


def _sse(frames: Any) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS)


# ---- chatbots ----------------------------------------------------------------------------------------------------
@router.get("/chatbots/{dialog_id}/info")
def chatbot_info(dialog_id: str, tenant: str = Depends(current_bot_tenant)) -> JSONResponse:
    return ok(bootstrap.bots().chatbot_info(tenant, dialog_id))


@router.post("/chatbots/{dialog_id}/completions")
def chatbot_completions(dialog_id: str, tenant: str = Depends(current_bot_tenant),
                              body: dict[str, Any] = Depends(json_object)) -> Any:
    """Without a session: a new one, answered with the chat's prologue (RAGFlow's widget opens this way). With
    one: the turn, answered by the chat as its API-key completion would."""
    bots = bootstrap.bots()
    chat = bots.chatbot(tenant, dialog_id)
    session_id = str(body.get("session_id") or "")
    if not session_id:
        opening = bots.open_chatbot_session(tenant, chat, body)
        if _streamed(body):
            return _sse(iter([sse.native(opening), sse.native_end()]))
        return ok(opening)
    session = bots.chatbot_session(tenant, chat, session_id)
    question = body.get("question")
    if not isinstance(question, str):
        raise ApiError(RetCode.ARGUMENT_ERROR, "`question` is required.")
    history = [{"role": m["role"], "content": m["content"]} for m in session.get("messages", [])
               if m.get("role") in ("user", "assistant") and m.get("id")]
    service = bootstrap.completion()
    try:
        turn = service.prepare(tenant, bots.chatbot_settings(chat, body), question, history)
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc
    ids = {"msg_id": new_message_id(), "session_id": session_id, "chat_id": chat["id"]}
    if _streamed(body):
        return _sse(streams.native_stream(service, tenant, turn, legacy=bool(body.get("legacy")), **ids))
    try:
        return ok(streams.native_reply(service, tenant, turn, **ids))
    except ProviderError as exc:
        raise ApiError(RetCode.DATA_ERROR, str(exc)) from exc


# ---- agentbots ---------------------------------------------------------------------------------------------------
@router.post("/agentbots/{agent_id}/completions")
def agentbot_completions(agent_id: str, tenant: str = Depends(current_bot_tenant),
                               body: dict[str, Any] = Depends(json_object)) -> Any:
    bootstrap.bots().agent(tenant, agent_id)
    native = {k: v for k, v in body.items() if k not in ("openai-compatible", "openai_compatible")}
    return converse(tenant, native, agent_id)


@router.get("/agentbots/{agent_id}/inputs")
def agentbot_inputs(agent_id: str, tenant: str = Depends(current_bot_tenant)) -> JSONResponse:
    return ok(bootstrap.bots().agent_inputs(tenant, agent_id))


@router.get("/agentbots/{shared_id}/logs/{message_id}")
def agentbot_log(shared_id: str, message_id: str, tenant: str = Depends(current_bot_tenant)) -> JSONResponse:
    return ok(bootstrap.bots().agent_log(tenant, shared_id, message_id), message="success")


# ---- searchbots --------------------------------------------------------------------------------------------------
@router.post("/searchbots/ask")
def searchbot_ask(tenant: str = Depends(current_bot_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    settings = bootstrap.bots().ask_settings(tenant, body)
    service = bootstrap.completion()
    try:
        turn = service.prepare(tenant, settings, str(body["question"]), [])
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc
    return _sse(streams.search_stream(service, turn))


@router.post("/searchbots/retrieval_test")
def searchbot_retrieval_test(tenant: str = Depends(current_bot_tenant),
                                   body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.bots().retrieval_test(tenant, body), message="success")


@router.post("/searchbots/related_questions")
def searchbot_related_questions(tenant: str = Depends(current_bot_tenant),
                                      body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    require_arguments(body, "question")
    question = body["question"]
    if not isinstance(question, str) or not question.strip():
        raise ApiError(RetCode.ARGUMENT_ERROR, "`question` is required.")
    try:  # the search app's chat model, else the tenant's default, as the API-key route
        model = bootstrap.search_apps().chat_model(tenant, str(body.get("search_id") or ""))
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc
    return ok(bootstrap.completion().related_questions(tenant, question, model), message="success")


@router.get("/searchbots/detail")
def searchbot_detail(request: Request, tenant: str = Depends(current_bot_tenant)) -> JSONResponse:
    return ok(bootstrap.bots().search_detail(tenant, request.query_params.get("search_id")), message="success")


@router.post("/searchbots/mindmap")
def searchbot_mind_map(tenant: str = Depends(current_bot_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.bots().mind_map(tenant, body), message="success")
