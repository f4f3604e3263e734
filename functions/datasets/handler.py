"""Lambda entry of the datasets module: API Gateway HTTP API v2 → FastAPI via Mangum."""

from __future__ import annotations

from mangum import Mangum
from ragcore.api.app import create_app

from functions.datasets.routes import router

app = create_app([router], title="ragflow-serverless datasets")
handler = Mangum(app, lifespan="off")
