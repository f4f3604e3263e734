"""Invoke: an HTTP request built from variables, through the deployment's guarded fetcher (no SSRF)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ragcore.services.agents.engine.components import Outcome, Spec
from ragcore.services.agents.engine.components.variables import value_of
from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.refs import as_text
from ragcore.services.agents.engine.runtime import Run

_TAGS = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.S | re.I)


def _headers(raw: Any) -> dict[str, str]:
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    if not isinstance(raw, dict):
        raise ValueError("headers must be a JSON object")
    return {str(k): str(v) for k, v in raw.items()}


def invoke(run: Run, cid: str, comp: Component) -> Outcome:
    params = comp.params
    url = run.render(params.get("url")).strip()
    if not url:
        raise ValueError("no url")
    method = str(params.get("method") or "get").upper()
    values = {str(v.get("key")): value_of(run, v.get("ref") or v.get("value")) for v in params.get("variables") or [] if v.get("key")}
    headers = _headers(params.get("headers") or {})
    body: bytes | None = None
    if method in ("GET", "DELETE", "HEAD"):
        if values:
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode({k: as_text(v) for k, v in values.items()})) if q)
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    elif params.get("datatype") == "formdata":
        body = urlencode({k: as_text(v) for k, v in values.items()}).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    else:
        body = json.dumps(values, ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json")
    reply = run.tools.fetch(method, url, headers, body, float(params.get("timeout") or 60))
    text = _TAGS.sub("", reply.text) if params.get("clean_html") else reply.text
    return Outcome({"result": text, "status_code": reply.status})


SPECS = {"Invoke": Spec(invoke)}
