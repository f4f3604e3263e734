"""The naive merge: cut blocks at delimiters, then pack the pieces into chunks of about chunk_token_num tokens.

Follows RAGFlow's rules (rag/nlp naive_merge): a piece larger than the budget stands alone (never cut
mid-sentence); pieces are added while the running total is within budget × (100 − overlap)/100, the
piece that crosses the line still joins, then the chunk closes; with overlapped_percent > 0 every chunk after
the first starts with the last overlapped_percent % of the previous chunk's text; a backquoted (custom)
delimiter makes every piece its own chunk. Tables are kept whole when they fit, else cut by rows with their
header repeated.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ragcore.chunking.delimiters import Delimiters, parse_delimiters, split_text
from ragcore.chunking.types import ChunkDraft, draft
from ragcore.parsing import Block
from ragcore.text.token_count import count_tokens

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
DEFAULT_TOKENS = 512
DEFAULT_DELIMITER = "\n"
HTML_ROWS_PER_TABLE = 256  # RAGFlow's html4excel chunk_rows
# RAGFlow never cuts a piece that has no delimiter in it, however large; we do past 8× the budget, because a
# minified file or a delimiter-less dump would otherwise become one multi-megabyte chunk (beyond what an
# embedding model reads and what a vector store keeps as metadata).
OVERSIZE_FACTOR = 8


@dataclass
class Unit:
    """A piece of text that is never cut further, with the block it came from."""

    text: str
    pages: set[int]
    tokens: int
    source: int  # index of the block (-1: none); pieces of one block are joined by their joiner
    kind: str = "text"
    joiner: str = ""  # what separated this piece from the previous piece of the same block
    positions: list[list[int]] = field(default_factory=list)  # the block's boxes (layout-aware parsers only)


def budget(parser_config: dict[str, Any]) -> int:
    raw = parser_config.get("chunk_token_num") or DEFAULT_TOKENS
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_TOKENS
    return value if value > 0 else DEFAULT_TOKENS


def overlap_percent(parser_config: dict[str, Any]) -> float:
    raw = parser_config.get("overlapped_percent") or 0
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return 0.0
    if 0 < value < 1:
        value *= 100  # a fraction was sent
    return max(0.0, min(value, 90.0))


def delimiters(parser_config: dict[str, Any]) -> Delimiters:
    raw = parser_config.get("delimiter")
    return parse_delimiters(raw if isinstance(raw, str) else DEFAULT_DELIMITER)


def row_line(block: Block) -> str:
    """A sheet row as RAGFlow's Excel parser writes it: "header：value; header：value ——sheet"."""
    header = list(block.meta.get("header") or [])
    cells = list(block.meta.get("cells") or [])
    fields = []
    for i, value in enumerate(cells):
        if value is None or str(value).strip() == "":
            continue
        name = str(header[i]) if i < len(header) and header[i] not in (None, "") else ""
        fields.append(f"{name}：{value}" if name else str(value))
    line = "; ".join(fields)
    sheet = str(block.meta.get("sheet") or "")
    if line and sheet and "sheet" not in sheet.lower():
        line += " ——" + sheet
    return line


def hard_split(text: str, limit: int) -> list[str]:
    """Cut text into pieces of about limit tokens, at a space or sentence end when one is near."""
    size = max(limit * 4, 64)  # ~4 characters a token for Latin text; CJK pieces come out smaller, never larger
    if len(_CJK_RE.findall(text[:2000])) > 500:
        size = max(limit, 32)
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(". ", start, end), text.rfind("。", start, end), text.rfind(" ", start, end))
            if cut > start + size // 2:
                end = cut + 1
        pieces.append(text[start:end])
        start = end
    return [p for p in pieces if p.strip()]


def html_tables(rows: list[Block]) -> list[Unit]:
    """Rows of one sheet as HTML tables of up to 256 rows, each with the header row and the sheet as caption."""
    if not rows:
        return []
    sheet = str(rows[0].meta.get("sheet") or "")
    header = list(rows[0].meta.get("header") or [])
    head = "<tr>" + "".join(f"<th>{html.escape(str(h or ''))}</th>" for h in header) + "</tr>"
    units = []
    for start in range(0, len(rows), HTML_ROWS_PER_TABLE):
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(c))}</td>" for c in r.meta.get("cells") or []) + "</tr>"
            for r in rows[start : start + HTML_ROWS_PER_TABLE]
        )
        text = f"<table><caption>{html.escape(sheet)}</caption>{head}{body}</table>"
        units.append(Unit(text, {r.page for r in rows}, count_tokens(text), -1, "table"))
    return units


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def table_units(block: Block, index: int, limit: int) -> list[Unit]:
    """A markdown/HTML-ish table block: whole if it fits the budget, else row groups with the header repeated.
    A layout parser's HTML table (DeepDOC) is always one chunk, as RAGFlow's tokenize_table keeps it."""
    tokens = count_tokens(block.text)
    if tokens <= limit or block.meta.get("html"):
        return [Unit(block.text, {block.page}, tokens, index, "table", positions=_positions(block))]
    lines = block.text.split("\n")
    head = lines[:2] if len(lines) > 2 and set(lines[1].replace("|", "").strip()) <= set("-: ") else lines[:1]
    head_tokens = count_tokens("\n".join(head))
    units: list[Unit] = []
    group: list[str] = []
    used = head_tokens
    for line in lines[len(head) :]:
        n = count_tokens(line) + 1
        if group and used + n > limit:
            text = "\n".join(head + group)
            units.append(Unit(text, {block.page}, used, index, "table"))
            group, used = [], head_tokens
        group.append(line)
        used += n
    if group:
        units.append(Unit("\n".join(head + group), {block.page}, used, index, "table"))
    return units


