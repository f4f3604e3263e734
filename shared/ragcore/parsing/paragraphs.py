"""Rebuild paragraphs from the hard-wrapped lines a PDF text layer gives."""

from __future__ import annotations

import re

_TERMINAL = tuple(".!?:;。！？：；")
_BULLET = re.compile(r"^\s*(?:[-•*●◦▪‣–]|\(?[0-9]{1,3}[.)]|\(?[a-zA-Z][.)]|[IVXLC]+\.)\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
NEVER = 10**9
_SOFT_HYPHENS = ("\ufffe", "\x02", "\u00ad")
_DROP = {ord(c): None for c in _SOFT_HYPHENS}


def split_lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def wrap_width(lines: list[str]) -> int:
    """The length from which a line counts as running to the margin (so it may continue on the next line)."""
    lengths = sorted(len(ln.strip()) for ln in lines if ln.strip())
    if not lengths:
        return NEVER
    # the usual full-line width: 80th percentile, so a few long lines don't raise the bar
    wide = lengths[min(len(lengths) - 1, int(len(lengths) * 0.8))]
    # pages of short lines only (title pages, slides, lists) have no wrapped paragraphs to rebuild
    cjk_heavy = len(_CJK.findall("".join(lines)[:2000])) > 200
    if wide < (15 if cjk_heavy else 40):
        return NEVER
    return max(int(wide * 0.7), 20)


def lines_to_paragraphs(text: str | list[str], threshold: int | None = None) -> list[str]:
    """Join a wrapped line with the next when it runs to the usual width and does not end a sentence.

    Blank lines, bullets and short lines (headings, last lines of paragraphs) end a paragraph.
    """
    lines = split_lines(text) if isinstance(text, str) else text
    if threshold is None:
        threshold = wrap_width(lines)
    paragraphs: list[str] = []
    current = ""
    continues = False
    for raw in lines:
        line = raw.strip()
        if not line:
            if current:
                paragraphs.append(current)
            current, continues = "", False
            continue
        if current.endswith(_SOFT_HYPHENS):
            current = current[:-1] + line  # PDFium marks a word broken across lines with U+FFFE / U+0002
        elif current and continues and not _BULLET.match(line):
            if current.endswith("-") and len(current) > 1 and current[-2].isalpha() and line[:1].islower():
                current = current[:-1] + line
            elif _CJK.match(current[-1]) or _CJK.match(line[0]):
                current += line
            else:
                current += " " + line
        else:
            if current:
                paragraphs.append(current)
            current = line
        continues = len(line) >= threshold and not line.endswith(_TERMINAL)
    if current:
        paragraphs.append(current)
    return [_clean(p) for p in paragraphs if _clean(p)]


def _clean(text: str) -> str:
    return text.translate(_DROP).strip()
