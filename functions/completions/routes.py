"""Completions: RAGFlow's native SSE paths, the OpenAI-compatible paths, and related questions.

This router is what the streaming function (a Lambda function URL in RESPONSE_STREAM mode) serves on AWS;
locally it is part of the one app.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object
from ragcore.errors import ApiError, ProviderError, RetCode
from ragcore.services.conversation.completion import new_message_id
from ragcore.services.conversation.openai_request import PLACEHOLDER_MODEL, parse_openai_chat
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from functions.completions import streams

router = APIRouter(prefix="/api/v1", tags=["completions"], dependencies=[Depends(current_tenant)])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


def _question(body: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """RAGFlow's _normalize_completion_messages: `messages` (or else `question`) checked as its handler does; the last
    user message is the question, the earlier ones (system messages and leading answers left out) its history."""
    messages = body.get("messages")
    if messages is None:
        if body.get("question") is None:
            raise ApiError(RetCode.ARGUMENT_ERROR, "required argument are missing: messages")
        messages = [{"role": "user", "content": body["question"]}]
    if not isinstance(messages, list) or not messages:
        raise ApiError(RetCode.ARGUMENT_ERROR, "`messages` must be a non-empty list.")
    if not all(isinstance(m, dict) for m in messages):
        raise ApiError(RetCode.ARGUMENT_ERROR, "Every item in `messages` must be an object.")
    if not all("role" in m and "content" in m for m in messages):
        raise ApiError(RetCode.ARGUMENT_ERROR, "Every item in `messages` must include `role` and `content`.")
    kept: list[dict[str, Any]] = []
    for m in messages:
        if m["role"] == "system" or (m["role"] == "assistant" and not kept):
            continue
        kept.append(m)
    if not kept:
        raise ApiError(RetCode.ARGUMENT_ERROR, "`messages` must contain a user message.")
    if kept[-1]["role"] != "user":
        raise ApiError(RetCode.ARGUMENT_ERROR, "The last message must be from user.")
    history = [{"role": str(m["role"]), "content": str(m["content"] or "")} for m in kept[:-1] if m["role"] in ("user", "assistant")]
    return str(kept[-1]["content"] or ""), history


def _flag(body: dict[str, Any], *names: str, default: bool) -> bool:
    for name in names:
        if name in body:
            value = body[name]
            return value.strip().lower() in {"1", "true", "yes", "on"} if isinstance(value, str) else bool(value)
    return default


def _converse(tenant: str, chat_id: str | None, body: dict[str, Any], *, default_stream: bool) -> Any:
    chats, service = bootstrap.chats(), bootstrap.completion()
    question, history = _question(body)
    pass_all = _flag(body, "pass_all_history_messages", "pass_all_history", default=False)
    if not pass_all and not _flag(body, "store_history_messages", "store_history", default=True):
        raise ApiError(RetCode.DATA_ERROR, "`pass_all_history_messages` must be true when `store_history_messages` is false.")
    session_id = str(body.get("session_id") or body.get("conversation_id") or "")
    if session_id and not chat_id:
        raise ApiError(RetCode.DATA_ERROR, "`chat_id` is required when `session_id` is provided.")
    chat = chats.get_owned(tenant, chat_id) if chat_id else None
    if chat is not None:
        if session_id:
            session = chats.get_session(tenant, chat["id"], session_id)
            if not pass_all:
                history = [{"role": m["role"], "content": m["content"]} for m in session.get("messages", [])
                           if m.get("role") in ("user", "assistant") and m.get("id")]
        else:
            session_id = chats.create_session(tenant, chat["id"], {"name": (question or "New session")[:255],
                                                                    "user_id": body.get("user_id") or ""})["id"]
    try:
        turn = service.prepare(tenant, chat, question, history)
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc
    msg_id = new_message_id()
    ids = {"msg_id": msg_id, "session_id": session_id, "chat_id": chat["id"] if chat else ""}
    if body.get("stream", default_stream) in (True, "true", 1):
        return StreamingResponse(
            streams.native_stream(service, tenant, turn, legacy=bool(body.get("legacy")), **ids),
            media_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS,
        )
    try:
        return ok(streams.native_reply(service, tenant, turn, **ids))
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc


@router.post("/chat/completions")
def chat_completions(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    return _converse(tenant, body.get("chat_id") or None, body, default_stream=True)


@router.post("/chats/{chat_id}/completions")
def chat_completions_legacy(chat_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    return _converse(tenant, chat_id, body, default_stream=True)


def _openai(chat_id: str, tenant: str, body: dict[str, Any]) -> Any:
    req = parse_openai_chat(body)
    chats, service = bootstrap.chats(), bootstrap.completion()
    chat = chats.get_owned(tenant, chat_id, f"You don't own the chat {chat_id}")
    if req.model != PLACEHOLDER_MODEL:  # RAGFlow's _validate_llm_id: a named model must be one the tenant can use
        chats.check_llm(tenant, req.model, RetCode.ARGUMENT_ERROR)
    model = req.model_for(chat)
    try:
        turn = service.prepare(tenant, chat, req.question, req.history, metadata_condition=req.metadata_condition)
        if req.with_reference and req.include_metadata:
            service.add_document_metadata(tenant, turn, req.metadata_fields)
        if req.stream:
            return StreamingResponse(streams.openai_stream(service, turn, model=model, with_reference=req.with_reference),
                                     media_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS)
        return JSONResponse(streams.openai_reply(service, turn, model=model, with_reference=req.with_reference))
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc


@router.post("/openai/{chat_id}/chat/completions")
def openai_completions(chat_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    return _openai(chat_id, tenant, body)


@router.post("/chats_openai/{chat_id}/chat/completions")
def openai_completions_legacy(chat_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    return _openai(chat_id, tenant, body)


@router.post("/chat/recommandation")
@router.post("/chat/recommendation")
@router.post("/sessions/related_questions")
def related_questions(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ApiError(RetCode.ARGUMENT_ERROR, "`question` is required.")
    try:
        model = bootstrap.search_apps().chat_model(tenant, str(body.get("search_id") or ""))
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc
    return ok(bootstrap.completion().related_questions(tenant, question, model))


@router.post("/chat/mindmap")
def mind_map(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    return ok(bootstrap.search_apps().mind_map(tenant, body))


@router.post("/chat/audio/speech")
def speech(tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> StreamingResponse:
    """The text read aloud by the tenant's default TTS model, streamed as it is made."""
    audio = bootstrap.audio().speech(tenant, body)
    return StreamingResponse(audio, media_type="audio/mpeg", headers=SSE_HEADERS)


