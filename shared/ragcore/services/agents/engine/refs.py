"""Variable references inside params: {component_id@output}, {sys.query}, {env.name}, with an optional dotted path
into the value ({retrieval:0@json.0.content})."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

REF = re.compile(r"\{\s*((?:sys|env)\.[A-Za-z0-9_.]+|[A-Za-z0-9_:\-]+@[A-Za-z0-9_.\-]+)\s*\}")
BARE = re.compile(r"^\s*\{?\s*((?:sys|env)\.[A-Za-z0-9_.]+|[A-Za-z0-9_:\-]+@[A-Za-z0-9_.\-]+)\s*\}?\s*$")


def bare_ref(value: Any) -> str | None:
    """The reference a param holds when it is one reference alone ("sys.query", "{begin@name}"), else None."""
    if not isinstance(value, str):
        return None
    m = BARE.match(value)
    return m.group(1) if m else None


def referenced_components(text: str) -> list[str]:
    return [m.group(1).split("@", 1)[0] for m in REF.finditer(text) if "@" in m.group(1)]


def walk_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in walk_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in walk_strings(v)]
    return []


def dig(value: Any, path: list[str]) -> Any:
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.lstrip("-").isdigit() and -len(value) <= int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(template: str, resolve: Callable[[str], Any]) -> str:
    return REF.sub(lambda m: as_text(resolve(m.group(1))), template)
