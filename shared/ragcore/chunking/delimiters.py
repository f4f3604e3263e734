"""parser_config.delimiter: bare characters are one-character delimiters, `backquoted` text one multi-character one.

Same grammar as RAGFlow: "\\n!?;" is four delimiters; "\\n`##`" is a newline and "##". Escapes typed as text
("\\\\n", "\\\\t") count as the control characters, because API users send the two-character form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BACKTICK = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Delimiters:
    items: tuple[str, ...]  # longest first
    custom: bool  # a backquoted delimiter was given: every piece is its own chunk (RAGFlow's rule)
    pattern: re.Pattern[str] | None


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\n").replace("\r\n", "\n").replace("\r", "\n")


def parse_delimiters(field: str | None) -> Delimiters:
    text = _unescape(field or "")
    found: list[str] = []
    cursor = 0
    for match in _BACKTICK.finditer(text):
        found.extend(text[cursor : match.start()])
        found.append(match.group(1))
        cursor = match.end()
    found.extend(text[cursor:])
    unique = sorted(dict.fromkeys(d for d in found if d), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(d) for d in unique)) if unique else None
    return Delimiters(tuple(unique), bool(_BACKTICK.search(text)), pattern)


def split_text(text: str, delims: Delimiters) -> list[tuple[str, str]]:
    """(joiner, piece) pairs: text cut at every delimiter; joiner is what stood between it and the piece before.

    Whitespace and multi-character (custom) delimiters are dropped (the joiner remembers a dropped line break so
    pieces of one block can be put back together faithfully); a one-character punctuation delimiter ("。", "!",
    ";") stays at the end of the sentence it closes, so no chunk loses its punctuation.
    """
    if delims.pattern is None:
        return [("", text)] if text.strip() else []
    pieces: list[tuple[str, str]] = []
    start = 0
    joiner = ""
    for match in delims.pattern.finditer(text):
        token = match.group(0)
        keep = len(token) == 1 and not token.isspace() and not delims.custom
        end = match.end() if keep else match.start()
        piece = text[start:end]
        if piece.strip():
            pieces.append((joiner, piece))
            joiner = ""
        elif keep and pieces:
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + piece)
        if not keep:
            joiner = "\n" if ("\n" in token or len(token) > 1 or joiner == "\n") else (joiner or " ")
        start = match.end()
    tail = text[start:]
    if tail.strip():
        pieces.append((joiner, tail))
    return pieces