def units_of(blocks: Iterable[Block], delims: Delimiters, limit: int, *, html4excel: bool = False) -> list[Unit]:
    """Blocks → units: text cut at delimiters, tables whole (or by rows), sheet rows as lines or HTML tables."""
    units: list[Unit] = []
    sheet_rows: list[Block] = []

    def flush_rows() -> None:
        units.extend(html_tables(sheet_rows))
        sheet_rows.clear()

    for index, block in enumerate(blocks):
        if "cells" in block.meta:
            if block.meta.get("header_row"):
                continue  # the column names: every row line (or HTML table) already carries them
            if html4excel:
                if sheet_rows and sheet_rows[0].meta.get("sheet") != block.meta.get("sheet"):
                    flush_rows()
                sheet_rows.append(block)
            else:
                line = row_line(block)
                if line:
                    units.append(Unit(line, {block.page}, count_tokens(line), index, "text"))
            continue
        flush_rows()
        if block.kind == "table":
            units.extend(table_units(block, index, limit))
            continue
        boxes = _positions(block)
        for joiner, piece in split_text(block.text, delims):
            tokens = count_tokens(piece)
            if tokens > limit * OVERSIZE_FACTOR:
                for j, part in enumerate(hard_split(piece, limit)):
                    units.append(Unit(part, {block.page}, count_tokens(part), index, block.kind,
                                      joiner=joiner if j == 0 else " ", positions=boxes))
            else:
                units.append(Unit(piece, {block.page}, tokens, index, block.kind, joiner=joiner, positions=boxes))
    flush_rows()
    return units


def _positions(block: Block) -> list[list[int]]:
    return [list(p) for p in block.meta.get("positions") or []]


def unit_positions(units: Iterable[Unit]) -> list[list[int]]:
    """The distinct boxes of the units, in reading order (pieces of one block share its box)."""
    out: list[list[int]] = []
    for unit in units:
        for box in unit.positions:
            if box not in out:
                out.append(box)
    return out


def join_units(units: list[Unit]) -> str:
    parts: list[str] = []
    previous = None
    for unit in units:
        if parts and unit.source == previous and unit.source >= 0:
            parts[-1] += unit.joiner + unit.text
        else:
            parts.append(unit.text.strip("\n"))
        previous = unit.source
    return "\n".join(p.strip() for p in parts).strip()


def group_units(units: list[Unit], limit: int, overlap: float = 0.0, *, custom: bool = False) -> list[list[Unit]]:
    """RAGFlow's OVER_CAP grouping; tables always stand alone."""
    if custom:
        return [[u] for u in units]
    threshold = limit * (100 - overlap) / 100.0
    groups: list[list[Unit]] = []
    current: list[Unit] = []
    used = 0
    for unit in units:
        if unit.tokens > limit or unit.kind == "table":
            if current:
                groups.append(current)
            groups.append([unit])
            current, used = [], 0
            continue
        if current and used > threshold:
            groups.append(current)
            current, used = [], 0
        current.append(unit)
        used += unit.tokens
    if current:
        groups.append(current)
    return groups


def merge_units(units: list[Unit], parser_config: dict[str, Any], *, custom: bool = False, prefix: str = "") -> list[ChunkDraft]:
    limit = budget(parser_config)
    overlap = 0.0 if custom else overlap_percent(parser_config)
    drafts: list[ChunkDraft] = []
    previous = ""
    for group in group_units(units, limit, overlap, custom=custom):
        text = join_units(group)
        if not text:
            continue
        kind = "table" if all(u.kind == "table" for u in group) else "text"
        body = text
        if overlap and previous and kind != "table":
            tail = overlap_tail(previous, overlap)
            body = (tail + "\n" + text) if tail.strip() else text
        pages: set[int] = set().union(*(u.pages for u in group))
        content = f"{prefix}\n{body}" if prefix else body
        drafts.append(draft(content.strip(), pages, kind=kind, positions=unit_positions(group)))
        previous = text
    return drafts


def overlap_tail(text: str, percent: float) -> str:
    """The last percent % of text (RAGFlow cuts by characters), moved forward to a word start when one is near."""
    start = int(len(text) * (100 - percent) / 100.0)
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start, start + 24)
        newline = text.find("\n", start, start + 24)
        cuts = [c for c in (space, newline) if c >= 0]
        if cuts:
            start = min(cuts) + 1
    return text[start:].strip()


def naive_chunks(blocks: list[Block], parser_config: dict[str, Any], *, html4excel: bool = False) -> list[ChunkDraft]:
    delims = delimiters(parser_config)
    units = units_of(blocks, delims, budget(parser_config), html4excel=html4excel)
    return merge_units(units, parser_config, custom=delims.custom)
