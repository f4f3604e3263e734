"""HTTP routes of RAGFlow's chat channel API (api/apps/restful_apis/chat_channel_api.py): channels and their runtime,
and each channel's public webhook, where its platform delivers (no API key: the platform's own signature)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from ragcore import bootstrap
from ragcore.api.auth import current_tenant
from ragcore.api.envelope import ok
from ragcore.api.requests import json_object, optional_json_object
from ragcore.domain.channels import WebhookRequest
from ragcore.services.channels.webhooks import UnknownChannel
from starlette.concurrency import run_in_threadpool

router = APIRouter(prefix="/api/v1", tags=["chat channels"], dependencies=[Depends(current_tenant)])
public_router = APIRouter(prefix="/api/v1", tags=["chat channels"])


def _base_url(request: Request) -> str:
    """Where this API answers, for the webhook URL (CHANNEL_WEBHOOK_BASE_URL, when set, wins)."""
    return str(request.base_url).rstrip("/")


@router.post("/chat-channels")
async def create_chat_channel(request: Request, tenant: str = Depends(current_tenant),
                              body: dict[str, Any] = Depends(json_object)) -> JSONResponse:
    service = bootstrap.chat_channels()
    # registering the webhook calls the platform (Discord calls back at once): off the event loop
    return ok(await run_in_threadpool(service.create, tenant, body, _base_url(request)), message="success")


@router.get("/chat-channels")
def list_chat_channels(tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.chat_channels().list_channels(tenant), message="success")


@router.get("/chat-channels/{channel_id}")
def get_chat_channel(channel_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.chat_channels().get(tenant, channel_id), message="success")


@router.patch("/chat-channels/{channel_id}")
async def update_chat_channel(channel_id: str, tenant: str = Depends(current_tenant),
                              body: dict[str, Any] = Depends(optional_json_object)) -> JSONResponse:
    return ok(await run_in_threadpool(bootstrap.chat_channels().update, tenant, channel_id, body), message="success")


@router.delete("/chat-channels/{channel_id}")
def delete_chat_channel(channel_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.chat_channels().delete(tenant, channel_id), message="success")


@router.get("/chat-channels/{channel_id}/runtime")
def chat_channel_runtime(channel_id: str, tenant: str = Depends(current_tenant)) -> JSONResponse:
    return ok(bootstrap.chat_channels().runtime(tenant, channel_id), message="success")


async def webhook(channel_id: str, request: Request) -> Response:
    delivery = WebhookRequest(method=request.method, query=dict(request.query_params),
                              headers={k.lower(): v for k, v in request.headers.items()}, body=await request.body())
    try:
        received = await run_in_threadpool(bootstrap.channel_webhooks().handle, channel_id, delivery)
    except UnknownChannel:
        return JSONResponse({"code": 404, "message": "No chat channel has this id."}, status_code=404)
    return Response(received.body, status_code=received.status, media_type=received.content_type)


# GET: the platforms' URL checks (WhatsApp's hub.challenge, WeCom's echostr); POST: deliveries
for _method in ("GET", "POST"):
    public_router.add_api_route("/chat-channels/{channel_id}/webhook", webhook, methods=[_method])
