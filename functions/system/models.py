"""Model providers: RAGFlow's provider_api (factories, a tenant's instances with their keys, their models, connection
checks), models_api (the tenant's models and defaults) and /users/me/models. Mounted by the system router.

RAGFlow's replies: success is {"code": 0} or {"code": 0, "data": ...} (its get_result drops the message), a
failure {"code": 102, "message": ...}, a missing argument {"code": 101, "message": ...}.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from ragcore import bootstrap
from ragcore.api.auth import current_tenant, current_user
from ragcore.bootstrap.container import get_container
from ragcore.errors import Failure, ProviderError, RetCode

router = APIRouter(tags=["models"])
P = "/api/v1/providers"
INSTANCE = P + "/{provider}/instances/{instance}"


async def _body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    try:
        payload = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) and payload else None


def _done(data: Any = None) -> JSONResponse:
    return JSONResponse({"code": 0} if data is None else {"code": 0, "data": data})


def _argument(message: str) -> JSONResponse:
    return JSONResponse({"code": int(RetCode.ARGUMENT_ERROR), "message": message})


def _failed(message: str) -> JSONResponse:
    return JSONResponse({"code": int(RetCode.DATA_ERROR), "message": message})


def _path(request: Request, *names: str) -> tuple[str, ...]:
    """Path parameters read from the request, not declared: FastAPI builds a validator per declared parameter at
    import, which this Lambda's cold start would pay for ~40 of them."""
    return tuple(str(request.path_params[n]) for n in names)


async def _call(work: Callable[[], Any], *, data: bool = False) -> JSONResponse:
    """Runs a service call off the event loop (connection checks wait on the provider); a Failure is RAGFlow's
    data error."""
    try:
        result = await run_in_threadpool(work)
    except Failure as failure:
        return _failed(failure.message)
    return _done(result if data else None)


