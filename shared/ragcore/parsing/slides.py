"""PPTX (python-pptx): one page per slide; title, text frames in reading order, tables, speaker notes."""

from __future__ import annotations

import io
from typing import Any

from ragcore.parsing.guards import open_zip, reject_ole
from ragcore.parsing.markup import rows_to_markdown
from ragcore.parsing.types import Block, ParsedDocument, ParseError


def parse_pptx(data: bytes) -> ParsedDocument:
    from pptx import Presentation

    reject_ole(data, "PPTX", ".pptx")
    open_zip(data, "PPTX").close()
    try:
        deck = Presentation(io.BytesIO(data))
        slides = list(deck.slides)
    except Exception as exc:
        raise ParseError(f"The PPTX file is corrupt: {exc or type(exc).__name__}.") from None
    blocks: list[Block] = []
    for number, slide in enumerate(slides, start=1):
        try:
            blocks.extend(_slide_blocks(slide, number))
        except Exception as exc:  # one broken slide must not lose the deck
            blocks.append(Block(text="", page=number, meta={"error": f"{type(exc).__name__}: {exc}"}))
    blocks = [b for b in blocks if b.text.strip()]
    return ParsedDocument(blocks=blocks, pages=max(len(slides), 1), meta={"slides": len(slides)})


def _slide_blocks(slide: Any, number: int) -> list[Block]:
    blocks: list[Block] = []
    title_shape = slide.shapes.title
    title_id = title_shape.shape_id if title_shape is not None else None
    if title_shape is not None and title_shape.has_text_frame and title_shape.text_frame.text.strip():
        blocks.append(Block(text=" ".join(title_shape.text_frame.text.split()), page=number, kind="title", level=1))
    for shape in _reading_order(slide.shapes):
        if shape.shape_id == title_id:
            continue
        blocks.extend(_shape_blocks(shape, number))
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            blocks.append(Block(text=notes.text.strip(), page=number, meta={"notes": True}))
    return blocks


def _reading_order(shapes: Any) -> list[Any]:
    return sorted(shapes, key=lambda s: ((s.top or 0) // 20000, s.left or 0))  # ~0.5 mm rows, then left to right


def _shape_blocks(shape: Any, number: int) -> list[Block]:
    if getattr(shape, "shape_type", None) == 6 or hasattr(shape, "shapes"):  # a group
        out: list[Block] = []
        for child in _reading_order(shape.shapes):
            out.extend(_shape_blocks(child, number))
        return out
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [[" ".join(cell.text.split()) for cell in row.cells] for row in shape.table.rows]
        rows = [r for r in rows if any(r)]
        return [Block(text=rows_to_markdown(rows), page=number, kind="table")] if rows else []
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        lines = []
        for para in shape.text_frame.paragraphs:
            text = "".join(run.text for run in para.runs).strip() or para.text.strip()
            if text:
                lines.append(("  " * para.level + "- " + text) if para.level else text)
        if lines:
            return [Block(text="\n".join(lines), page=number)]
    return []
