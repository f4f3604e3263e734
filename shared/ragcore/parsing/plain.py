"""Plain text, source code and log files: paragraphs split on blank lines, line breaks kept."""

from __future__ import annotations

import re

from ragcore.parsing.guards import decode_text, looks_binary, require_bytes
from ragcore.parsing.types import Block, ParsedDocument, ParseError

_BLANK = re.compile(r"\n[ \t]*\n+")


def read_text(data: bytes, kind: str = "text") -> str:
    require_bytes(data)
    if looks_binary(data):
        raise ParseError(f"The file is not a {kind} file: it holds binary data.")
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not text.strip():
        raise ParseError("The file is empty.")
    return text


def parse_plain(data: bytes, *, kind: str = "text") -> ParsedDocument:
    """kind "code" marks every block as code (chunkers keep its lines intact)."""
    text = read_text(data)
    blocks = [Block(text=part.strip("\n"), kind=kind) for part in _BLANK.split(text) if part.strip()]
    return ParsedDocument(blocks=blocks, pages=1, meta={})
