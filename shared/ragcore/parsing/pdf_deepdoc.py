"""PDF → blocks under layout_recognize "DeepDOC": the text layer's words + the layout model, page by page.

PDFium (not thread-safe) extracts each page's words and renders it at about 1 pixel per point (the layout model's
800-pixel input height) under the PDF lock; the model and the layout analysis (layout.py) run outside it, so parse
workers overlap. A page that fails fails alone (meta failed_pages); a range without any text layer (a scan) goes
to the plain reader, which says why it cannot be read.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ragcore.parsing.layout import PageLayout, analyze_page, layout_blocks
from ragcore.parsing.layout_model import INPUT_H, detect
from ragcore.parsing.textlayer import page_words
from ragcore.parsing.types import MAX_PDF_PAGES, ParsedDocument, ParseError, TextBox

log = logging.getLogger("ragcore.parsing.pdf_deepdoc")


@dataclass
class _Page:
    number: int
    width: float
    height: float
    scale: float
    words: list[TextBox]
    rgb: np.ndarray


def parse_pdf_layout(data: bytes, page_from: int = 0, page_to: int | None = None) -> ParsedDocument:
    from ragcore.parsing import pdf

    pages, total, failed = _read(data, page_from, page_to)
    if pages is None:  # PDFium could not open it: the plain reader has the fallbacks and the reasons
        return pdf.parse_pdf(data, page_from, page_to)
    if not any(p.words for p in pages) and pages:
        return pdf.parse_pdf(data, page_from, page_to)
    layouts: list[PageLayout] = []
    for page in pages:
        try:
            layouts.append(analyze_page(page.rgb, page.scale, page.words, page.number, page.width, page.height,
                                        detect=detect))
        except ParseError:
            raise
        except Exception as exc:  # one page's analysis must not lose the others
            log.warning("layout of pdf page %d failed: %s", page.number, exc)
            failed.append(page.number)
    blocks = layout_blocks(layouts)
    start = max(0, page_from)
    end = total if page_to is None else max(start, min(page_to, total))
    textless = [p.number for p in pages if not p.words]
    meta = {"page_from": start, "page_to": end, "failed_pages": sorted(failed), "textless_pages": textless,
            "layout": "DeepDOC"}
    return ParsedDocument(blocks=blocks, pages=total, meta=meta)


def _read(data: bytes, page_from: int, page_to: int | None) -> tuple[list[_Page] | None, int, list[int]]:
    """Words and an image of each page of the range, or None when PDFium refuses the file."""
    import pypdfium2 as pdfium

    from ragcore.parsing import pdf

    with pdf._PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == 4 or "password" in str(exc).lower():
                raise ParseError(pdf._ENCRYPTED) from None
            return None, 0, []
        try:
            total = min(len(doc), MAX_PDF_PAGES)
            if total <= 0:
                raise ParseError("The PDF has no pages.")
            start = max(0, page_from)
            end = total if page_to is None else max(start, min(page_to, total))
            deadline = time.monotonic() + max(pdf._MIN_BUDGET_S, pdf._PAGE_BUDGET_S * (end - start))
            pages: list[_Page] = []
            failed: list[int] = []
            for index in range(start, end):
                if time.monotonic() > deadline:
                    raise ParseError(
                        f"Reading the PDF took too long (stopped at page {index + 1}); the file may be malformed."
                    )
                try:
                    pages.append(_page(doc, index))
                except Exception as exc:
                    log.warning("pdf page %d unreadable: %s", index + 1, exc)
                    failed.append(index + 1)
            if end > start and len(failed) == end - start:
                raise ParseError(f"The PDF file is corrupt: none of pages {start + 1}-{end} can be read.")
            return pages, total, failed
        finally:
            doc.close()


def _page(doc: object, index: int) -> _Page:
    page = doc[index]  # type: ignore[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            words = page_words(textpage, index + 1, height)
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
