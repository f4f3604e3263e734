"""API Gateway routes derived from the code: every FastAPI route of functions/<module>/routes.py → that module's Lambda.

Reading the routers (instead of a hand-kept list) means a route added to a module is deployed with it.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "shared"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

# API modules with a Lambda of their own; the system routes (health, version) ride on the datasets function.
API_MODULES = ["datasets", "documents", "chunks", "retrieval", "chats", "completions", "agents", "files", "memories"]
ROUTERS_OF = {"datasets": ["functions.datasets.routes", "functions.system.routes"]}
WHOLE_SEGMENT = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")


def api_path(path: str) -> str:
    """FastAPI '{param}' paths are API Gateway paths, except params sharing a segment: those become {proxy+}."""
    segments = path.strip("/").split("/")
    for n, segment in enumerate(segments):
        if "{" in segment and not WHOLE_SEGMENT.match(segment):
            return "/" + "/".join([*segments[:n], "{proxy+}"])
    return path


def route_table() -> list[tuple[str, str, str]]:
    """(method, path, module) for every deployed route, without duplicates."""
    from fastapi import APIRouter
    from fastapi.routing import APIRoute

    seen: dict[tuple[str, str], str] = {}
    for module in API_MODULES:
        for name in ROUTERS_OF.get(module, [f"functions.{module}.routes"]):
            try:
                routes_module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name is not None and name.startswith(exc.name):
                    continue  # a module not written yet
                raise
            for attr in ("router", "legacy_router"):
                router = getattr(routes_module, attr, None)
                if not isinstance(router, APIRouter):
                    continue
                for route in router.routes:
                    if not isinstance(route, APIRoute):
                        continue
                    for method in sorted(route.methods or []):
                        seen.setdefault((method, api_path(route.path)), module)
    return sorted((method, path, module) for (method, path), module in seen.items())


def deployed_modules() -> list[str]:
    return sorted({module for _, _, module in route_table()})
