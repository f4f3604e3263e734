"""Lambda entry of agents and their sessions (API Gateway HTTP API v2 → FastAPI via Mangum)."""

from __future__ import annotations

from mangum import Mangum
from ragcore.api.app import create_app

from functions.agents.routes import public_router, router

app = create_app([router, public_router], title="ragflow-serverless agents")
handler = Mangum(app, lifespan="off")
