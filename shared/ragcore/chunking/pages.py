"""presentation (one chunk per slide or page) and email (headers + body, then attachments)."""

from __future__ import annotations

from typing import Any

from ragcore.chunking.merge import naive_chunks
from ragcore.chunking.types import ChunkDraft, draft
from ragcore.parsing import ParsedDocument, ParseError, suffix_of


def presentation_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    """RAGFlow also stores each slide's picture for a vision model; we keep the slide's text."""
    if not any(b.page > 0 for b in parsed.blocks):
        if parsed.blocks:
            raise ParseError("The presentation method reads files with slides or pages (PPTX, PDF).")
        return []
    pages: dict[int, list[str]] = {}
    for block in parsed.blocks:
        if block.text.strip():
            pages.setdefault(block.page, []).append(block.text.strip())
    return [draft("\n".join(texts), {page}) for page, texts in sorted(pages.items())]


def email_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    if suffix_of(filename) != "eml":
        raise ParseError("The email method reads .eml files.")
    own = [b for b in parsed.blocks if "attachment" not in b.meta]
    attached: dict[str, list[Any]] = {}
    for block in parsed.blocks:
        if "attachment" in block.meta:
            attached.setdefault(str(block.meta["attachment"]), []).append(block)
    out = naive_chunks(own, config)
    for blocks in attached.values():
        out.extend(naive_chunks(blocks, config))
    return out
