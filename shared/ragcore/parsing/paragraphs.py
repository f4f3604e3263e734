"""Rebuild paragraphs from the hard-wrapped lines a PDF text layer gives."""

from __future__ import annotations

import re

_TERMINAL = tuple(".!?:;。！？：；")
_BULLET = re.compile(r"^\s*(?:[-•*●◦▪‣–]|\(?[0-9]{1,3}[.)]|\(?[a-zA-Z][.)]|[IVXLC]+\.)\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def lines_to_paragraphs(text: str) -> list[str]:
    """Join a wrapped line with the next when it runs to the page's usual width and does not end a sentence.

    Blank lines, bullets and short lines (headings, last lines of paragraphs) end a paragraph.
    """
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lengths = sorted(len(ln) for ln in lines if ln.strip())
    if not lengths:
        return []
    # the usual full-line width: 80th percentile, so a few long lines don't raise the bar
    wide = lengths[min(len(lengths) - 1, int(len(lengths) * 0.8))]
    threshold = max(int(wide * 0.7), 20)
    # pages of short lines only (title pages, slides, lists) have no wrapped paragraphs to rebuild
    cjk_heavy = len(_CJK.findall(text[:2000])) > 200
    if wide < (15 if cjk_heavy else 40):
        threshold = 10**9
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
        if current and continues and not _BULLET.match(line):
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
        continues = len(raw) >= threshold and not line.endswith(_TERMINAL)
    if current:
        paragraphs.append(current)
    return paragraphs
