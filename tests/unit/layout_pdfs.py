"""PDFs with a page layout, written by hand for the DeepDOC tests and bench: text placed anywhere, ruling lines.

    canvas = PdfCanvas()
    page = canvas.page()
    page.text(72, 80, "Annual report", size=20, bold=True)   # x, top (points from the page's top-left)
    page.line(72, 100, 540, 100)                               # a ruling line
    data = canvas.pdf()

and the documents the tests assert on: report_pages() (running header, footer and page numbers),
two_column_page(), table_page() (a ruled and an unruled table). Each builder returns the PDF and what a reader
must find in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.unit.files_factory import serialize_pdf

PAGE_W, PAGE_H = 612, 792


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


# Helvetica's advance widths (1/1000 em, from its AFM), so lines wrap as a typesetter would wrap them
_HELVETICA = dict(zip("abcdefghijklmnopqrstuvwxyz", [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
                                                    556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500], strict=True))
_HELVETICA |= dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
                                                    778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611], strict=True))
_HELVETICA |= {" ": 278, ".": 278, ",": 278, ":": 278, "-": 333}


def text_width(text: str, size: float) -> float:
    return sum(_HELVETICA.get(ch, 556) for ch in text) * size / 1000


@dataclass
class Page:
    ops: list[str] = field(default_factory=list)

    def text(self, x: float, top: float, text: str, *, size: float = 10, bold: bool = False) -> None:
        """Text whose box starts `top` points from the page's top edge (the baseline is one font size lower)."""
        font = "F2" if bold else "F1"
        baseline = PAGE_H - top - size
        self.ops.append(f"BT /{font} {size} Tf 1 0 0 1 {x:.2f} {baseline:.2f} Tm ({_escape(text)}) Tj ET")

    def line(self, x0: float, top0: float, x1: float, top1: float, width: float = 0.8) -> None:
        self.ops.append(f"{width} w {x0:.2f} {PAGE_H - top0:.2f} m {x1:.2f} {PAGE_H - top1:.2f} l S")

    def paragraph(self, x: float, top: float, width: float, text: str, *, size: float = 10, leading: float = 1.35) -> float:
        """Text wrapped to `width`; returns the top of the next line."""
        line = ""
        for word in text.split():
            candidate = f"{line} {word}".strip()
            if line and text_width(candidate, size) > width:
                self.text(x, top, line, size=size)
                top += size * leading
                line = word
            else:
                line = candidate
        if line:
            self.text(x, top, line, size=size)
            top += size * leading
        return top


class PdfCanvas:
    def __init__(self, crop: tuple[float, float, float, float] | None = None) -> None:
        """crop: a /CropBox (left, bottom, right, top in PDF space) for every page: what a viewer shows."""
        self.pages: list[Page] = []
        self.crop = crop

    def page(self) -> Page:
        self.pages.append(Page())
        return self.pages[-1]

    def pdf(self) -> bytes:
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        catalog = add(b"")
        pages_obj = add(b"")
        regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
        kids = []
        crop = f"/CropBox [{' '.join(str(v) for v in self.crop)}] " if self.crop else ""
        for page in self.pages:
            stream = "\n".join(page.ops).encode("latin-1")
            content = add(f"<< /Length {len(stream)} >>".encode() + b"\nstream\n" + stream + b"\nendstream")
            kids.append(add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] {crop}"
                f"/Resources << /Font << /F1 {regular} 0 R /F2 {bold} 0 R >> >> /Contents {content} 0 R >>".encode()
            ))
        return serialize_pdf(objects, catalog, pages_obj, kids)


_WORDS = ["data", "model", "river", "system", "engine", "window", "garden", "signal", "market", "paper", "value",
          "network", "structure", "policy", "energy", "letter", "station", "travel", "income", "pattern", "method",
          "result", "contract", "member", "process", "language", "storage"]


def prose(seed: int, words: int = 60, marker: str = "") -> str:
    """Deterministic sentences; `marker` (a unique word) starts the text so a test can find where it went."""
    import random

    rng = random.Random(seed)
    out = [marker] if marker else []
    while len(out) < words:
        sentence = [rng.choice(_WORDS) for _ in range(rng.randint(6, 12))]
        sentence[0] = sentence[0].capitalize()
        out.extend(sentence[:-1] + [sentence[-1] + "."])
    return " ".join(out)