@router.post("/chat/audio/transcription")
async def transcription(request: Request, tenant: str = Depends(current_tenant)) -> Any:
    """An uploaded recording as text, through the tenant's default ASR model (`stream=true`: as SSE events)."""
    try:
        form = await request.form()
    except Exception as exc:  # a body that is not a form: RAGFlow finds no file in it
        raise ApiError(RetCode.DATA_ERROR, "Missing 'file' in multipart form-data") from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(RetCode.DATA_ERROR, "Missing 'file' in multipart form-data")
    stream = str(form.get("stream") or "false").lower() == "true"
    service = bootstrap.audio()
    filename = upload.filename or ""
    service.check_audio_name(filename)
    model = service.transcriber(tenant)
    data = await upload.read()
    if not stream:
        return ok({"text": await run_in_threadpool(service.transcribe, model, filename, data)}, message="success")
    events = (f"data: {json.dumps(evt, ensure_ascii=False)}\n\n" for evt in service.transcription_events(model, filename, data))
    return StreamingResponse(events, media_type="text/event-stream")


# Agent conversations stream from the same function (a function URL in RESPONSE_STREAM mode on AWS).
from functions.completions.agent_routes import router as agent_router  # noqa: E402

router.routes.extend(agent_router.routes)  # the same prefix and key; no nested router to scan

# The embeddable bots answer to a beta token, not an API key: their own router, beside this one.
from functions.completions.bot_routes import router as public_router  # noqa: E402, F401


@router.post("/searches/{search_id}/completions")
@router.post("/searches/{search_id}/completion")
def search_completion(search_id: str, tenant: str = Depends(current_tenant), body: dict[str, Any] = Depends(json_object)) -> Any:
    """A search app's answer: streamed deltas, then the references, as RAGFlow's search page receives them."""
    settings = bootstrap.search_apps().answer_settings(tenant, search_id, body)
    service = bootstrap.completion()
    try:
        turn = service.prepare(tenant, settings, str(body.get("question") or ""), [])
    except ProviderError as exc:
        raise ApiError(RetCode.SERVER_ERROR, str(exc)) from exc
    return StreamingResponse(streams.search_stream(service, turn), media_type="text/event-stream; charset=utf-8",
                             headers=SSE_HEADERS)
