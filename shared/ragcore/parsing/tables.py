"""A table region's words → rows of cells → RAGFlow's HTML table (`<table><caption>…</caption><tr><td>…`).

Cell structure comes from ruling lines where the table has them and from word alignment where it has not, per
axis (a table with only horizontal rules gets its columns from alignment). Rules are found in the page image, not
in the PDF's drawing operators, so a scanned table read by OCR goes through the same code: a rule is a pixel row
(or column) of the region that is dark along most of the table's width (or height). Text never is: glyphs leave
gaps between letters and words.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from ragcore.parsing.types import TextBox

_DARK = 190  # grey level below which a pixel is ink (rules are often thin and anti-aliased to mid grey)
_RULE_FILL = 0.75  # share of the span a pixel row/column must be dark to be a rule
_WORD_GAP = 0.9  # × line height: words closer than this on one line belong to one cell
_COLUMN_GAP = 6.0  # points of white between two columns of an unruled table
MAX_WORDS_PER_CELL = 5.0  # an unruled "table" whose cells average more words is prose in columns


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where flags is True."""
    out: list[tuple[int, int]] = []
    start = -1
    for i, flag in enumerate(flags.tolist()):
        if flag and start < 0:
            start = i
        elif not flag and start >= 0:
            out.append((start, i))
            start = -1
    if start >= 0:
        out.append((start, len(flags)))
    return out


def find_rules(gray: np.ndarray, scale: float, box: tuple[float, float, float, float]) -> tuple[list[float], list[float]]:
    """Horizontal rules (their y) and vertical rules (their x), in points, inside box = (x0, top, x1, bottom).

    gray: the page image (H×W uint8) at `scale` pixels per point."""
    h, w = gray.shape
    pad = 4 * scale
    left, top = max(0, int(box[0] * scale - pad)), max(0, int(box[1] * scale - pad))
    right, bottom = min(w, int(box[2] * scale + pad) + 1), min(h, int(box[3] * scale + pad) + 1)
    if right - left < 4 or bottom - top < 4:
        return [], []
    ink = gray[top:bottom, left:right] < _DARK
    row_fill = ink.mean(axis=1)
    horizontal = [top + (a + b - 1) / 2 for a, b in _runs(row_fill >= _RULE_FILL) if b - a <= 4 * scale]
    # vertical rules span the ruled part of the table (between its outer horizontal rules when it has them)
    if len(horizontal) >= 2:
        y0, y1 = int(horizontal[0]) - top, int(horizontal[-1]) - top + 1
        span = ink[max(0, y0) : max(y0 + 1, y1)]
    else:
        span = ink
    col_fill = span.mean(axis=0)
    vertical = [left + (a + b - 1) / 2 for a, b in _runs(col_fill >= _RULE_FILL) if b - a <= 4 * scale]
    return [y / scale for y in horizontal], [x / scale for x in vertical]


def ruled_areas(gray: np.ndarray, scale: float) -> list[tuple[float, float, float, float]]:
    """Boxes (points) of ruled tables found without a layout model: three or more long horizontal rules of about
    the same extent, stacked at most ~80 pt apart. A lone rule (under a running header) is never one."""
    ink = gray < _DARK
    padded = np.pad(ink, ((0, 0), (1, 1))).astype(np.int8)
    edges = np.diff(padded, axis=1)
    starts, ends = np.argwhere(edges == 1), np.argwhere(edges == -1)  # row-major: the k-th start ends at the k-th end
    long = (ends[:, 1] - starts[:, 1]) >= 60 * scale
    segments = sorted(zip(starts[long, 0].tolist(), starts[long, 1].tolist(), ends[long, 1].tolist(), strict=True))
    rules: list[list[float]] = []  # y, x0, x1 (pixels); a thick rule's rows merged
    for y, x0, x1 in segments:
        if rules and y - rules[-1][0] <= 3 * scale and abs(x0 - rules[-1][1]) <= 3 and abs(x1 - rules[-1][2]) <= 3:
            continue
        rules.append([float(y), float(x0), float(x1)])
    areas: list[tuple[float, float, float, float]] = []
    group: list[list[float]] = []

    def close() -> None:
        if len(group) >= 3:
            areas.append((min(r[1] for r in group) / scale, group[0][0] / scale, max(r[2] for r in group) / scale,
                          group[-1][0] / scale))

    for rule in rules:
        if group:
            last = group[-1]
            overlap = min(last[2], rule[2]) - max(last[1], rule[1])
            if rule[0] - last[0] <= 80 * scale and overlap >= 0.8 * min(last[2] - last[1], rule[2] - rule[1]):
                group.append(rule)
                continue
            close()
        group = [rule]
    close()
    return areas