HEADER = "ACME Corporation Quarterly Review"
FOOTER = "Confidential - internal use only"


_ORDINALS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]


def report_pages(count: int = 4) -> tuple[bytes, list[str], list[str]]:
    """Pages with a running header (text and rule), a footer, a page number, a title and body paragraphs.

    Returns the PDF, the paragraph markers in reading order and the titles."""
    canvas = PdfCanvas()
    markers: list[str] = []
    titles: list[str] = []
    for number in range(1, count + 1):
        page = canvas.page()
        page.text(72, 36, HEADER, size=9)
        page.line(72, 50, 540, 50, width=0.5)
        title = f"Chapter {_ORDINALS[number % len(_ORDINALS)]} overview of results"  # no digits: page numbers are
        titles.append(title)  # the only numbers on the page, so a test can tell they were dropped
        top = page.paragraph(72, 90, 460, title, size=18) + 14
        for k in range(4):
            marker = f"Para{_ORDINALS[number % 10]}{'abcd'[k]}"
            markers.append(marker)
            top = page.paragraph(72, top, 460, prose(number * 10 + k, 70, marker)) + 10
        page.text(72, 752, FOOTER, size=8)
        page.text(300, 752, str(number), size=9)
    return canvas.pdf(), markers, titles


def two_column_page() -> tuple[bytes, list[str]]:
    """A full-width title, then two columns of three paragraphs each.

    Returns the PDF and the paragraphs in reading order (left column, then right)."""
    canvas = PdfCanvas()
    page = canvas.page()
    page.text(72, 60, "A study of two columns", size=20)
    paragraphs = []
    for column, x in enumerate((72, 324)):
        top = 110.0
        for k in range(3):
            text = prose(100 + column * 10 + k, 75, f"Col{'LR'[column]}p{'abc'[k]}")
            paragraphs.append(text)
            top = page.paragraph(x, top, 216, text) + 14
    return canvas.pdf(), paragraphs


RULED = [
    ["Region", "Revenue", "Cost", "Margin"],
    ["North", "1200", "800", "400"],
    ["South", "950", "700", "250"],
    ["East", "1430", "910", "520"],
    ["West", "780", "640", "140"],
]
UNRULED = [
    ["Product", "Units", "Price", "Supplier"],
    ["Widget alpha", "35", "4.50", "Globex"],
    ["Gadget beta", "12", "19.99", "Initech"],
    ["Sprocket gamma", "410", "0.75", "Umbrella"],
    ["Gizmo delta", "8", "120.00", "Hooli"],
]


def table_page(crop: tuple[float, float, float, float] | None = None) -> tuple[bytes, list[list[list[str]]]]:
    """A paragraph, a table with ruling lines (a caption above it), a paragraph, a table without any line."""
    canvas = PdfCanvas(crop)
    page = canvas.page()
    top = page.paragraph(72, 60, 460, prose(7, 50, "Intro"))
    top += 16
    page.text(72, top, "Table 1: Revenue by region", size=10, bold=True)
    top += 20
    widths = [120, 100, 100, 100]
    row_h = 20.0
    left, right = 72.0, 72.0 + sum(widths)
    for r, row in enumerate(RULED):
        y = top + r * row_h
        page.line(left, y, right, y)
        x = left
        for c, cell in enumerate(row):
            page.text(x + 6, y + 5, cell, size=10, bold=r == 0)
            x += widths[c]
    bottom = top + len(RULED) * row_h
    page.line(left, bottom, right, bottom)
    x = left
    for w in [0, *widths]:
        x += w
        page.line(x, top, x, bottom)
    top = page.paragraph(72, bottom + 30, 460, prose(8, 50, "Middle")) + 20
    page.text(72, top, "Table 2: Products and suppliers", size=10, bold=True)
    top += 22
    columns = [72, 200, 270, 340]
    for r, row in enumerate(UNRULED):
        for c, cell in enumerate(row):
            page.text(columns[c], top + r * 16, cell, size=10, bold=r == 0)
    page.paragraph(72, top + len(UNRULED) * 16 + 30, 460, prose(9, 40, "Closing"))
    return canvas.pdf(), [RULED, UNRULED]
