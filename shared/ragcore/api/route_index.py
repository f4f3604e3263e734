"""Route dispatch by path prefix: a request is matched only against the routes that can match it.

The router tries every route's regular expression in order until one matches; with RAGFlow's ~290 routes in one
app that scan was 12 % of the server's CPU under load (py-spy, bench/load.py). Here each route whose first three
path segments are literal (`/api/v1/datasets/...`) is filed under them, and a request is dispatched by a router
holding only its key's routes plus the few that could match any path (a parameter or a Mount early in the path),
in the app's original order: the first match, the 405 choice and the trailing-slash redirect are what the full
scan would pick (a path and its slash variant share a key). A path under no key goes through the full scan.
The per-key routers are FastAPI's own APIRouter, so a matched route is run exactly as the app's router runs it.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

DEPTH = 3  # "api", "v1", the area: what tells RAGFlow's route families apart


def path_key(path: str) -> tuple[str, ...] | None:
    parts = path.lstrip("/").split("/")
    return tuple(parts[:DEPTH]) if len(parts) >= DEPTH else None


def route_key(route: BaseRoute) -> tuple[str, ...] | None:
    """The route's literal first segments, or None when it could match under several keys."""
    if not isinstance(route, Route):
        return None
    key = path_key(route.path)
    return None if key is None or any("{" in part for part in key) else key


class RouteIndex:
    """The router's ASGI entry point: the request's key picks a small router to run it."""

    def __init__(self, router: Router, app: ASGIApp) -> None:
        self.router = router
        self.app = app  # the router's own dispatch: lifespan, paths under no key
        self._built_for = -1
        self._by_key: dict[tuple[str, ...], APIRouter] = {}

    def _build(self) -> None:
        routes = list(self.router.routes)
        keys = [route_key(route) for route in routes]
        by_key: dict[tuple[str, ...], APIRouter] = {}
        for bucket in dict.fromkeys(key for key in keys if key is not None):
            sub = APIRouter(redirect_slashes=self.router.redirect_slashes)
            sub.default = self.router.default
            sub.routes.extend(route for route, key in zip(routes, keys, strict=True) if key is None or key == bucket)
            by_key[bucket] = sub
        self._by_key = by_key
        self._built_for = len(routes)

    def router_for(self, path: str) -> Router | None:
        """The router a request to this path is dispatched by (None: the app's full scan)."""
        if self._built_for != len(self.router.routes):  # routes added after start-up (mounts, tests)
            self._build()
        key = path_key(path)
        return self._by_key.get(key) if key is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sub = self.router_for(scope.get("path", "")) if scope["type"] == "http" else None
        if sub is None:
            await self.app(scope, receive, send)
            return
        scope.setdefault("router", self.router)
        await sub.app(scope, receive, send)


def install_route_index(router: Router) -> None:
    """Put the index in front of the router's own dispatch (its middleware stack, which Router.__call__ runs).
    A router with middleware of its own keeps the full scan: the index would step past that middleware."""
    if router.middleware_stack == router.app:
        router.middleware_stack = RouteIndex(router, router.app)
