"""XLSX (openpyxl, read-only) and CSV/TSV → one block per row.

Every row block carries meta {"sheet", "row" (1-based), "header" (the sheet's first non-empty row), "cells"};
the first row itself comes as a block with meta["header_row"] = True, because the qa/tag methods read
header-less two-column sheets. Chunkers decide how rows read: naive writes "header：value; …" lines (or HTML
tables with html4excel), table writes one record per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from ragcore.parsing.guards import open_zip, reject_ole
from ragcore.parsing.plain import read_text
from ragcore.parsing.types import MAX_SHEET_ROWS, Block, ParsedDocument, ParseError

_MAX_COLUMNS = 1024


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _rows_to_blocks(sheet: str, rows: Iterable[Sequence[Any]], *, first_number: int = 1) -> list[Block]:
    blocks: list[Block] = []
    header: list[str] | None = None
    for number, raw in enumerate(rows, start=first_number):
        if len(blocks) >= MAX_SHEET_ROWS:
            break
        cells = [_cell(v) for v in list(raw)[:_MAX_COLUMNS]]
        while cells and not cells[-1]:
            cells.pop()
        if not any(cells):
            continue
        if header is None:
            header = cells
            blocks.append(Block(text=" | ".join(cells), kind="table",
                                meta={"sheet": sheet, "row": number, "header": header, "cells": cells,
                                      "header_row": True}))
            continue
        text = "; ".join(f"{header[i]}: {c}" if i < len(header) and header[i] else c for i, c in enumerate(cells) if c)
        blocks.append(Block(text=text, kind="table",
                            meta={"sheet": sheet, "row": number, "header": header, "cells": cells}))
    return blocks


def parse_xlsx(data: bytes, *, html4excel: bool = False) -> ParsedDocument:
    import openpyxl

    reject_ole(data, "XLSX", ".xlsx")
    open_zip(data, "XLSX").close()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ParseError(f"The XLSX file is corrupt: {exc or type(exc).__name__}.") from None
    blocks: list[Block] = []
    sheets: list[str] = []
    try:
        for sheet in book.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue  # chart sheets
            sheets.append(sheet.title)
            blocks.extend(_rows_to_blocks(sheet.title, sheet.iter_rows(values_only=True)))
    except Exception as exc:
        raise ParseError(f"The XLSX file is corrupt: {exc or type(exc).__name__}.") from None
    finally:
        book.close()
    return ParsedDocument(blocks=blocks, pages=1, meta={"sheets": sheets, "html4excel": html4excel})


def parse_csv(data: bytes, *, delimiter: str | None = None, html4excel: bool = False) -> ParsedDocument:
    text = read_text(data, "CSV")
    if delimiter is None:
        delimiter = sniff_delimiter(text)
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise ParseError(f"The CSV file is corrupt: {exc}.") from None
    blocks = _rows_to_blocks("", rows)
    return ParsedDocument(blocks=blocks, pages=1, meta={"delimiter": delimiter, "html4excel": html4excel})


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.split("\n", 50)[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        lines = [ln for ln in sample.split("\n") if ln.strip()]
        return "\t" if any("\t" in ln for ln in lines) and not any("," in ln for ln in lines) else ","
