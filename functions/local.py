"""The all-in-one local app: every module's router in one FastAPI app, the parse workers and the
drop-folder watcher (`make serve`). This is the local runtime's composition root."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import ragcore
from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from ragcore.api.app import install_body_limit, install_error_handlers, install_usage_meter, merged_router

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


def start_background() -> Callable[[], None]:
    """Parse workers and the drop-folder watcher; returns the stop function."""
    from ragcore.adapters.local_inbox import InboxWatcher
    from ragcore.adapters.local_queue import LocalJobQueue
    from ragcore.container import get_container
    from ragcore.services import registry

    container = get_container()
    queue = LocalJobQueue(registry.ingestion().handle, workers=container.settings.parse_workers)
    container.set_queue(queue)
    recover_interrupted()
    warm = getattr(container.index, "warm", None)  # the local index loads tenants' vectors before their first question
    if warm is not None:
        threading.Thread(target=warm, name="index-warm-up", daemon=True).start()

    def tenant() -> str | None:
        return container.settings.drop_folder_tenant or registry.tenants().first_tenant()

    def on_put(rel: str, data: bytes) -> None:
        owner = tenant()
        if owner:
            registry.dropfolder().put(owner, rel, data)

    def on_remove(rel: str) -> None:
        owner = tenant()
        if owner:
            registry.dropfolder().remove(owner, rel)

    def known() -> list[str]:
        owner = tenant()
        return registry.dropfolder().known(owner) if owner else []

    watcher = InboxWatcher(container.settings.inbox_dir, on_put, on_remove, known, interval_s=container.settings.inbox_poll_s)
    watcher.start()
    # the connector scheduler: the tick an EventBridge rule calls on AWS, here on a thread
    from ragcore.adapters.local_ticker import Ticker

    ticker = Ticker(lambda: registry.connectors().tick(), interval_s=container.settings.connector_tick_s, name="connectors")
    ticker.start()

    def stop() -> None:
        ticker.stop()
        watcher.stop()
        queue.stop(wait=False)

    return stop


def recover_interrupted() -> None:
    """Documents left RUNNING by a previous process lost their in-memory tasks: parse them again."""
    from ragcore.container import get_container
    from ragcore.ports import ListQuery
    from ragcore.services import registry
    from ragcore.services.datasets import KIND as DATASET_KIND
    from ragcore.services.documents import KIND as DOC_KIND

    store = get_container().store
    for tenant in {str(k["tenant_id"]) for k in registry.tenants().list_keys()}:
        for datasets in store.batches(DATASET_KIND, tenant, ""):
            for dataset in datasets:
                running = ListQuery(DOC_KIND, tenant, dataset["id"], where={"run": ["RUNNING"]})
                for doc in store.page(running, 0, store.count(running)):
                    log.info("re-queueing interrupted document %s", doc["id"])
                    registry.documents().queue_parse(tenant, dataset, doc)


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
    app.include_router(merged_router(routers()))
    install_error_handlers(app)
    install_body_limit(app)
    install_usage_meter(app)
    mount_console(app)
    return app


def mount_console(app: FastAPI) -> None:
    """The web console: static files shipped in the package (no build step, nothing fetched at run time) that call
    the public /api/v1 routes like any client. On AWS the same folder is served from S3 (infra/stacks/console.py)."""
    app.mount("/console", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")

    @app.get("/", include_in_schema=False)
    def console_home() -> RedirectResponse:
        return RedirectResponse("/console/")

