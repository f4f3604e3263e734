"""PDF text layer → paragraph blocks, one page range at a time.

Backend choice, measured on this machine (one core, text extraction + paragraph rebuild):
  generated 100-page text PDF:                  pypdf ≈ 190 pages/s, pypdfium2 ≈ 560 pages/s, identical paragraphs
  libtasn1.pdf (36 pages, real LaTeX output):   pypdf ≈  47 pages/s, pypdfium2 ≈ 760 pages/s, same text
  shared-mime-info-spec.pdf (17 pages, DocBook): pypdf ≈  52 pages/s, pypdfium2 ≈ 700 pages/s, same text
So pypdfium2 (PDFium, C++) reads every page; pypdf is kept only as a fallback for files PDFium refuses to
open for a reason other than a password (it is more forgiving of some broken cross-reference tables).
End to end (bench/parse_chunk.py: 100 pages in 12-page tasks, parse + naive chunking, font sizes and running
headers included) that is ≈ 400-600 pages/s on one core; the goal was 50.

This is the "Plain Text" reader: it rebuilds paragraphs from wrapped lines, takes titles from font sizes and drops
running headers (pdf_layout.py), and says clearly when a PDF has no text layer at all (a scan) instead of returning
nothing. layout_recognize "DeepDOC" goes to pdf_deepdoc.py (layout model, tables, positions). Pages without a text
layer (scans) are rendered and OCR'd (pdf_scan.py) when an OCR engine is given, on either path.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ragcore.parsing.guards import require_bytes
from ragcore.parsing.paragraphs import split_lines
from ragcore.parsing.pdf_layout import Line, body_size, drop_running_lines, page_blocks, title_levels
from ragcore.parsing.pdf_shared import ENCRYPTED, MIN_BUDGET_S, PAGE_BUDGET_S, PDFIUM_LOCK
from ragcore.parsing.types import MAX_PDF_PAGES, Block, ParsedDocument, ParseError

if TYPE_CHECKING:
    from ragcore.parsing.ocr import OcrEngine

log = logging.getLogger("ragcore.parsing.pdf")



class _Pages:
    """A page count and a page → text function over whichever backend could open the file."""

    def __init__(self, count: int, lines_of: Callable[[int], list[Line]], close: Callable[[], None],
                 pdfium: Any = None) -> None:
        self.count = count
        self.lines_of = lines_of
        self.close = close
        self.pdfium = pdfium  # the PdfDocument when PDFium opened the file: scanned pages are rendered from it


@contextmanager
def _open(data: bytes) -> Iterator[_Pages]:
    require_bytes(data)
    if b"%PDF-" not in data[:1024]:
        raise ParseError("The PDF file is corrupt: no PDF header.")
    with PDFIUM_LOCK:
        pages = _open_pdfium(data) or _open_pypdf(data)
        try:
            yield pages
        finally:
            pages.close()


def _open_pdfium(data: bytes) -> _Pages | None:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == 4 or "password" in str(exc).lower():
            raise ParseError(ENCRYPTED) from None
        log.info("PDFium could not open the file (%s); trying pypdf", exc)
        return None

    def lines_of(index: int) -> list[Line]:
        import pypdfium2.raw as pdfium_c

        page = doc[index]
        try:
            textpage = page.get_textpage()
            try:
                text = str(textpage.get_text_range())
                chars = textpage.count_chars()
                lines: list[Line] = []
                offset = 0  # get_text_range yields one UTF-16 unit per character index, "\r\n" included
                for raw in text.split("\r\n"):
                    first = offset + len(raw) - len(raw.lstrip())
                    size = pdfium_c.FPDFText_GetFontSize(textpage.raw, first) if raw.strip() and first < chars else 0.0
                    lines.extend((part, float(size)) for part in split_lines(raw))
                    offset += len(raw) + 2
                return lines
            finally:
                textpage.close()
        finally:
            page.close()

    return _Pages(_bounded(len(doc)), lines_of, doc.close, doc)


def _open_pypdf(data: bytes) -> _Pages:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError(ENCRYPTED)
        count = len(reader.pages)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"The PDF file is corrupt: {exc or type(exc).__name__}.") from None
    return _Pages(_bounded(count), lambda i: [(ln, 0.0) for ln in split_lines(reader.pages[i].extract_text() or "")],
                  lambda: None)


def _bounded(count: int) -> int:
    if count <= 0:
        raise ParseError("The PDF has no pages.")
    return min(count, MAX_PDF_PAGES)


def pdf_page_count(data: bytes) -> int:
    with _open(data) as pages:
        return pages.count


def parse_pdf(data: bytes, page_from: int = 0, page_to: int | None = None, *, layout: bool = False,
              ocr: OcrEngine | None = None) -> ParsedDocument:
    """layout: the DeepDOC reader (layout model, tables, positions: pdf_deepdoc.py); else the text layer alone.
    `ocr`: the engine that reads pages without a text layer (pdf_scan.py); None leaves them textless."""
    if layout:
        from ragcore.parsing.pdf_deepdoc import parse_pdf_layout

        parsed = parse_pdf_layout(data, page_from, page_to, ocr=ocr)
        if parsed is not None:
            return parsed  # else the plain reader: it has the fallbacks, the reasons and the OCR of scans
    scans: dict[int, Any] = {}
    with _open(data) as pages:
        total = pages.count
        start = max(0, page_from)
        end = total if page_to is None else max(start, min(page_to, total))
        failed: list[int] = []
        lines: dict[int, list[Line]] = {}
        deadline = time.monotonic() + max(MIN_BUDGET_S, PAGE_BUDGET_S * (end - start))
        for index in range(start, end):
            if time.monotonic() > deadline:
                raise ParseError(
                    f"Reading the PDF took too long (stopped at page {index + 1}); the file may be malformed."
                )
            try:
                lines[index + 1] = pages.lines_of(index)
            except Exception as exc:  # one broken page must not lose the others
                log.warning("pdf page %d unreadable: %s", index + 1, exc)
                failed.append(index + 1)
        if end > start and len(failed) == end - start:
            raise ParseError(f"The PDF file is corrupt: none of pages {start + 1}-{end} can be read.")
        if ocr is not None and pages.pdfium is not None:
            scans = _render_scans(pages.pdfium, lines, failed)
        body = body_size(lines)
        lines = drop_running_lines(lines, body)
        levels = title_levels(lines, body)
        blocks: list[Block] = []
        textless: list[int] = []
        for number, page_lines in lines.items():
            found = page_blocks(number, page_lines, body, levels)
            if not found:
                textless.append(number)
            blocks.extend(found)
        if not blocks and not scans and end > start and _image_only(pages, start, end):
            raise ParseError(
                "The PDF has no text layer (scanned pages?); reading it needs an OCR model, and none is configured."
            )
    meta: dict[str, Any] = {"page_from": start, "page_to": end, "failed_pages": failed, "textless_pages": textless}
    if scans and ocr is not None:  # OCR runs outside the PDFium lock: other documents keep parsing meanwhile
        from ragcore.parsing.pdf_scan import read_scans

        ocr_blocks, errors = read_scans(scans, ocr)
        blocks = sorted(blocks + ocr_blocks, key=lambda b: b.page)  # stable: each page keeps its own order
        meta.update(ocr_pages=sorted(scans), page_errors=errors,
                    textless_pages=[n for n in textless if n not in scans or n in errors])
        if not blocks and errors:
            raise ParseError(f"OCR could not read page {min(errors)}: {errors[min(errors)]}")
    return ParsedDocument(blocks=blocks, pages=total, meta=meta, page_images=scans)


def _render_scans(doc: Any, lines: dict[int, list[Line]], failed: list[int]) -> dict[int, Any]:
    """Render the pages that need OCR (their text layer, if any, is dropped for OCR's); a page that cannot be
    rendered is a failed page like one whose text cannot be read."""
    from ragcore.parsing.pdf_scan import render, scan_candidates

    scans = {}
    for number in scan_candidates(doc, lines):
        try:
            scans[number] = render(doc, number)
        except Exception as exc:
            log.warning("pdf page %d could not be rendered for OCR: %s", number, exc)
            failed.append(number)
            continue
        lines[number] = []
    return scans


def _image_only(pages: _Pages, start: int, end: int) -> bool:
    """The range had no text: is the whole document image-only? Sample up to 5 pages outside the range."""
    others = [i for i in range(pages.count) if i < start or i >= end]
    step = max(1, len(others) // 5)
    for index in others[::step][:5]:
        try:
            if any(t.strip() for t, _ in pages.lines_of(index)):
                return False
        except Exception:
            continue
    return True
