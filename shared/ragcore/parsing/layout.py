"""DeepDOC-style page understanding: (page image, word boxes) → titles, paragraphs, tables and figures in reading
order, without running headers, footers or page numbers.

    page = analyze_page(rgb, scale, words, number, width, height)   # words: TextBox from the text layer or OCR
    blocks = layout_blocks([page, …])                               # the document's (or task range's) blocks

The layout model (layout_model.py) labels regions; the text's own geometry decides the rest, because the model
(trained on Chinese documents, CDLA) is a hint rather than an oracle: on a page of two prose columns it may call the
whole body a table. So:
  - a "table" region becomes a table only when its words form a grid (tables.py); else its words are text;
  - words in "header"/"footer" regions near the page's edges are dropped, and so are lines in the top/bottom
    margins that are page numbers or repeat (digits aside) on many pages of the range;
  - "title" regions (or lines clearly larger than the page's body text) become titles, levelled by size;
  - reading order is a recursive XY cut over lines, tables and figures: columns are split where white runs from
    top to bottom, bands where it runs across, and consecutive bands that share a gutter are read as columns;
  - lines join into paragraphs while they stay in one model region, one size and one column, with no wide gap;
  - a figure becomes a text block of its caption (and any text inside it); a table's caption goes inside it.
Every block carries RAGFlow-style positions [page, x0, x1, top, bottom] in points from the page's top-left.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ragcore.parsing.layout_model import Region
from ragcore.parsing.tables import find_rules, ruled_areas, table_html, table_rows
from ragcore.parsing.types import Block, TextBox

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in points
Detector = Callable[[np.ndarray], list[Region]]

_MARGIN = 0.09  # top/bottom share of the page where running headers, footers and page numbers live
_EDGE_REGION = 0.15  # header/footer regions further from the edge than this are not trusted
_LINE_GAP = 1.8  # × line height: a wider horizontal gap splits a line (two columns, a label and its value)
_PARA_GAP = 0.75  # × line height: a wider vertical gap ends a paragraph
_GUTTER = 9.0  # points of white from top to bottom that separate two columns
_TITLE_RATIO = 1.25
_MAX_TITLE_WORDS = 15
_PAGE_NUMBER = re.compile(r"^\s*(?:[-–—]\s*)?(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?\s*$", re.I)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef\u3000-\u303f]")
_LIST_ITEM = re.compile(r"^\s*(?:[•◦▪▫‣●○■□·∙–—*-]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")  # a list item starts a paragraph
_CAPTION = re.compile(r"^\s*(?:table|tab\.|fig(?:ure)?\.?|表|图)\s*[\dIVX]", re.I)


@dataclass
class Item:
    """One thing on a page in reading order: a line of text (before paragraphs are built), a table or a figure."""

    kind: str  # text | title | margin | table | figure
    box: Box
    text: str = ""
    height: float = 0.0  # line height (text and titles): a font size proxy
    region: int = -1  # index of the model region the line sits in (-1: none)
    boxes: list[Box] = field(default_factory=list)  # every box the item covers (a figure and its caption)


@dataclass
class PageLayout:
    page: int
    width: float
    height: float
    items: list[Item]


def _center_in(word: TextBox | Item, box: Box, pad: float = 2.0) -> bool:
    if isinstance(word, TextBox):
        cx, cy = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
    else:
        cx, cy = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
    return box[0] - pad <= cx <= box[2] + pad and box[1] - pad <= cy <= box[3] + pad


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _word_box(w: TextBox) -> Box:
    return (w.x0, w.top, w.x1, w.bottom)


def text_lines(words: Sequence[TextBox]) -> list[list[TextBox]]:
    """Words → line pieces: words that share a baseline band and follow each other without a wide gap."""
    rows: list[list[TextBox]] = []
    for word in sorted(words, key=lambda b: ((b.top + b.bottom) / 2, b.x0)):
        middle = (word.top + word.bottom) / 2
        if rows and min(b.top for b in rows[-1]) <= middle <= max(b.bottom for b in rows[-1]):
            rows[-1].append(word)
        else:
            rows.append([word])
    pieces: list[list[TextBox]] = []
    for row in rows:
        row.sort(key=lambda b: b.x0)
        current = [row[0]]
        for word in row[1:]:
            height = max(word.bottom - word.top, current[-1].bottom - current[-1].top, 1.0)
            if word.x0 - current[-1].x1 > _LINE_GAP * height:
                pieces.append(current)
                current = [word]
            else:
                current.append(word)
        pieces.append(current)
    return pieces


def _best_region(box: Box, regions: list[Region]) -> int:
    best, best_score = -1, -1.0
    for i, region in enumerate(regions):
        if _center_in_box(box, region) and region.score > best_score:
            best, best_score = i, region.score
    return best


def _center_in_box(box: Box, region: Region, pad: float = 2.0) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region.x0 - pad <= cx <= region.x1 + pad and region.top - pad <= cy <= region.bottom + pad


def analyze_page(
    rgb: np.ndarray | None,
    scale: float,
    words: Sequence[TextBox],
    page: int,
    width: float,
    height: float,
    *,
    detect: Detector | None = None,
    regions: list[Region] | None = None,
) -> PageLayout:
    """One page's items in reading order. rgb: the page rendered at `scale` pixels per point (None: no image, so
    no model and no ruling lines); regions: already detected ones, in points (else `detect` runs on rgb)."""
    if regions is None:
        regions = []
        if rgb is not None and detect is not None:
            regions = [Region(r.kind, r.x0 / scale, r.top / scale, r.x1 / scale, r.bottom / scale, r.score)
                       for r in detect(rgb)]
    gray: np.ndarray | None = None  # for ruling lines, made when a table region asks for it
    if rgb is not None and not any(r.kind == "table" for r in regions):
        # a page where the model saw no table (or there is no model): grids of rules in the image are tables
        gray = rgb.min(axis=2)
        regions = [*regions, *(Region("table", *box, 0.5) for box in ruled_areas(gray, scale))]
    remaining = [w for w in words if w.text.strip()]
    items: list[Item] = []

    # tables first: a table region whose words make a grid takes them
    for region in sorted((r for r in regions if r.kind == "table"), key=lambda r: -r.score):
        box = (region.x0, region.top, region.x1, region.bottom)
        inside = [w for w in remaining if _center_in(w, box)]
        if gray is None and rgb is not None:
            gray = rgb.min(axis=2)  # the darkest channel: coloured rules count as ink
        rules = find_rules(gray, scale, box) if gray is not None else ([], [])
        rows = table_rows(inside, box, rules)
        if rows is None:
            continue
        taken = {id(w) for w in inside}
        remaining = [w for w in remaining if id(w) not in taken]
        items.append(Item("table", _union([box, *map(_word_box, inside)]), table_html(rows)))

    # figures keep the words drawn inside them (a misread text region must not lose its text)
    for region in (r for r in regions if r.kind == "figure"):
        box = (region.x0, region.top, region.x1, region.bottom)
        inside = [w for w in remaining if _center_in(w, box)]
        taken = {id(w) for w in inside}
        remaining = [w for w in remaining if id(w) not in taken]
        text = " ".join(" ".join(w.text for w in ln) for ln in text_lines(inside))
        items.append(Item("figure", box, text, boxes=[box]))

    trusted = [r for r in regions if r.kind not in ("table", "figure")
               and not (r.kind == "header" and r.bottom > height * _EDGE_REGION)
               and not (r.kind == "footer" and r.top < height * (1 - _EDGE_REGION))]
    lines: list[Item] = []
    for piece in text_lines(remaining):
        box = _union([_word_box(w) for w in piece])
        where = _best_region(box, trusted)
        kind = trusted[where].kind if where >= 0 else "text"
        if kind in ("header", "footer"):
            continue
        text = " ".join(w.text for w in piece)
        in_margin = box[3] < height * _MARGIN or box[1] > height * (1 - _MARGIN)
        if in_margin and _PAGE_NUMBER.match(text):
            continue
        line_kind = "title" if kind == "title" else "margin" if in_margin else "text"
        lines.append(Item(line_kind, box, text, height=box[3] - box[1], region=where))
    _titles_by_size(lines)
    _attach_captions(items, lines, trusted)
    ordered = reading_order([*items, *lines])
    return PageLayout(page, width, height, _paragraphs(ordered))


def _titles_by_size(lines: list[Item]) -> None:
    """Lines clearly larger than the page's body text, short and not ending a sentence, are titles."""
    sizes: Counter[float] = Counter()
    for line in lines:
        if line.kind == "text":
            sizes[round(line.height, 1)] += len(line.text)
    if not sizes:
        return
    body = sizes.most_common(1)[0][0]
    for line in lines:
        stripped = line.text.strip()
        if (line.kind == "text" and line.height >= body * _TITLE_RATIO and len(stripped.split()) <= _MAX_TITLE_WORDS
                and not stripped.endswith((".", ",", ";", ":", "。", "，", "；", "：")) and any(c.isalpha() for c in stripped)):
            line.kind = "title"


