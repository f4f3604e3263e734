"""The picture method, after RAGFlow's rag/app/picture.py: an image is one chunk of its OCR text; when OCR found
little text (32 characters or fewer, RAGFlow's cut-off) and the tenant has a vision model, the model's description
of the picture is added. A multi-page TIFF gives a chunk per page; other documents give one chunk of their text.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from ragcore.chunking.types import ChunkDraft, draft
from ragcore.parsing import ParsedDocument, ParseError
from ragcore.parsing.regions import merge_positions

log = logging.getLogger("ragcore.chunking.picture")

SHORT_OCR_CHARS = 32  # RAGFlow: longer OCR text is indexed alone ("OCR results is too long to use CV LLM")


def picture_chunks(parsed: ParsedDocument, describe: Callable[[bytes], str] | None) -> list[ChunkDraft]:
    if not parsed.page_images:  # not an image: its text, whole
        text = "\n".join(b.text.strip() for b in parsed.blocks if b.text.strip())
        return [draft(text, {b.page for b in parsed.blocks})] if text else []
    out = []
    for page, picture in sorted(parsed.page_images.items()):
        blocks = [b for b in parsed.blocks if b.page == page]
        text = "\n".join(b.text.strip() for b in blocks if b.text.strip())
        if len(text) <= SHORT_OCR_CHARS:
            text = _with_description(text, picture.image, describe)
        if text:
            positions = merge_positions([p for b in blocks for p in b.meta.get("positions") or []])
            width, height = picture.image.size
            out.append(draft(text, {page}, positions=positions or [[page, 0, round(width / picture.scale), 0,
                                                                    round(height / picture.scale)]]))
    return out


def _with_description(text: str, image: object, describe: Callable[[bytes], str] | None) -> str:
    if describe is None:
        if not text:
            raise ParseError("OCR found no text in the image, and no vision model is configured to describe it "
                             "(set the tenant's default image-to-text model).")
        return text
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)  # type: ignore[attr-defined]
    try:
        description = describe(buffer.getvalue()).strip()
    except Exception as exc:  # RAGFlow: the OCR text alone when the vision model fails, else the failure
        if not text:
            raise ParseError(f"The vision model could not describe the image: {exc}") from None
        log.warning("vision model unavailable, indexing the OCR text alone: %s", exc)
        return text
    return f"{text}\n{description}".strip()
