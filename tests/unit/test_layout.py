"""layout_recognize "DeepDOC" on PDFs: tables as HTML chunks, no running headers/footers/page numbers, reading
order on two columns, positions from the boxes; "Plain Text" keeps the text-layer reader."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest
from ragcore.chunking import ChunkDraft, chunk_document
from ragcore.parsing import parse_document, uses_deepdoc
from ragcore.parsing.layout import Item, reading_order
from ragcore.parsing.tables import find_rules, table_rows
from ragcore.parsing.types import TextBox

from tests.unit.files_factory import lorem_pages, make_pdf
from tests.unit.layout_pdfs import FOOTER, HEADER, report_pages, table_page, two_column_page

NAIVE = {"chunk_token_num": 512, "delimiter": "\n", "layout_recognize": "DeepDOC"}


def deepdoc_chunks(name: str, data: bytes, config: dict[str, object] | None = None) -> list[ChunkDraft]:
    config = {**NAIVE, **(config or {})}
    parsed = parse_document(name, data, layout_recognize=config["layout_recognize"])
    return chunk_document(parsed, "naive", config, filename=name)


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.caption = ""
        self._where = ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
        self._where = tag

    def handle_endtag(self, tag: str) -> None:
        self._where = ""

    def handle_data(self, data: str) -> None:
        if self._where in ("td", "th"):
            self.rows[-1][-1] += data
        elif self._where == "caption":
            self.caption += data


def cells(html: str) -> tuple[list[list[str]], str]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows, parser.caption


def test_tables_become_html_chunks_with_every_cell() -> None:
    data, (ruled, unruled) = table_page()
    drafts = deepdoc_chunks("tables.pdf", data)
    tables = [d for d in drafts if d.kind == "table"]
    assert len(tables) == 2
    assert all(t.content.startswith("<table><caption>") and t.content.endswith("</table>") for t in tables)
    assert cells(tables[0].content) == (ruled, "Table 1: Revenue by region")
    assert cells(tables[1].content) == (unruled, "Table 2: Products and suppliers")
    # the tables' words are nowhere else, and the prose around them is intact, in order
    text = "\n".join(d.content for d in drafts if d.kind != "table")
    assert "Revenue" not in text and "Sprocket" not in text and "Table 1" not in text
    assert text.index("Intro") < text.index("Middle") < text.index("Closing")
    order = [d.content.split()[0] if d.kind != "table" else cells(d.content)[1] for d in drafts]
    assert order.index("Table 1: Revenue by region") < order.index("Table 2: Products and suppliers")
    # positions: the table's box and its caption's, in points on page 1
    top_box = tables[0].positions[0]
    assert tables[0].page_num == [1] and top_box[0] == 1
    assert 60 <= top_box[1] <= 72 and 492 <= top_box[2] <= 515  # the grid spans x 72-492
    assert 98 <= top_box[4] - top_box[3] <= 120  # five rows of 20 pt


def test_running_headers_footers_and_page_numbers_appear_in_no_chunk() -> None:
    data, markers, titles = report_pages(5)
    parsed = parse_document("report.pdf", data, layout_recognize="DeepDOC")
    drafts = chunk_document(parsed, "naive", {**NAIVE, "chunk_token_num": 128}, filename="report.pdf")
    text = "\n".join(d.content for d in drafts)
    assert HEADER not in text and "ACME" not in text
    assert FOOTER not in text and "Confidential" not in text
    assert not re.search(r"\b\d+\b", text), "a page number survived"
    positions = [text.index(m) for m in markers]
    assert positions == sorted(positions)
    assert [b.text for b in parsed.blocks if b.kind == "title"] == titles
    assert {b.level for b in parsed.blocks if b.kind == "title"} == {1}
    # every chunk points at the boxes it came from: pages 1-5, inside the page, below the header band
    for d in drafts:
        assert d.positions and all(p[0] in d.page_num for p in d.positions)
        assert all(0 <= p[1] < p[2] <= 612 and 60 <= p[3] < p[4] <= 740 for p in d.positions), d.positions


def test_two_column_page_reads_left_column_then_right() -> None:
    data, paragraphs = two_column_page()
    parsed = parse_document("columns.pdf", data, layout_recognize="DeepDOC")
    assert parsed.blocks[0].kind == "title" and parsed.blocks[0].text == "A study of two columns"
    body = [b for b in parsed.blocks if b.kind == "text"]
    assert [b.text for b in body] == paragraphs  # each paragraph whole, none interleaved, in reading order
    lefts = [b.meta["positions"][0][1] for b in body]
    assert lefts == [72, 72, 72, 324, 324, 324]


def test_plain_text_keeps_the_text_layer_reader() -> None:
    data, _ = table_page()
    for setting in ("Plain Text", None, "SomeVisionModel", False):
        parsed = parse_document("tables.pdf", data, layout_recognize=setting)
        assert "layout" not in parsed.meta and all(b.kind != "table" for b in parsed.blocks)
        drafts = chunk_document(parsed, "naive", {"chunk_token_num": 512}, filename="tables.pdf")
        assert all(p[1:] == [0, 0, 0, 0] for d in drafts for p in d.positions)
    assert uses_deepdoc("DeepDOC") and uses_deepdoc("deepdoc") and uses_deepdoc(True)
    assert not uses_deepdoc("Plain Text") and not uses_deepdoc(None)


def test_deepdoc_page_range_and_scans() -> None:
    data = make_pdf(lorem_pages(6))
    parsed = parse_document("r.pdf", data, page_from=2, page_to=4, layout_recognize="DeepDOC")
    assert parsed.pages == 6 and {b.page for b in parsed.blocks} == {3, 4}
    assert parsed.meta["failed_pages"] == [] and parsed.meta["layout"] == "DeepDOC"
    from ragcore.parsing import ParseError

    with pytest.raises(ParseError, match="no text layer"):  # a scan, no OCR engine: the plain reader's reason
        parse_document("scan.pdf", make_pdf([[], []]), layout_recognize="DeepDOC", ocr=None)
    with pytest.raises(ParseError, match="corrupt"):
        parse_document("c.pdf", b"%PDF-1.4\n garbage garbage", layout_recognize="DeepDOC")


def test_a_page_whose_analysis_fails_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.parsing import pdf_deepdoc

    real = pdf_deepdoc.analyze_page

    def flaky(rgb: object, scale: float, words: list[TextBox], page: int, *args: object, **kwargs: object) -> object:
        if page == 2:
            raise RuntimeError("model crashed")
        return real(rgb, scale, words, page, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf_deepdoc, "analyze_page", flaky)
    parsed = parse_document("r.pdf", make_pdf(lorem_pages(3)), layout_recognize="DeepDOC")
    assert parsed.meta["failed_pages"] == [2] and {b.page for b in parsed.blocks} == {1, 3}


def _word(text: str, x0: float, top: float, size: float = 10) -> TextBox:
    return TextBox(text, 1, x0, top, x0 + len(text) * size * 0.5, top + size)


def _line(text: str, x0: float, top: float) -> list[TextBox]:
    """Words set as a line of prose: one space (2.8 pt at 10 pt) between them."""
    out = []
    for word in text.split():
        out.append(_word(word, x0, top))
        x0 = out[-1].x1 + 2.8
    return out


def test_rules_found_in_the_image_and_prose_is_no_table() -> None:
    gray = np.full((200, 300), 255, dtype=np.uint8)
    for y in (20, 60, 100):
        gray[y, 10:290] = 120  # thin grey rules, as anti-aliasing draws a 0.5 pt line
    for x in (10, 150, 289):
        gray[20:101, x] = 120
    gray[40:48, 30:120] = 0  # a word: dark but short, and not a rule
    horizontal, vertical = find_rules(gray, 1.0, (5, 10, 295, 110))
    assert horizontal == [20, 60, 100] and vertical == [10, 150, 289]
    # two columns of prose lines are not a table, whatever the layout model said
    prose = [w for r in range(6) for w in _line("one two three four five six seven", 72, 100 + 14 * r)]
    prose += [w for r in range(6) for w in _line("eight nine ten eleven twelve thirteen", 330, 100 + 14 * r)]
    assert table_rows(prose, (60, 90, 560, 200)) is None
    grid = [_word("a", 72, 100), _word("b", 200, 100), _word("c", 72, 120), _word("d", 200, 120)]
    assert table_rows(grid, (60, 90, 300, 140)) == [["a", "b"], ["c", "d"]]


def test_reading_order_bands_and_columns() -> None:
    def item(name: str, x0: float, top: float, x1: float, bottom: float) -> Item:
        return Item("text", (x0, top, x1, bottom), name)

    title = item("title", 72, 50, 540, 70)
    left = [item(f"L{i}", 72, 100 + 30 * i, 290, 120 + 30 * i) for i in range(3)]
    right = [item(f"R{i}", 320, 100 + 30 * i, 540, 120 + 30 * i) for i in range(3)]  # gaps line up across columns
    footer_wide = item("wide", 72, 300, 540, 320)
    left2 = [item("L9", 72, 340, 290, 360)]
    right2 = [item("R9", 320, 340, 540, 360)]
    order = reading_order([*right2, footer_wide, *right, title, *left2, *left])
    assert [i.text for i in order] == ["title", "L0", "L1", "L2", "R0", "R1", "R2", "wide", "L9", "R9"]


def test_without_the_layout_model_geometry_still_orders_pages_and_finds_ruled_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Lambda bundle without the "layout" layer: DeepDOC still drops page numbers and running lines, reads
    columns in order and turns ruled tables into HTML; unruled tables need the model and stay text."""
    from ragcore.parsing import layout_model

    monkeypatch.setattr(layout_model, "available", lambda: False)
    monkeypatch.setattr(layout_model, "detect", lambda rgb: pytest.fail("the model ran"))
    data, (ruled, _) = table_page()
    parsed = parse_document("tables.pdf", data, layout_recognize="DeepDOC")
    assert parsed.meta["layout_model"] is False
    tables = [b for b in parsed.blocks if b.kind == "table"]
    assert len(tables) == 1 and cells(tables[0].text) == (ruled, "Table 1: Revenue by region")
    data, paragraphs = two_column_page()
    body = [b.text for b in parse_document("c.pdf", data, layout_recognize="DeepDOC").blocks if b.kind == "text"]
    assert body == paragraphs
    data, markers, _ = report_pages(4)
    text = "\n".join(b.text for b in parse_document("r.pdf", data, layout_recognize="DeepDOC").blocks)
    assert HEADER not in text and FOOTER not in text and not re.search(r"\b\d+\b", text)


def test_boxes_are_measured_from_the_crop_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page whose crop box cuts 40 pt off the left and 30 pt off the top: words and the rendered rules share the
    crop box's frame (the ruled table is found from the image alone), and positions are relative to what is shown."""
    from ragcore.parsing import layout_model

    monkeypatch.setattr(layout_model, "available", lambda: False)
    data, (ruled, _) = table_page(crop=(40, 0, 612, 762))
    blocks = parse_document("crop.pdf", data, layout_recognize="DeepDOC").blocks
    [table] = [b for b in blocks if b.kind == "table"]
    assert cells(table.text)[0] == ruled
    intro = blocks[0]
    assert intro.text.startswith("Intro") and intro.meta["positions"][0][1] == 72 - 40
    assert 28 <= intro.meta["positions"][0][3] <= 32  # drawn 60 pt below the media box's top, 30 below the crop's