def _attach_captions(items: list[Item], lines: list[Item], regions: list[Region]) -> None:
    """A caption line (a caption region, or "Table 2: …" / "Figure 3 …") right above or below a table or figure
    becomes part of it; each table or figure takes at most one caption block (its adjacent lines)."""
    for item in items:
        if item.kind not in ("table", "figure"):
            continue
        wanted = "table_caption" if item.kind == "table" else "figure_caption"
        best: list[Item] = []
        for line in lines:
            if line.kind not in ("text", "title"):
                continue
            region_kind = regions[line.region].kind if line.region >= 0 else ""
            if region_kind != wanted and not _CAPTION.match(line.text):
                continue
            above = item.box[1] - line.box[3]
            below = line.box[1] - item.box[3]
            near = -2 <= above <= 3 * line.height or -2 <= below <= 3 * line.height
            overlaps = min(line.box[2], item.box[2]) > max(line.box[0], item.box[0])
            if near and overlaps:
                best.append(line)
        if not best:
            continue
        best.sort(key=lambda ln: ln.box[1])
        caption = " ".join(ln.text for ln in best)
        for line in best:
            lines.remove(line)
        if item.kind == "table":
            item.text = item.text.replace("<table>", f"<table><caption>{_escape(caption)}</caption>", 1)
        else:
            item.text = f"{caption}\n{item.text}".strip()
        item.boxes = [*(item.boxes or [item.box]), *(ln.box for ln in best)]


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _free(intervals: list[tuple[float, float]], low: float, high: float) -> list[tuple[float, float]]:
    """The parts of [low, high] that no interval covers."""
    out: list[tuple[float, float]] = []
    cursor = low
    for a, b in sorted(intervals):
        if a > cursor:
            out.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < high:
        out.append((cursor, high))
    return out


