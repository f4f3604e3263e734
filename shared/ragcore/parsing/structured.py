"""JSON and JSON Lines → blocks of compact JSON that keep their key path, each about 2,000 characters at most.

Like RAGFlow's JSON splitter: a value that fits stays whole; a large object is cut into groups of keys and a
large array into elements, each piece wrapped in its ancestors' keys so it still says where it belongs.
"""

from __future__ import annotations

import json
from typing import Any

from ragcore.parsing.plain import read_text
from ragcore.parsing.types import Block, ParsedDocument, ParseError

MAX_CHARS = 2000


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _wrap(path: list[str], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def split_json(value: Any, path: list[str] | None = None, limit: int = MAX_CHARS) -> list[str]:
    path = path or []
    text = _dump(_wrap(path, value))
    if len(text) <= limit or not isinstance(value, dict | list) or not value:
        return [text]
    pieces: list[str] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            pieces.extend(split_json(item, [*path, f"[{i}]"] if path else [], limit))
        return pieces
    group: dict[str, Any] = {}
    for key, item in value.items():
        candidate = {**group, key: item}
        if group and len(_dump(_wrap(path, candidate))) > limit:
            pieces.append(_dump(_wrap(path, group)))
            group = {}
        if len(_dump(_wrap([*path, str(key)], item))) > limit:
            if group:
                pieces.append(_dump(_wrap(path, group)))
                group = {}
            pieces.extend(split_json(item, [*path, str(key)], limit))
        else:
            group[key] = item
    if group:
        pieces.append(_dump(_wrap(path, group)))
    return pieces


def parse_json(data: bytes, *, lines: bool = False) -> ParsedDocument:
    text = read_text(data, "JSON")
    blocks: list[Block] = []
    if not lines:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            # a .json file that is really JSON Lines is common: try that before giving up
            try:
                return parse_json(data, lines=True)
            except ParseError:
                raise ParseError(f"The JSON file is corrupt: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
        blocks = [Block(text=t, kind="code", meta={"json": True}) for t in split_json(value)]
        return ParsedDocument(blocks=blocks, pages=1, meta={})
    bad: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        blocks.extend(Block(text=t, kind="code", meta={"json": True, "line": number}) for t in split_json(value))
    if not blocks:
        raise ParseError(f"The JSON Lines file is corrupt: line {bad[0] if bad else 1} is not JSON.")
    return ParsedDocument(blocks=blocks, pages=1, meta={"bad_lines": bad[:100]})
