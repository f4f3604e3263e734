"""What a PDF text layer tells without a layout model: font sizes (titles) and repeated lines (running headers).

RAGFlow's DeepDOC finds titles, headers and footers with vision models. From the text layer we get each line's
font size: lines clearly larger than the body text, short and not ending a sentence, are titles, ranked by size
(largest = level 1). A first or last line that repeats (page number ignored) on many pages of the range is a running
header or footer and is dropped, and so is a page number alone on such a line.
"""

from __future__ import annotations

import re
from collections import Counter

from ragcore.parsing.paragraphs import lines_to_paragraphs, wrap_width
from ragcore.parsing.types import Block

Line = tuple[str, float]  # text, font size in points (0 when unknown)

_EDGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}\s+|\s+(?:page\s*)?\d{1,4}$", re.IGNORECASE)
_TITLE_RATIO = 1.15
_MAX_TITLE_WORDS = 15


_PAGE_NUMBER = re.compile(r"^\s*(?:[-–—]\s*)?(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?\s*$", re.I)


def _edge_key(text: str) -> str:
    """A header/footer line without the page number at its start or end ("Chapter 2: Syntax 17")."""
    return _EDGE_NUMBER.sub("", text.strip())


def drop_running_lines(pages: dict[int, list[Line]], body: float = 0.0) -> dict[int, list[Line]]:
    """Without the page numbers and running headers/footers at the top and bottom of pages.

    Lines larger than the body text are titles and never count as running lines."""

    def edges_of(lines: list[Line]) -> set[int]:
        nonblank = [i for i, (t, _) in enumerate(lines) if t.strip()]
        return set(nonblank[:2] + nonblank[-2:])

    counts: Counter[str] = Counter()
    for lines in pages.values():
        counts.update({_edge_key(lines[i][0]) for i in edges_of(lines) if not (body and lines[i][1] > body * 1.05)})
    running = {k for k, n in counts.items() if k and len(pages) >= 3 and n >= max(3, len(pages) * 0.3)}
    out: dict[int, list[Line]] = {}
    for page, lines in pages.items():
        edge = edges_of(lines)
        out[page] = [
            ln for i, ln in enumerate(lines)
            if i not in edge
            or not (_PAGE_NUMBER.match(ln[0]) or (_edge_key(ln[0]) in running and not (body and ln[1] > body * 1.05)))
        ]
    return out


def body_size(pages: dict[int, list[Line]]) -> float:
    sizes: Counter[float] = Counter()
    for lines in pages.values():
        for text, size in lines:
            if size > 0:
                sizes[round(size, 1)] += len(text.strip())
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _is_title(text: str, size: float, body: float) -> bool:
    stripped = text.strip()
    return (
        body > 0
        and size >= body * _TITLE_RATIO
        and 0 < len(stripped.split()) <= _MAX_TITLE_WORDS
        and len(stripped) <= 200
        and not stripped.endswith((".", ",", ";", "。", "，", "；"))
        and any(ch.isalpha() for ch in stripped)
    )


def title_levels(pages: dict[int, list[Line]], body: float) -> dict[float, int]:
    """Distinct title sizes (within 0.5 pt) → level, largest first, at most 6 levels."""
    sizes = sorted({round(s * 2) / 2 for lines in pages.values() for t, s in lines if _is_title(t, s, body)}, reverse=True)
    return {s: min(i + 1, 6) for i, s in enumerate(sizes)}


def page_blocks(page: int, lines: list[Line], body: float, levels: dict[float, int]) -> list[Block]:
    """Title lines (consecutive ones of one size joined) and paragraphs of the rest, in page order."""
    threshold = wrap_width([t for t, _ in lines])
    blocks: list[Block] = []
    run: list[str] = []

    def flush() -> None:
        blocks.extend(Block(text=p, page=page) for p in lines_to_paragraphs(run, threshold))
        run.clear()

    for text, size in lines:
        if _is_title(text, size, body):
            flush()
            level = levels.get(round(size * 2) / 2, 1)
            previous = blocks[-1] if blocks else None
            if previous is not None and previous.kind == "title" and previous.level == level and previous.meta.get("open"):
                previous.text += " " + text.strip()
            else:
                blocks.append(Block(text=text.strip(), page=page, kind="title", level=level, meta={"open": True}))
            continue
        if blocks and blocks[-1].kind == "title":
            blocks[-1].meta.pop("open", None)
        run.append(text)
    flush()
    for block in blocks:
        block.meta.pop("open", None)
    return blocks
