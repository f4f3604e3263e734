"""Lambda entry of the chats module (API Gateway HTTP API v2 → FastAPI via Mangum)."""

from __future__ import annotations

from mangum import Mangum
from ragcore.api.app import create_app

from functions.chats.routes import router

app = create_app([router], title="ragflow-serverless chats")
handler = Mangum(app, lifespan="off")
