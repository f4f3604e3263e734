"""Lambda entries of the connectors module: the API (API Gateway HTTP API v2 → FastAPI via Mangum) and `tick`,
the scheduler an EventBridge rule calls every minute: it reads one page of the due index and queues the due runs'
sync steps on the task queue (the ingest function runs them)."""

from __future__ import annotations

from typing import Any

from mangum import Mangum
from ragcore.api.app import create_app

from functions.connectors.routes import public_router, router

app = create_app([router, public_router], title="ragflow-serverless connectors")
handler = Mangum(app, lifespan="off")


def tick(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from ragcore import bootstrap

    due = 0
    while True:  # a page at a time until none is due (bounded: each page moves its connectors on)
        handled = bootstrap.connectors().tick(limit=50)
        due += handled
        if handled < 50 or due >= 1000:
            return {"due": due}
