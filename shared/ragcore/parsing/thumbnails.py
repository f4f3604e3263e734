"""A document's thumbnail as PNG bytes, as RAGFlow makes them: a PDF's first page at 32 dpi (halved while the PNG
is 64 kB or more), an image shrunk to fit 30×30; None for every other type and for anything that will not render.

The renderers (pypdfium2, Pillow) ship with the parsers: where they are absent (an API function without the
parsers layer) thumbnail_png answers None and the parse worker makes the thumbnail instead.
"""

from __future__ import annotations

import io
import logging

log = logging.getLogger(__name__)

MAX_BYTES = 50 * 1024 * 1024  # RAGFlow's cap on what it renders
IMAGE_SUFFIXES = ("jpg", "jpeg", "png", "tif", "gif", "icon", "ico", "webp")
PDF_DPI = 32.0
MAX_PDF_PNG = 64_000
IMAGE_BOX = (30, 30)


def has_thumbnail(suffix: str) -> bool:
    return suffix == "pdf" or suffix in IMAGE_SUFFIXES


def thumbnail_png(suffix: str, data: bytes, *, wait: bool = True) -> bytes | None:
    """wait=False: None at once when PDFium is busy with a parse (an upload does not queue behind it; the parse
    worker makes the thumbnail later)."""
    if not has_thumbnail(suffix) or not data or len(data) > MAX_BYTES:
        return None
    try:
        return _pdf(data, wait) if suffix == "pdf" else _image(data)
    except ImportError:
        return None
    except Exception as exc:  # a corrupt or exotic file: no thumbnail, as in RAGFlow, never a failed upload
        log.info("no thumbnail: %s", exc)
        return None


def _pdf(data: bytes, wait: bool) -> bytes | None:
    import pypdfium2 as pdfium

    from ragcore.parsing.pdf_shared import PDFIUM_LOCK  # PDFium is not thread-safe: share the parsers' lock

    dpi = PDF_DPI
    if not PDFIUM_LOCK.acquire(blocking=wait):
        return None
    try:
        doc = pdfium.PdfDocument(data)
        try:
            if len(doc) == 0:
                return None
            page = doc[0]
            try:
                png = b""
                for _ in range(10):
                    image = page.render(scale=dpi / 72).to_pil()
                    png = _png(image)
                    if len(png) < MAX_PDF_PNG or dpi < 2:
                        break
                    dpi /= 2
                return png
            finally:
                page.close()
        finally:
            doc.close()
    finally:
        PDFIUM_LOCK.release()


def _image(data: bytes) -> bytes:
    from PIL import Image

    image: Image.Image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail(IMAGE_BOX)
    return _png(image)


def _png(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="png")  # type: ignore[attr-defined]
    return out.getvalue()
