"""The all-in-one local app: every module's router in one FastAPI app, the parse workers and the
drop-folder watcher (`make serve`), started by the composition root (ragcore.bootstrap.local)."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import ragcore
from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from ragcore.api.app import install_body_limit, install_error_handlers, install_usage_meter, merged_router
from ragcore.api.route_index import install_route_index
from ragcore.bootstrap.local import start_background

import functions

log = logging.getLogger("ragcore.local")
CONSOLE_DIR = Path(ragcore.__file__).parent / "console"


def routers() -> list[APIRouter]:
    """Every functions/<module>/routes.py `router` (and `legacy_router`), so a new module needs no edit here."""
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
        for name in ("router", "legacy_router", "open_router", "public_router"):
            router = getattr(module, name, None)
            if isinstance(router, APIRouter):
                found.append(router)
    return found


def create_local_app(*, background: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = start_background() if background else None
        try:
            yield
        finally:
            if stop is not None:
                stop()

    app = FastAPI(title="ragflow-serverless", version="0.1.0", docs_url="/docs", openapi_url="/openapi.json",
                  redoc_url=None, lifespan=lifespan)
    app.router.routes.extend(merged_router(routers()).routes)  # flat: an included router is scanned twice
    install_error_handlers(app)
    install_body_limit(app)
    install_usage_meter(app)
    mount_console(app)
    install_route_index(app.router)
    return app


def mount_console(app: FastAPI) -> None:
    """The web console: static files shipped in the package (no build step, nothing fetched at run time) that call
    the public /api/v1 routes like any client. On AWS the same folder is served from S3 (infra/stacks/console.py)."""
    app.mount("/console", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")

    @app.get("/", include_in_schema=False)
    def console_home() -> RedirectResponse:
        return RedirectResponse("/console/")

