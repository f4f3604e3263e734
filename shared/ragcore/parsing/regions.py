"""Where text sits on a page, whatever read it: TextBox lists → reading order, paragraphs, RAGFlow `positions`
and a picture of a chunk's region.

Generic over `TextBox` (PDF points from the page's top-left), so OCR boxes and a PDF text layer's boxes use the
same machinery:

    paragraphs(boxes)                    -> list[list[TextBox]]   # one page's boxes in reading order, by paragraph
    paragraph_text(lines)                -> str
    positions_of(boxes)                  -> [[page, x0, x1, top, bottom], …]  # one box per page, ints
    crop(page_images, positions)         -> JPEG bytes of the regions, stacked top to bottom (None if nothing)

A page picture is a `PageImage`: the rendered page (or the image file) and its pixels per point.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING

from ragcore.parsing.types import TextBox

if TYPE_CHECKING:
    from PIL.Image import Image

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef\u3000-\u303f]")
_SENTENCE_END = tuple(".!?:;。！？：；")
CROP_MARGIN_PT = 4.0  # around a chunk's region, so the first and last strokes are not cut
CROP_MAX_SIDE = 2000  # pixels: a chunk image is for a person to look at, not for re-reading
CROP_QUALITY = 80


@dataclass(frozen=True)
class PageImage:
    """A page as pixels: `scale` pixels per PDF point (dpi / 72 for a rendered PDF page, 1.0 for an image file)."""

    page: int  # 1-based
    image: Image
    scale: float


# ---- reading order ------------------------------------------------------------------------------------------
def _height(box: TextBox) -> float:
    return max(box.bottom - box.top, 1e-3)


def lines_of(boxes: Sequence[TextBox]) -> list[list[TextBox]]:
    """Boxes of one page (or column) → text lines top to bottom, each left to right. A box joins a line when it
    overlaps the line vertically by half of the smaller height."""
    lines: list[list[TextBox]] = []
    spans: list[tuple[float, float]] = []
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        for i in range(len(lines) - 1, max(-1, len(lines) - 4), -1):  # only the last few lines can be this one
            top, bottom = spans[i]
            overlap = min(box.bottom, bottom) - max(box.top, top)
            if overlap >= 0.5 * min(_height(box), bottom - top):
                lines[i].append(box)
                spans[i] = (min(top, box.top), max(bottom, box.bottom))
                break
        else:
            lines.append([box])
            spans.append((box.top, box.bottom))
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def _gutter(boxes: Sequence[TextBox]) -> float | None:
    """The x of the gap between two text columns, when the page has two: an empty vertical strip in the middle
    half of the text's width with wide lines (prose, not a table's short cells) on both sides."""
    if len(boxes) < 6:
        return None
    left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    width = right - left
    if width <= 0:
        return None
    narrow = sorted((b for b in boxes if b.x1 - b.x0 < 0.6 * width), key=lambda b: b.x0)
    if len(narrow) < 0.75 * len(boxes):
        return None
    best: tuple[float, float] | None = None
    reach = left
    for box in narrow:
        if box.x0 > reach and (best is None or box.x0 - reach > best[1] - best[0]):
            best = (reach, box.x0)
        reach = max(reach, box.x1)
    if best is None or best[1] - best[0] < 0.015 * width:
        return None
    x = (best[0] + best[1]) / 2
    if not left + 0.25 * width <= x <= left + 0.75 * width:
        return None
    sides = [[b for b in narrow if b.x1 <= x], [b for b in narrow if b.x0 >= x]]
    if any(len(side) < 3 or median(b.x1 - b.x0 for b in side) < 0.25 * width for side in sides):
        return None
    return x


def columns(boxes: Sequence[TextBox]) -> list[list[TextBox]]:
    """One page's boxes as groups to read one after another: the whole page, or — on a two-column page — the left
    then the right column of each band between full-width lines (titles, figures' captions)."""
    x = _gutter(boxes)
    if x is None:
        return [list(boxes)] if boxes else []
    groups: list[list[TextBox]] = []
    left: list[TextBox] = []
    right: list[TextBox] = []
    for box in sorted(boxes, key=lambda b: b.top):
        if box.x0 < x < box.x1:
            groups.extend(g for g in (left, right) if g)
            left, right = [], []
            groups.append([box])
        elif box.x1 <= x:
            left.append(box)
        else:
            right.append(box)
    groups.extend(g for g in (left, right) if g)
    return groups


def paragraphs(boxes: Sequence[TextBox]) -> list[list[list[TextBox]]]:
    """One page's boxes → paragraphs in reading order, each a list of lines. A paragraph ends at a vertical gap
    larger than ~0.8 line heights, a change of text height (a title), or a short line that ends a sentence."""
    out: list[list[list[TextBox]]] = []
    for group in columns(boxes):
        lines = lines_of(group)
        if not lines:
            continue
        heights = [median(_height(b) for b in line) for line in lines]
        body = median(heights)
        right = max(b.x1 for line in lines for b in line)
        left = min(b.x0 for line in lines for b in line)
        current: list[list[TextBox]] = [lines[0]]
        for previous, line, h_prev, h in zip(lines, lines[1:], heights, heights[1:], strict=False):
            gap = min(b.top for b in line) - max(b.bottom for b in previous)
            text = previous[-1].text.rstrip()
            short = previous[-1].x1 < left + 0.7 * (right - left)
            if (gap > 0.8 * max(body, min(h_prev, h)) or max(h, h_prev) > 1.3 * min(h, h_prev)
                    or (short and text.endswith(_SENTENCE_END))):
                out.append(current)
                current = []
            current.append(line)
        out.append(current)
    return out


def _join(left: str, right: str) -> str:
    if not left:
        return right
    if not right:
        return left
    if _CJK.match(left[-1]) or _CJK.match(right[0]):
        return left + right
    if left.endswith("-") and len(left) > 1 and left[-2].isalpha() and right[0].islower():
        return left[:-1] + right  # a word hyphenated at the line's end
    return f"{left} {right}"


def line_text(line: Sequence[TextBox]) -> str:
    text = ""
    for box in line:
        text = _join(text, box.text.strip())
    return text


def paragraph_text(lines: Sequence[Sequence[TextBox]]) -> str:
    text = ""
    for line in lines:
        text = _join(text, line_text(line))
    return text


# ---- positions ----------------------------------------------------------------------------------------------
def positions_of(boxes: Sequence[TextBox]) -> list[list[int]]:
    """RAGFlow's chunk `positions`: per page the boxes cover, [page, x0, x1, top, bottom] in whole points."""
    by_page: dict[int, list[float]] = {}
    for box in boxes:
        span = by_page.get(box.page)
        if span is None:
            by_page[box.page] = [box.x0, box.x1, box.top, box.bottom]
        else:
            span[:] = [min(span[0], box.x0), max(span[1], box.x1), min(span[2], box.top), max(span[3], box.bottom)]
    return [[page, round(s[0]), round(s[1]), round(s[2]), round(s[3])] for page, s in sorted(by_page.items())]


def merge_positions(positions: Sequence[Sequence[int]]) -> list[list[int]]:
    """Boxes in order, without repeats and without the zero placeholders of formats that have no layout."""
    out: list[list[int]] = []
    for pos in positions:
        if len(pos) == 5 and any(pos[1:]) and list(pos) not in out:
            out.append(list(pos))
    return out


def has_layout(positions: Sequence[Sequence[int]]) -> bool:
    return any(len(p) == 5 and (p[2] > p[1] or p[4] > p[3]) for p in positions)


# ---- pictures of regions ------------------------------------------------------------------------------------
def crop(pages: Mapping[int, PageImage], positions: Sequence[Sequence[int]]) -> bytes | None:
    """A JPEG of the chunk's regions: each box cut from its page (with a small margin), stacked top to bottom on
    white. None when no box is on a page we have a picture of."""
    from PIL import Image as PILImage

    pieces = []
    for page, x0, x1, top, bottom in (p for p in positions if len(p) == 5):
        picture = pages.get(page)
        if picture is None or x1 <= x0 or bottom <= top:
            continue
        s = picture.scale
        width, height = picture.image.size
        box = (max(0, int((x0 - CROP_MARGIN_PT) * s)), max(0, int((top - CROP_MARGIN_PT) * s)),
               min(width, int((x1 + CROP_MARGIN_PT) * s) + 1), min(height, int((bottom + CROP_MARGIN_PT) * s) + 1))
        if box[2] > box[0] and box[3] > box[1]:
            pieces.append(picture.image.crop(box).convert("RGB"))
    if not pieces:
        return None
    width = max(p.width for p in pieces)
    height = sum(p.height for p in pieces)
    sheet = PILImage.new("RGB", (width, height), "white")
    y = 0
    for piece in pieces:
        sheet.paste(piece, (0, y))
        y += piece.height
    if max(sheet.size) > CROP_MAX_SIDE:
        sheet.thumbnail((CROP_MAX_SIDE, CROP_MAX_SIDE))
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=CROP_QUALITY)
    return out.getvalue()
