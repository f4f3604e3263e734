"""A JSON REST API through the connector guard, with the HTTP failures said in words (shared by the GitHub and
Confluence sources)."""

from __future__ import annotations

from typing import Any

import httpx

from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.domain.sources import SourceError


class RestApi:
    def __init__(self, guard: OutboundGuard, base_url: str, *, name: str, headers: dict[str, str],
                 auth: tuple[str, str] | None = None) -> None:
        base_url = base_url.rstrip("/")
        guard.check_url(base_url)
        self.name = name
        self.base_url = base_url
        self._http = guard.client(base_url=base_url, headers=headers, auth=auth)

    def get(self, path: str, params: dict[str, Any] | None = None, *, what: str = "") -> httpx.Response:
        try:
            reply = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.name} could not be reached: {exc}") from exc
        if reply.status_code >= 400:
            raise SourceError(self.refusal(reply, what or path))
        return reply

    def json(self, path: str, params: dict[str, Any] | None = None, *, what: str = "") -> Any:
        try:
            return self.get(path, params, what=what).json()
        except ValueError as exc:
            raise SourceError(f"{self.name} answered something other than JSON for {what or path}") from exc

    def refusal(self, reply: httpx.Response, what: str) -> str:
        status = reply.status_code
        try:
            detail = reply.json().get("message") or ""
        except (ValueError, AttributeError):
            detail = ""
        if status == 401:
            return f"{self.name} refused the credentials (HTTP 401){': ' + detail if detail else ''}"
        if status == 403:
            return f"{self.name} denied access to {what} (HTTP 403){': ' + detail if detail else ''}"
        if status == 404:
            return f"{self.name}: {what} was not found or is not visible to these credentials (HTTP 404)"
        if status == 429:
            return f"{self.name} is rate-limiting requests (HTTP 429); the next run tries again"
        return f"{self.name} answered HTTP {status} for {what}{': ' + detail if detail else ''}"
