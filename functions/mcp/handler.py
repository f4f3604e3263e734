"""Lambda entry of the mcp module (API Gateway HTTP API v2 → FastAPI via Mangum): our MCP endpoint and RAGFlow's
mcp_api routes."""

from __future__ import annotations

from mangum import Mangum
from ragcore.api.app import create_app

from functions.mcp.routes import public_router, router

app = create_app([router, public_router], title="ragflow-serverless mcp")
handler = Mangum(app, lifespan="off")
