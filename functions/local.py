"""The all-in-one local app: every module's router in one FastAPI app (`make serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from ragcore.api.app import install_error_handlers


def routers() -> list[APIRouter]:
    from functions.datasets.routes import router as datasets
    from functions.system.routes import router as system

    return [system, datasets]


def create_local_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from ragcore.runtime_local import start_background, stop_background

        start_background()
        try:
            yield
        finally:
            stop_background()

    app = FastAPI(title="ragflow-serverless", version="0.1.0", docs_url="/docs", openapi_url="/openapi.json",
                  redoc_url=None, lifespan=lifespan)
    for router in routers():
        app.include_router(router)
    install_error_handlers(app)
    return app
