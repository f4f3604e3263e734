"""The all-in-one local app: every module's router in one FastAPI app (`make serve`)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from ragcore.api.app import install_error_handlers

import functions


def routers() -> list[APIRouter]:
    """Every functions/<module>/routes.py `router`, so a new module needs no edit here."""
    found: list[APIRouter] = []
    for info in sorted(pkgutil.iter_modules([str(Path(functions.__file__).parent)]), key=lambda m: m.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"functions.{info.name}.routes")
        except ModuleNotFoundError as exc:
            if exc.name == f"functions.{info.name}.routes":
                continue
            raise
        for name in ("router", "legacy_router"):
            router = getattr(module, name, None)
            if isinstance(router, APIRouter):
                found.append(router)
    return found


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