def _gutters(items: list[Item], low: float, high: float) -> list[tuple[float, float]]:
    return [(a, b) for a, b in _free([(i.box[0], i.box[2]) for i in items], low, high)
            if b - a >= _GUTTER and a > low and b < high]


def reading_order(items: list[Item]) -> list[Item]:
    """Recursive XY cut: columns (white from top to bottom) left to right, else bands top to bottom, where
    consecutive bands sharing a gutter are read together as columns."""
    if len(items) <= 1:
        return list(items)
    low, high = min(i.box[0] for i in items), max(i.box[2] for i in items)
    gutters = _gutters(items, low, high)
    if gutters:
        columns: list[list[Item]] = [[] for _ in range(len(gutters) + 1)]
        for item in items:
            columns[sum(1 for g in gutters if item.box[0] >= g[1])].append(item)
        return [x for column in columns for x in reading_order(column)]
    bands: list[list[Item]] = []
    bottom = float("-inf")
    for item in sorted(items, key=lambda i: (i.box[1], i.box[0])):
        if bands and item.box[1] < bottom - 1.0:  # overlaps the band so far (1 pt of slack for touching boxes)
            bands[-1].append(item)
            bottom = max(bottom, item.box[3])
        else:
            bands.append([item])
            bottom = item.box[3]
    if len(bands) == 1:
        return sorted(items, key=lambda i: (i.box[1], i.box[0]))
    groups: list[list[Item]] = []
    shared: list[tuple[float, float]] = []
    for band in bands:
        free = [(a, b) for a, b in _free([(i.box[0], i.box[2]) for i in band], low, high) if b - a >= _GUTTER]
        common = [(max(a, c), min(b, d)) for a, b in shared for c, d in free if min(b, d) - max(a, c) >= _GUTTER
                  and max(a, c) > low and min(b, d) < high]
        if groups and common:
            groups[-1].extend(band)
            shared = common
        else:
            groups.append(list(band))
            shared = free
    if len(groups) == 1:
        return sorted(items, key=lambda i: (i.box[1], i.box[0]))
    return [x for group in groups for x in reading_order(group)]