def _lines(words: Sequence[TextBox]) -> list[list[TextBox]]:
    """Words grouped into text lines (vertical overlap), top to bottom, each left to right."""
    lines: list[list[TextBox]] = []
    for word in sorted(words, key=lambda b: (b.top + b.bottom) / 2):
        middle = (word.top + word.bottom) / 2
        if lines:
            last = lines[-1]
            top = min(b.top for b in last)
            bottom = max(b.bottom for b in last)
            if top <= middle <= bottom:
                last.append(word)
                continue
        lines.append([word])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def _segments(line: list[TextBox]) -> list[list[TextBox]]:
    """A line's words grouped into cell texts: a gap wider than about a space ends a cell."""
    out: list[list[TextBox]] = []
    for word in line:
        height = max(word.bottom - word.top, 1.0)
        if out and word.x0 - out[-1][-1].x1 <= _WORD_GAP * height:
            out[-1].append(word)
        else:
            out.append([word])
    return out


def _bounds(edges: list[float], low: float, high: float) -> list[tuple[float, float]]:
    """Intervals between consecutive rules, the outer ones closed by the table's edges when rules are missing."""
    cuts = sorted(edges)
    if not cuts or cuts[0] - low > 2:
        cuts.insert(0, low)
    if high - cuts[-1] > 2:
        cuts.append(high)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b - a > 2]


def _column_bounds(segments: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Columns of an unruled table: the x ranges that the cells' extents cover, split where white runs down."""
    spans: list[list[float]] = []
    for x0, x1 in sorted(segments):
        if spans and x0 <= spans[-1][1] + _COLUMN_GAP:
            spans[-1][1] = max(spans[-1][1], x1)
        else:
            spans.append([x0, x1])
    return [(a, b) for a, b in spans]


def _index(value: float, bounds: list[tuple[float, float]]) -> int:
    for i, (a, b) in enumerate(bounds):
        if a <= value <= b:
            return i
    return min(range(len(bounds)), key=lambda i: min(abs(value - bounds[i][0]), abs(value - bounds[i][1])))


def table_rows(
    words: Sequence[TextBox], box: tuple[float, float, float, float], rules: tuple[list[float], list[float]] = ([], [])
) -> list[list[str]] | None:
    """The table's cells, row by row (every row as wide as the widest), or None when the words are not a table:
    fewer than 2 rows or 2 columns, or unruled columns of prose."""
    if not words:
        return None
    horizontal, vertical = rules
    x0 = min(min(w.x0 for w in words), box[0])
    x1 = max(max(w.x1 for w in words), box[2])
    top = min(min(w.top for w in words), box[1])
    bottom = max(max(w.bottom for w in words), box[3])
    lines = _lines(words)
    ruled_rows = len(horizontal) >= 2
    ruled_cols = len(vertical) >= 2
    if ruled_rows:
        row_bounds = _bounds(horizontal, top, bottom)
    else:
        row_bounds = [(min(b.top for b in ln), max(b.bottom for b in ln)) for ln in lines]
    if ruled_cols:
        col_bounds = _bounds(vertical, x0, x1)
    else:
        col_bounds = _column_bounds([(s[0].x0, s[-1].x1) for ln in lines for s in _segments(ln)])
    if len(row_bounds) < 2 or len(col_bounds) < 2:
        return None
    cells: list[list[list[TextBox]]] = [[[] for _ in col_bounds] for _ in row_bounds]
    for word in words:
        r = _index((word.top + word.bottom) / 2, row_bounds)
        c = _index((word.x0 + word.x1) / 2, col_bounds)
        cells[r][c].append(word)
    rows = [[_cell_text(cell) for cell in row] for row in cells]
    rows = [row for row in rows if any(row)]
    filled = [len(c.split()) for row in rows for c in row if c]
    if len(rows) < 2 or not filled:
        return None
    if not (ruled_rows or ruled_cols) and sum(filled) / len(filled) > MAX_WORDS_PER_CELL:
        return None
    used = [j for j in range(len(col_bounds)) if any(row[j] for row in rows)]
    if len(used) < 2:
        return None
    return [[row[j] for j in used] for row in rows]


def _cell_text(words: list[TextBox]) -> str:
    return " ".join(" ".join(w.text for w in line) for line in _lines(words)).strip()


def table_html(rows: list[list[str]], caption: str = "") -> str:
    """RAGFlow's table chunk text: one HTML table, the caption inside it."""
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"