# ---- factories ------------------------------------------------------------------------------------------------
@router.get(P)
async def list_providers(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    available = request.query_params.get("available", "").lower() == "true"
    return await _call(lambda: bootstrap.model_providers().list_providers(tenant, available), data=True)


@router.put(P)
async def add_provider(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    body = await _body(request)
    if not body or "provider_name" not in body:
        return _argument("provider_name is required")
    return await _call(lambda: bootstrap.model_providers().add_provider(tenant, body["provider_name"]))


@router.get(P + "/{provider}", dependencies=[Depends(current_tenant)])
async def show_provider(request: Request) -> JSONResponse:
    provider = request.path_params["provider"]
    return await _call(lambda: bootstrap.model_providers().show_provider(provider), data=True)


@router.delete(P + "/{provider}")
async def delete_provider(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider = request.path_params["provider"]
    return await _call(lambda: bootstrap.model_providers().delete_provider(tenant, provider))


@router.get(P + "/{provider}/models", dependencies=[Depends(current_tenant)])
async def provider_models(request: Request) -> JSONResponse:
    provider = request.path_params["provider"]
    # RAGFlow lists what a self-hosted server (Ollama, vLLM, LM Studio, OpenAI-compatible) serves at base_url too
    api_key, base_url = request.query_params.get("api_key"), request.query_params.get("base_url")
    return await _call(lambda: bootstrap.model_providers().provider_models(provider, api_key, base_url), data=True)


@router.get(P + "/{provider}/models/{model:path}", dependencies=[Depends(current_tenant)])
async def provider_model(request: Request) -> JSONResponse:
    provider, model = _path(request, "provider", "model")
    return await _call(lambda: bootstrap.model_providers().provider_model(provider, model), data=True)


@router.post(P + "/{provider}/connection")
async def check_connection(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider = request.path_params["provider"]
    body = await _body(request)
    if not body or ("api_key" not in body and provider != "VLLM"):
        return _argument("api_key is required")
    service = bootstrap.model_providers()

    def work() -> None:
        results = service.verify(provider, body.get("api_key", ""), body.get("base_url", ""),
                                 body.get("region", "default"), service_model_info(body.get("model_info")))
        if body.get("instance_id"):  # RAGFlow records each model's result on the instance named; a miss is ignored
            for model, result in results.items():
                try:
                    service.update_model(tenant, provider, str(body["instance_id"]), model, {"verify": result})
                except Failure:
                    continue

    return await _call(work)


def service_model_info(value: Any) -> list[dict[str, Any]] | None:
    if not value:
        return None
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise Failure("model_info must be a list of objects")
    return value


# ---- instances ------------------------------------------------------------------------------------------------
@router.post(P + "/{provider}/instances")
async def create_instance(provider: str, request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    body = await _body(request)
    if not body or "instance_name" not in body:
        return _argument("instance_name is required")
    service = bootstrap.model_providers()
    if set(body) == {"instance_name"}:
        return await _call(lambda: service.create_name_only_instance(tenant, provider, body["instance_name"]))
    return await _call(lambda: service.create_instance(
        tenant, provider, body["instance_name"], body.get("api_key", ""), body.get("base_url", ""),
        body.get("region", ""), body.get("model_info", [])))


@router.get(P + "/{provider}/instances")
async def list_instances(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider = request.path_params["provider"]
    return await _call(lambda: bootstrap.model_providers().list_instances(tenant, provider), data=True)


@router.delete(P + "/{provider}/instances")
async def drop_instances(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider = request.path_params["provider"]
    body = await _body(request)
    if not body or not body.get("instances"):
        return _argument("instances is required")
    refs = body["instances"] if isinstance(body["instances"], list) else [body["instances"]]
    return await _call(lambda: bootstrap.model_providers().drop_instances(tenant, provider, refs))


@router.get(INSTANCE)
async def show_instance(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider, instance = _path(request, "provider", "instance")
    return await _call(lambda: bootstrap.model_providers().show_instance(tenant, provider, instance), data=True)


@router.put(INSTANCE)
async def update_instance(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider, instance = _path(request, "provider", "instance")
    body = await _body(request)
    if not body:
        return _argument("Request body is required")
    missing = [k for k in ("instance_name", "api_key", "base_url", "model_info") if k not in body]
    if missing:
        return _argument(f"Missing required fields: {', '.join(missing)}")
    return await _call(lambda: bootstrap.model_providers().update_instance(
        tenant, provider, instance, body["instance_name"], body["api_key"], body["base_url"],
        body.get("region", "default"), body["model_info"], bool(body.get("verify", True))))


# ---- an instance's models -------------------------------------------------------------------------------------
@router.get(INSTANCE + "/models")
async def instance_models(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider, instance = _path(request, "provider", "instance")
    supported = request.query_params.get("supported", "").lower() == "true"
    return await _call(lambda: bootstrap.model_providers().instance_models(tenant, provider, instance, supported),
                       data=True)


@router.put(INSTANCE + "/models")
async def retype_models(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider, instance = _path(request, "provider", "instance")
    body = await _body(request)
    if not body or "model_name" not in body or "model_type" not in body:
        return _argument("model_name and model_type are required")
    return await _call(lambda: bootstrap.model_providers().retype_models(
        tenant, provider, instance, body["model_name"], body["model_type"]))


@router.post(INSTANCE + "/models")
async def add_model(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider, instance = _path(request, "provider", "instance")
    body = await _body(request)
    if not body or "model_name" not in body or "model_type" not in body:
        return _argument("model_name and model_type are required")
    return await _call(lambda: bootstrap.model_providers().add_model(
        tenant, provider, instance, body["model_name"], body["model_type"], body.get("max_tokens", 8192),
        body.get("extra", {})))


@router.delete(INSTANCE + "/models")
async def delete_models(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider, instance = _path(request, "provider", "instance")
    body = await _body(request)
    if not body or "model_name" not in body:
        return _argument("model_name is required")
    return await _call(lambda: bootstrap.model_providers().delete_models(tenant, provider, instance, body["model_name"]))


@router.patch(INSTANCE + "/models/{model:path}")
async def alter_model(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    provider, instance, model = _path(request, "provider", "instance", "model")
    body = await _body(request)
    if not body or not any(k in body for k in ("status", "max_tokens", "model_type", "extra")):
        return _argument("At least one of status, max_tokens, model_type, or extra is required.")
    changes: dict[str, Any] = {k: body[k] for k in ("status", "max_tokens", "model_type", "extra") if k in body}
    if changes.get("status") and changes["status"] not in ("active", "inactive"):
        return _argument("status must be 'active' or 'inactive'")
    return await _call(lambda: bootstrap.model_providers().update_model(tenant, provider, instance, model, changes))


@router.post(INSTANCE + "/models/{model:path}")
async def chat_to_model(request: Request, tenant: str = Depends(current_tenant)) -> Any:
    provider, instance, model = _path(request, "provider", "instance", "model")
    body = await _body(request)
    if not body or "message" not in body:
        return _argument("message is required")
    messages = [{"role": "user", "content": str(body["message"])}]
    try:
        config = await run_in_threadpool(bootstrap.tenant_models().model_to_chat, tenant, provider, instance, model)
    except Failure as failure:
        return _failed(failure.message)
    chat = get_container().chat_model_of(config)
    if body.get("stream"):
        def events() -> Iterator[str]:
            try:
                for piece in chat.stream(messages, temperature=0.9):
                    if piece:
                        yield f"data: [MESSAGE]{piece}\n\n"
            except ProviderError:
                pass  # RAGFlow drops the failed pieces and ends the stream
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "Connection": "keep-alive"})
    try:
        answer, _ = await run_in_threadpool(lambda: chat.complete(messages, temperature=0.9))
    except ProviderError as exc:
        return _failed(str(exc))
    return _done({"answer": answer, "reasoning_content": ""})


# ---- the tenant's models and defaults ---------------------------------------------------------------------------
def _tenant_name(tenant: str) -> str:
    item = bootstrap.tenants().get_tenant(tenant)
    return str(item.get("name", "")) if item else ""


@router.get("/api/v1/models")
async def added_models(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    owner = request.query_params.get("owner_tenant_id")
    if owner and owner != tenant:
        if not bootstrap.teams().joined(tenant, owner):
            return _failed("Permission denied")
        tenant = owner
    kind = request.query_params.get("type")
    return await _call(lambda: bootstrap.tenant_models().added_models(tenant, _tenant_name(tenant), kind), data=True)


@router.get("/api/v1/models/default")
async def default_models(tenant: str = Depends(current_tenant)) -> JSONResponse:
    return await _call(lambda: bootstrap.tenant_models().default_models(tenant), data=True)


@router.patch("/api/v1/models/default")
async def set_default_model(request: Request, tenant: str = Depends(current_tenant)) -> JSONResponse:
    body = await _body(request)
    if not body or "model_type" not in body:
        return _argument("model_type is required")
    return await _call(lambda: bootstrap.tenant_models().set_default(
        tenant, body.get("model_provider", ""), body.get("model_instance", ""), body.get("model_name", ""),
        body["model_type"], body.get("model_id", "")))


@router.get("/api/v1/users/me/models")
def tenant_models(user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    tenant = str(user["tenant_id"])
    return JSONResponse({"code": 0, "message": "success",
                         "data": bootstrap.tenant_models().tenant_info(tenant, _tenant_name(tenant))})


@router.patch("/api/v1/users/me/models")
async def set_tenant_models(request: Request, user: dict[str, Any] = Depends(current_user)) -> JSONResponse:
    body = await _body(request) or {}
    missing = [k for k in ("tenant_id", "asr_id", "embd_id", "img2txt_id", "llm_id") if k not in body]
    if missing:
        return _argument(f"required argument are missing: {','.join(missing)}; ")
    if body["tenant_id"] != user["tenant_id"]:
        # RAGFlow updates whichever tenant the body names; here only the user's own
        return _failed("Tenant not found!")
    bootstrap.tenant_models().set_tenant_info(str(user["tenant_id"]), body)
    return JSONResponse({"code": 0, "message": "success", "data": True})
