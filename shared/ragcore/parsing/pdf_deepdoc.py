"""PDF → blocks under layout_recognize "DeepDOC": the text layer's words + the layout model, page by page.

PDFium (not thread-safe) extracts each page's words and renders it at about 1 pixel per point (the layout model's
800-pixel input height) under the PDF lock, one page at a time; the model and the layout analysis (layout.py) run
outside it, so parse workers overlap and a task holds one page image at a time. A page that fails fails alone
(meta failed_pages, noted in progress_msg); a range without any text layer (a scan) goes to the plain reader, which
OCRs it or says why it cannot be read; a scanned page among text pages is OCR'd when an engine is given. Rotated pages are read in their unrotated frame.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcore.parsing import layout_model
from ragcore.parsing.layout import Detector, PageLayout, analyze_page, layout_blocks
from ragcore.parsing.layout_model import INPUT_H
from ragcore.parsing.pdf_scan import read_scans, render
from ragcore.parsing.pdf_shared import ENCRYPTED, MIN_BUDGET_S, PAGE_BUDGET_S, PDFIUM_LOCK
from ragcore.parsing.textlayer import page_words
from ragcore.parsing.types import MAX_PDF_PAGES, ParsedDocument, ParseError, TextBox

if TYPE_CHECKING:
    from ragcore.parsing.ocr import OcrEngine

log = logging.getLogger("ragcore.parsing.pdf_deepdoc")


@dataclass
class _Page:
    number: int
    width: float
    height: float
    scale: float
    words: list[TextBox]
    rgb: np.ndarray


def parse_pdf_layout(
    data: bytes, page_from: int = 0, page_to: int | None = None, *, detector: Detector | None = None,
    ocr: OcrEngine | None = None,
) -> ParsedDocument | None:
    """None: the plain reader is the one to read this file (PDFium refused it, or the range has no text layer).
    detector: page image → layout regions; by default the in-process model, or none when this process does not
    have it (a Lambda bundle without the "layout" layer), and then the text's geometry alone orders the page."""
    if detector is None and layout_model.available():
        detector = layout_model.detect
    elif detector is None and ocr is not None and hasattr(ocr, "layout_detector"):
        detector = _tolerant(ocr.layout_detector())  # on AWS: the model runs in the OCR function

    opened = _open(data)
    if opened is None:  # PDFium refused the file: the plain reader has the fallbacks and the reasons
        return None
    doc, total = opened
    start = max(0, page_from)
    end = total if page_to is None else max(start, min(page_to, total))
    layouts: list[PageLayout] = []
    scans: dict[int, Any] = {}
    failed: list[int] = []
    textless: list[int] = []
    unreadable = 0
    try:
        deadline = time.monotonic() + max(MIN_BUDGET_S, PAGE_BUDGET_S * (end - start))
        for index in range(start, end):
            if time.monotonic() > deadline:
                raise ParseError(
                    f"Reading the PDF took too long (stopped at page {index + 1}); the file may be malformed."
                )
            try:
                with PDFIUM_LOCK:  # PDFium calls only; the model and the analysis overlap other workers
                    page = _page(doc, index)
            except Exception as exc:
                log.warning("pdf page %d unreadable: %s", index + 1, exc)
                failed.append(index + 1)
                unreadable += 1
                continue
            if not page.words:
                textless.append(page.number)
                if ocr is not None:  # a scanned page among text pages: OCR reads it (after the lock is let go)
                    try:
                        with PDFIUM_LOCK:
                            scans[page.number] = render(doc, page.number)
                    except Exception as exc:
                        log.warning("pdf page %d could not be rendered for OCR: %s", page.number, exc)
                continue
            try:
                layouts.append(analyze_page(page.rgb, page.scale, page.words, page.number, page.width,
                                            page.height, detect=detector))
            except ParseError:
                raise
            except Exception as exc:  # one page's analysis must not lose the others
                log.warning("layout of pdf page %d failed: %s", page.number, exc)
                failed.append(page.number)
    finally:
        with PDFIUM_LOCK:
            doc.close()
    if end > start and unreadable == end - start:
        raise ParseError(f"The PDF file is corrupt: none of pages {start + 1}-{end} can be read.")
    if end > start and len(textless) + unreadable == end - start:
        # no text layer in the range (a scan): the plain reader OCRs it, or tells the user why nothing can be read
        return None
    meta: dict[str, Any] = {"page_from": start, "page_to": end, "failed_pages": sorted(failed),
                            "textless_pages": textless, "layout": "DeepDOC", "layout_model": detector is not None}
    blocks = layout_blocks(layouts)
    if scans and ocr is not None:
        ocr_blocks, errors = read_scans(scans, ocr)
        blocks = sorted(blocks + ocr_blocks, key=lambda b: b.page)  # stable: each page keeps its own order
        meta.update(ocr_pages=sorted(scans), page_errors=errors,
                    textless_pages=[n for n in textless if n not in scans or n in errors])
    return ParsedDocument(blocks=blocks, pages=total, meta=meta, page_images=scans)


def _tolerant(detect: Detector) -> Detector:
    """A remote detector that cannot answer leaves that page to the geometry alone, as without the model."""

    def guarded(rgb: np.ndarray) -> list[Any]:
        try:
            return detect(rgb)
        except Exception as exc:
            log.warning("layout detection failed, page read by geometry alone: %s", exc)
            return []

    return guarded


def _open(data: bytes) -> tuple[Any, int] | None:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == 4 or "password" in str(exc).lower():
                raise ParseError(ENCRYPTED) from None
            return None
        total = min(len(doc), MAX_PDF_PAGES)
        if total <= 0:
            doc.close()
            raise ParseError("The PDF has no pages.")
        return doc, total


def _page(doc: Any, index: int) -> _Page:
    page = doc[index]
    try:
        # the crop box is what is rendered and what a reader sees: boxes are measured from its top-left corner
        left, bottom, right, top = page.get_cropbox()
        width, height = right - left, top - bottom
        textpage = page.get_textpage()
        try:
            words = page_words(textpage, index + 1, origin=(left, top))
        finally:
            textpage.close()
        scale = INPUT_H / max(height, 1.0)
        bitmap = page.render(scale=scale, rev_byteorder=True)
        try:
            rgb = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
        finally:
            bitmap.close()
        return _Page(index + 1, float(width), float(height), scale, words, rgb)
    finally:
        page.close()
