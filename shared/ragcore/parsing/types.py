"""What every parser returns: ordered text blocks with page numbers, and the error a user reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ParseError(Exception):
    """A file we cannot read; str(exc) is the reason shown to the user in progress_msg."""


@dataclass
class Block:
    text: str
    page: int = 0  # 1-based; 0 when the format has no pages
    kind: str = "text"  # text | title | table | list | code | qa
    level: int = 0  # heading level for titles (1 = top)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TextBox:
    """A run of text on a page and where it sits, from a PDF's text layer or from OCR.

    Coordinates are PDF points (1/72 inch) from the page's top-left corner, so boxes from either source and
    RAGFlow-style chunk `positions` ([page, x0, x1, top, bottom]) share one frame."""

    text: str
    page: int  # 1-based
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float = 1.0  # OCR's recognition score; 1.0 for the text layer


@dataclass
class ParsedDocument:
    blocks: list[Block]
    pages: int
    meta: dict[str, Any] = field(default_factory=dict)
    # page number → regions.PageImage of the pages that were rendered (OCR'd pages, image files): what chunk
    # images are cut from; not persisted
    page_images: dict[int, Any] = field(default_factory=dict)


# Bounds that keep one hostile or huge file from eating a worker (all in one place, on purpose).
MAX_PDF_PAGES = 20_000
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024  # an Office file may expand to this much in total
MAX_ZIP_RATIO = 200  # per member: uncompressed / compressed; XML compresses ~10-30x, bombs ~1000x
MAX_ZIP_MEMBERS = 20_000
MAX_SHEET_ROWS = 1_000_000
MAX_TEXT_CHARS = 200 * 1024 * 1024
