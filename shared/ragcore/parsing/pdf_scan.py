"""Scanned PDF pages: which pages need OCR, their pictures, and their text by OCR.

A page is OCR'd when its text layer is empty (a scan, or text drawn as outlines) or when it is mostly image with
little text (a scan with a stray text layer: a stamp, a page number). A page whose text layer carries real text is
never OCR'd: its text is already exact, and OCR is ~100× slower.

    pages = scan_candidates(pdf_document, {page_number: text_lines})   # page numbers to OCR
    pictures = {n: render(pdf_document, n) for n in pages}            # under the PDFium lock
    blocks, errors = read_scans(pictures, engine)                      # outside it
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ragcore.parsing.ocr import OcrEngine, blocks_of
from ragcore.parsing.regions import PageImage
from ragcore.parsing.types import Block, TextBox

OCR_DPI = 150  # PP-OCR reads 9-point text well from 150 dpi; higher costs time and memory for little gain
SPARSE_TEXT_CHARS = 200  # a text layer shorter than this may be a scan's stray text: then the images decide
MOSTLY_IMAGE = 0.6  # share of the page's area that images cover


def scan_candidates(doc: Any, lines: Mapping[int, Sequence[tuple[str, float]]]) -> list[int]:
    """Page numbers (1-based) whose text must come from OCR."""
    out = []
    for number, page_lines in lines.items():
        chars = sum(len(text.strip()) for text, _ in page_lines)
        if chars == 0 or (chars < SPARSE_TEXT_CHARS and _safe_share(doc, number - 1) >= MOSTLY_IMAGE):
            out.append(number)
    return out


def _safe_share(doc: Any, index: int) -> float:
    try:
        return image_share(doc, index)
    except Exception:  # an object PDFium cannot measure: the page keeps its text layer
        return 0.0


def image_share(doc: Any, index: int) -> float:
    """How much of the page its image objects cover (0–1; overlapping images count once per image)."""
    import pypdfium2.raw as pdfium_c

    page = doc[index]
    try:
        width, height = page.get_size()
        area = max(width * height, 1.0)
        covered = 0.0
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
            left, bottom, right, top = obj.get_bounds()
            w = max(0.0, min(right, width) - max(left, 0.0))
            h = max(0.0, min(top, height) - max(bottom, 0.0))
            covered += w * h
        return min(covered / area, 1.0)
    finally:
        page.close()


def render(doc: Any, number: int, dpi: int = OCR_DPI) -> PageImage:
    """Page `number` (1-based) as an RGB picture at `dpi`."""
    page = doc[number - 1]
    try:
        scale = dpi / 72
        bitmap = page.render(scale=scale, rotation=0)
        try:
            image = bitmap.to_pil().convert("RGB")
        finally:
            bitmap.close()
        return PageImage(page=number, image=image, scale=scale)
    finally:
        page.close()


def read_scans(pictures: Mapping[int, PageImage], engine: OcrEngine) -> tuple[list[Block], dict[int, str]]:
    """The pages' paragraph blocks by OCR, and the reason for each page OCR could not read."""
    ordered = [pictures[n] for n in sorted(pictures)]
    results = engine.recognize(ordered)
    boxes: dict[int, list[TextBox]] = {}
    errors: dict[int, str] = {}
    for picture, result in zip(ordered, results, strict=True):
        if isinstance(result, str):
            errors[picture.page] = result
        else:
            boxes[picture.page] = result
    return blocks_of(boxes), errors
