"""Lambda entry of chat channels (API Gateway HTTP API v2 → FastAPI via Mangum): the channel API and each channel's
webhook, which acknowledges a platform's delivery at once and queues its answer on the task queue (the ingest
function answers it)."""

from __future__ import annotations

from mangum import Mangum
from ragcore.api.app import create_app

from functions.chat_channels.routes import public_router, router

app = create_app([router, public_router], title="ragflow-serverless chat channels")
handler = Mangum(app, lifespan="off")