def _paragraphs(ordered: list[Item]) -> list[Item]:
    """Consecutive lines of one kind, region and size, stacked without a wide gap, become one paragraph. A line
    that ends a sentence well short of the paragraph's right edge ends it (paragraphs set without spacing)."""
    out: list[Item] = []
    last: Box | None = None  # the previous line's own box
    for item in ordered:
        previous = out[-1] if out else None
        if (
            previous is not None
            and last is not None
            and item.kind in ("text", "title", "margin")
            and (previous.kind == item.kind or {previous.kind, item.kind} == {"text", "margin"})
            and previous.region == item.region
            and abs(previous.height - item.height) <= 0.15 * max(previous.height, item.height)
            and 0 - item.height <= item.box[1] - previous.box[3] <= _PARA_GAP * item.height
            and min(previous.box[2], item.box[2]) > max(previous.box[0], item.box[0])
            and not _ends_short(previous, last, item)
            and not _LIST_ITEM.match(item.text)
        ):
            previous.text = _join(previous.text, item.text)
            previous.box = _union([previous.box, item.box])
            if previous.kind == "margin":  # a margin line that continues a paragraph is body text
                previous.kind = item.kind
            last = item.box
            continue
        out.append(Item(item.kind, item.box, item.text, item.height, item.region, list(item.boxes)))
        last = item.box
    return out


def _ends_short(paragraph: Item, line: Box, following: Item) -> bool:
    """The typesetter's test: the line ends a sentence and the next line's first word would have fitted in the
    room left at its end, so the break was deliberate. A line much shorter than the paragraph ends it too."""
    if paragraph.kind == "title":
        return False
    width = max(paragraph.box[2], following.box[2]) - min(paragraph.box[0], following.box[0])
    if line[2] - line[0] < 0.6 * width:
        return True  # a line much shorter than its neighbours: a paragraph's last line, or a heading in body size
    if not paragraph.text.rstrip().endswith((".", "!", "?", ":", "。", "！", "？", "：")):
        return False
    words = following.text.split()
    if not words:
        return False
    share = len(words[0]) / max(len(following.text), 1)
    first_word = share * (following.box[2] - following.box[0])
    return paragraph.box[2] - line[2] > first_word + 0.3 * following.height


def _join(left: str, right: str) -> str:
    if left.endswith("-") and len(left) > 1 and left[-2].isalpha() and right[:1].islower():
        return left[:-1] + right  # a word hyphenated across lines
    if left and right and _CJK.match(left[-1]) and _CJK.match(right[0]):
        return left + right  # Chinese/Japanese lines wrap without a space
    return f"{left} {right}"


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def layout_blocks(pages: list[PageLayout]) -> list[Block]:
    """Blocks of the analysed pages: running margin lines (repeating on ≥ 3 pages and ≥ 30 % of them) dropped,
    titles levelled by line height (largest = 1)."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_running_key(i.text) for i in page.items if i.kind == "margin"})
    running = {k for k, n in counts.items() if len(pages) >= 3 and n >= max(3, 0.3 * len(pages))}
    levels = _title_levels(sorted({round(i.height, 1) for p in pages for i in p.items if i.kind == "title"}, reverse=True))
    blocks: list[Block] = []
    for page in pages:
        for item in page.items:
            if item.kind == "margin" and _running_key(item.text) in running:
                continue
            positions = [_position(page.page, b) for b in (item.boxes or [item.box])]
            meta = {"positions": positions}
            if item.kind == "title":
                blocks.append(Block(item.text, page.page, "title", levels.get(round(item.height, 1), 1), meta))
            elif item.kind == "table":
                blocks.append(Block(item.text, page.page, "table", meta={**meta, "html": True}))
            elif item.text.strip():
                blocks.append(Block(item.text, page.page, "text", meta=meta))
    return blocks


def _title_levels(heights: list[float]) -> dict[float, int]:
    """Title line heights (largest first) → level: a new level where the height drops by more than 8 %, so one
    heading style whose lines measure a little differently stays one level."""
    levels: dict[float, int] = {}
    level, top = 0, 0.0
    for height in heights:
        if not level or height < top * 0.92:
            level, top = min(level + 1, 6), height
        levels[height] = level
    return levels


def _position(page: int, box: Box) -> list[int]:
    return [page, round(box[0]), round(box[2]), round(box[1]), round(box[3])]
