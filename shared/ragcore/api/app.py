"""The FastAPI app factory every function (and the local server) uses: envelope-only replies."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from ragcore.api.envelope import error
from ragcore.api.route_index import install_route_index
from ragcore.domain.validation import format_validation_error
from ragcore.errors import ApiError, ProviderError, RetCode, StorageBusy, StorageError

log = logging.getLogger("ragcore.api")


def create_app(routers: Iterable[APIRouter], *, title: str = "ragflow-serverless") -> FastAPI:
    app = FastAPI(title=title, version="0.1.0", docs_url="/docs", openapi_url="/openapi.json", redoc_url=None)
    app.router.routes.extend(merged_router(routers).routes)  # flat: an included router is scanned twice
    install_error_handlers(app)
    install_body_limit(app)
    install_usage_meter(app)
    install_route_index(app.router)
    return app


def merged_router(routers: Iterable[APIRouter]) -> APIRouter:
    """Every route of the given routers in one router, a literal path segment before a `{param}` in the same
    place (`/datasets/tags/aggregation` before `/datasets/{dataset_id}`), as API Gateway picks the most specific
    route: which module declares a route stops mattering. Routes already carry their router's prefix and
    dependencies, so moving them keeps both."""

    def key(route: BaseRoute) -> list[int]:
        path = str(getattr(route, "path", ""))
        return [1 if part.startswith("{") else 0 for part in path.strip("/").split("/")]

    merged = APIRouter()
    merged.routes.extend(sorted((route for router in routers for route in router.routes), key=key))
    return merged


def install_body_limit(app: FastAPI) -> None:
    from ragcore.api.body_limit import BodyLimit
    from ragcore.config import get_settings

    app.add_middleware(BodyLimit, max_bytes=get_settings().max_request_bytes)


def install_usage_meter(app: FastAPI) -> None:
    from ragcore.api.usage_meter import UsageMeter
    from ragcore.config import get_settings

    settings = get_settings()
    app.add_middleware(UsageMeter, publish=settings.runtime == "aws", namespace=settings.metrics_namespace)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error(exc.code, exc.message, http_status=exc.http_status, data=exc.data)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        lines = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            lines.append(f"Field: <{'.'.join(loc)}> - Message: <{err.get('msg')}> - Value: <{err.get('input')}>")
        return error(RetCode.ARGUMENT_ERROR, "\n".join(lines))

    @app.exception_handler(ValidationError)
    async def _model_validation(_: Request, exc: ValidationError) -> JSONResponse:
        return error(RetCode.ARGUMENT_ERROR, format_validation_error(exc))

    @app.exception_handler(StorageBusy)
    async def _busy(_: Request, exc: StorageBusy) -> JSONResponse:
        # nothing was written: RAGFlow's code for a backing store it could not get through to (105), and the HTTP
        # status and header every client and gateway reads as "send it again"
        reply = error(RetCode.CONNECTION_ERROR, str(exc), http_status=503)
        reply.headers["Retry-After"] = "1"
        return reply

    @app.exception_handler(StorageError)
    async def _storage(_: Request, exc: StorageError) -> JSONResponse:
        return error(RetCode.SERVER_ERROR, str(exc))

    @app.exception_handler(ProviderError)
    async def _provider(_: Request, exc: ProviderError) -> JSONResponse:
        # a model provider, or the key that unlocks the tenant's provider keys, failed: its reason, never a trace
        return error(RetCode.SERVER_ERROR, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # RAGFlow's shapes: an unknown path is HTTP 404 naming it; a known path with another method is its
        # generic exception reply (code 100 with the exception's repr, HTTP 200)
        if exc.status_code == 404:
            body = {"code": 404, "message": f"Not Found: {request.url.path}", "data": None, "error": "Not Found"}
            return JSONResponse(body, status_code=404)
        if exc.status_code == 405:
            return error(RetCode.EXCEPTION_ERROR, "<MethodNotAllowed '405: Method Not Allowed'>")
        return error(exc.status_code, str(exc.detail), http_status=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # never a stack trace to the client; the log keeps it
        log.exception("unhandled error")
        return error(RetCode.EXCEPTION_ERROR, f"Internal error: {type(exc).__name__}")
