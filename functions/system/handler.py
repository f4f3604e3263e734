"""Lambda entry of the system module (health, status, accounts, model providers, task stops): API Gateway HTTP
API v2 → FastAPI via Mangum. A function of its own, so no data module's cold start carries these routes too."""

from __future__ import annotations

from mangum import Mangum
from ragcore.api.app import create_app

from functions.system.routes import router

app = create_app([router], title="ragflow-serverless system")
handler = Mangum(app, lifespan="off")
