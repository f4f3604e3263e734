"""ParsedDocument → chunks, by RAGFlow chunk_method. Pure library code.

    chunk_document(parsed, "naive", {"chunk_token_num": 512, "delimiter": "\\n"}, filename="a.pdf") -> list[ChunkDraft]

Methods: naive, book, laws, manual, paper (title-aware), qa, tag, table (row records), one, presentation, email,
resume, picture (OCR text, plus a vision model's description when the caller passes `describe_image`). Where
RAGFlow uses layout models we do not have, each method says in its module what text-based equivalent it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ragcore.chunking.types import ChunkDraft, draft
from ragcore.parsing import ParsedDocument, ParseError, suffix_of

__all__ = ["CHUNK_METHODS", "ChunkDraft", "chunk_document"]

Chunker = Callable[[ParsedDocument, dict[str, Any], str], list[ChunkDraft]]


def _naive(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    from ragcore.chunking.merge import naive_chunks

    return naive_chunks(parsed.blocks, config, html4excel=bool(parsed.meta.get("html4excel") or config.get("html4excel")))


def _one(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    """The whole document (or page range) as one chunk."""
    from ragcore.chunking.merge import row_line

    texts = [row_line(b) if "cells" in b.meta else b.text for b in parsed.blocks if not b.meta.get("header_row")]
    content = "\n".join(t.strip() for t in texts if t.strip())
    return [draft(content, {b.page for b in parsed.blocks})] if content else []


def _picture(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    from ragcore.chunking.picture import picture_chunks

    return picture_chunks(parsed, None)


def _children_delimiter(config: dict[str, Any]) -> str | None:
    """parser_config.parent_child = {"use_parent_child": true, "children_delimiter": "\\n"} → the delimiter."""
    nested = config.get("parent_child")
    settings = nested if isinstance(nested, dict) else config
    if not settings.get("use_parent_child"):
        return None
    delimiter = settings.get("children_delimiter")
    return delimiter if isinstance(delimiter, str) and delimiter else "\n"


def split_children(drafts: list[ChunkDraft], delimiter: str) -> list[ChunkDraft]:
    """Each chunk cut at the children delimiter; every child keeps the whole chunk as its parent.

    Vectors match the small child; retrieval hands the parent to the model (RAGFlow's parent-child chunking).
    Tables and Q/A pairs are records already and stay whole.
    """
    from dataclasses import replace

    from ragcore.chunking.delimiters import parse_delimiters, split_text

    delims = parse_delimiters(delimiter)
    out: list[ChunkDraft] = []
    for parent in drafts:
        pieces = [p.strip() for _, p in split_text(parent.content, delims) if p.strip()]
        if parent.kind in ("table", "qa") or len(pieces) <= 1:
            out.append(parent)
            continue
        out.extend(replace(parent, content=piece, parent=parent.content, questions=list(parent.questions),
                           important_keywords=list(parent.important_keywords), tags=list(parent.tags))
                   for piece in pieces)
    return out


def _load(module: str, name: str) -> Chunker:
    def run(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
        import importlib

        func: Chunker = getattr(importlib.import_module(f"ragcore.chunking.{module}"), name)
        return func(parsed, config, filename)

    return run


_METHODS: dict[str, Chunker] = {
    "naive": _naive,
    "one": _one,
    "picture": _picture,
    "book": _load("sections", "book_chunks"),
    "laws": _load("sections", "laws_chunks"),
    "manual": _load("sections", "manual_chunks"),
    "paper": _load("sections", "paper_chunks"),
    "resume": _load("sections", "resume_chunks"),
    "qa": _load("records", "qa_chunks"),
    "tag": _load("records", "tag_chunks"),
    "table": _load("records", "table_chunks"),
    "presentation": _load("pages", "presentation_chunks"),
    "email": _load("pages", "email_chunks"),
    # RAGFlow lets a document use the knowledge-graph method; no graph is built here, its text is chunked as naive
    "knowledge_graph": _naive,
}
CHUNK_METHODS = tuple(_METHODS)


def chunk_document(
    parsed: ParsedDocument, chunk_method: str, parser_config: dict[str, Any] | None, *, filename: str,
    describe_image: Callable[[bytes], str] | None = None,
) -> list[ChunkDraft]:
    """describe_image: the tenant's vision model (JPEG bytes → text), used by the picture method only."""
    method = _METHODS.get((chunk_method or "naive").lower())
    if method is None:
        raise ParseError(f"Unknown chunk method: {chunk_method!r}.")
    config = dict(parser_config or {})
    if method is _picture:
        from ragcore.chunking.picture import picture_chunks

        drafts = picture_chunks(parsed, describe_image)
    else:
        drafts = method(parsed, config, filename)
    out = [d for d in drafts if d.content.strip()]
    children = _children_delimiter(config)
    if children is not None:
        out = split_children(out, children)
    if not out and parsed.blocks and chunk_method not in ("qa", "tag", "table"):
        # blocks existed but nothing survived: never return silence for a file that had text
        raise ParseError(f"No text could be chunked from {suffix_of(filename) or 'the'} file.")
    return out
