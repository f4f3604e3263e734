"""API Gateway routes derived from the code: every FastAPI route of functions/<module>/routes.py → that module's Lambda.

Reading the routers (instead of a hand-kept list) means a route added to a module is deployed with it, and a
module that lands (routes.py + handler.py) gets its function on the next synth.

    route_table() -> [(method, api_gateway_path, module), ...]
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

FUNCTIONS = ROOT / "functions"
WHOLE_SEGMENT = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")


class RouteConflict(ValueError):
    pass


def api_path(path: str) -> str:
    """FastAPI '{param}' segments are API Gateway path parameters as they are. A parameter that is not a whole
    segment ('{memory_id}:{message_id}', '{file_path:path}') can't be expressed: the route becomes a greedy
    '{proxy+}' from that segment on, and FastAPI inside the function does the exact matching."""
    segments = path.strip("/").split("/")
    for n, segment in enumerate(segments):
        if "{" in segment and not WHOLE_SEGMENT.match(segment):
            return "/" + "/".join([*segments[:n], "{proxy+}"])
    return path


def lambda_modules() -> list[str]:
    """Modules with a Lambda of their own: a routes.py and a handler.py (one still being written is skipped)."""
    return sorted(p.parent.name for p in FUNCTIONS.glob("*/routes.py") if (p.parent / "handler.py").is_file())


def _routers(package: str) -> list[object]:
    try:
        routes_module = importlib.import_module(f"functions.{package}.routes")
    except ModuleNotFoundError as exc:
        if exc.name is not None and f"functions.{package}.routes".startswith(exc.name):
            return []  # a module not written yet
        raise
    # public_router: deployed routes that answer to their own credentials instead of an API key (agent webhooks)
    return [r for r in (getattr(routes_module, a, None) for a in ("router", "legacy_router", "public_router")) if r is not None]


def route_table() -> list[tuple[str, str, str]]:
    """(method, path, module) for every deployed route, sorted; RouteConflict if two modules claim one route."""
    from fastapi import APIRouter
    from fastapi.routing import APIRoute

    owner: dict[tuple[str, str], str] = {}
    conflicts: list[str] = []
    modules = lambda_modules()
    for module in modules:
        for router in _routers(module):
            if not isinstance(router, APIRouter):
                continue
            for route in router.routes:
                if not isinstance(route, APIRoute):
                    continue
                for method in sorted(route.methods or []):
                    key = (method, api_path(route.path))
                    previous = owner.setdefault(key, module)
                    if previous != module:
                        conflicts.append(f"{method} {key[1]}: {previous} and {module}")
    if conflicts:
        raise RouteConflict("routes claimed by two modules: " + "; ".join(conflicts))
    return sorted((method, path, module) for (method, path), module in owner.items())


def deployed_modules() -> list[str]:
    return sorted({module for _, _, module in route_table()})


if __name__ == "__main__":
    for row in route_table():
        print(*row)
