"""The local runtime's background pieces (`make serve`): the parse worker pool, the drop-folder watcher, documents
re-queued after a restart, the local index warmed up, the connector scheduler's tick."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ragcore import bootstrap


def start_background() -> Callable[[], None]:
    """Parse workers, the drop-folder watcher and the connector scheduler; returns the stop function."""
    from ragcore.adapters.local_inbox import InboxWatcher
    from ragcore.adapters.local_queue import LocalJobQueue
    from ragcore.adapters.local_ticker import Ticker

    container = bootstrap.get_container()
    queue = LocalJobQueue(bootstrap.ingestion().handle_batch, workers=container.settings.parse_workers)
    container.set_queue(queue)
    recover_interrupted()
    warm = getattr(container.index, "warm", None)  # the local index loads tenants' vectors before their first question
    if warm is not None:
        threading.Thread(target=warm, name="index-warm-up", daemon=True).start()

    def tenant() -> str | None:
        return container.settings.drop_folder_tenant or bootstrap.tenants().first_tenant()

    def on_put(rel: str, data: bytes) -> None:
        owner = tenant()
        if owner:
            bootstrap.dropfolder().put(owner, rel, data)

    def on_remove(rel: str) -> None:
        owner = tenant()
        if owner:
            bootstrap.dropfolder().remove(owner, rel)

    def known() -> list[str]:
        owner = tenant()
        return bootstrap.dropfolder().known(owner) if owner else []

    watcher = InboxWatcher(container.settings.inbox_dir, on_put, on_remove, known, interval_s=container.settings.inbox_poll_s)
    watcher.start()
    # the connector scheduler: the tick an EventBridge rule calls on AWS, here on a thread
    ticker = Ticker(lambda: bootstrap.connectors().tick(), interval_s=container.settings.connector_tick_s, name="connectors")
    ticker.start()

    def stop() -> None:
        ticker.stop()
        watcher.stop()
        queue.stop(wait=False)

    return stop


def recover_interrupted() -> None:
    """Documents left RUNNING by a previous process lost their in-memory tasks: parse them again."""
    for tenant in {str(k["tenant_id"]) for k in bootstrap.tenants().list_keys()}:
        bootstrap.document_parsing().requeue_running(tenant)
