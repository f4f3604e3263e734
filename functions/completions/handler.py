"""Buffered (non-streaming) entry of the completion routes for API Gateway; streaming goes through server.py."""

from __future__ import annotations

from mangum import Mangum

from functions.completions.server import app

handler = Mangum(app, lifespan="off")
