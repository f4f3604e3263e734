"""Lambda entry of memories and messages (API Gateway HTTP API v2 → FastAPI via Mangum)."""

from __future__ import annotations

from mangum import Mangum
from ragcore.api.app import create_app

from functions.memories.routes import router

app = create_app([router], title="ragflow-serverless memories")
handler = Mangum(app, lifespan="off")
