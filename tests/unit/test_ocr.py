"""OCR: scanned PDFs and image files read by PP-OCRv4 (rapidocr), with positions and per-page failures.

The documents are made here: English pages in Helvetica (PDFium's built-in font) rendered and wrapped as
image-only PDFs at 150 and 200 dpi, PNG/JPEG of a page, and a Chinese page drawn with Noto Sans CJK."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

import pytest
from PIL import Image
from ragcore.chunking import chunk_document
from ragcore.parsing import ParseError, parse_document
from ragcore.parsing.ocr import LocalOcr, PageResult, page_of_request, page_request, reply_of, result_of_reply
from ragcore.parsing.regions import PageImage, crop, paragraphs, positions_of
from ragcore.parsing.types import TextBox

from tests.unit.files_factory import make_pdf
from tests.unit.ocr_documents import (
    CHINESE_LINES,
    char_recall,
    chinese_page,
    cjk_font_path,
    image_pdf,
    page_pictures,
    picture_file,
    scanned_pdf,
    word_recall,
)

ENGLISH = (
    "Invoice 2024-117 was issued on 12 March 2024 by Northwind Traders to the Riverside Library. "
    "The library ordered forty reading lamps, six oak tables and a replacement boiler valve. "
    "Payment is due within thirty days; late payments accrue interest of 1.5 percent per month. "
    "Questions about this invoice should be sent to the accounts office before the due date. "
    "Deliveries arrive on weekdays between eight and four, and every parcel must be signed for. "
    "The warranty covers manufacturing faults for two years but excludes damage caused by misuse. "
    "Returned goods need the original packaging and a copy of this invoice to be refunded in full."
)
PAGE = [("Quarterly Supply Report", 16), *textwrap.wrap(ENGLISH, 84)]


def all_text(blocks: Sequence[Any]) -> str:
    return "\n".join(b.text for b in blocks)


@pytest.mark.parametrize("dpi", [150, 200])
def test_scanned_english_pages_are_read_with_positions(dpi: int) -> None:
    scan = scanned_pdf([PAGE], dpi)
    with pytest.raises(ParseError, match="no text layer"):  # really a scan
        parse_document("t.pdf", scan, ocr=None)
    parsed = parse_document("scan.pdf", scan)
    text = all_text(parsed.blocks)
    assert word_recall(ENGLISH + " Quarterly Supply Report", text) >= 0.95, text
    assert parsed.meta["ocr_pages"] == [1] and parsed.meta["page_errors"] == {}
    assert parsed.blocks[0].text == "Quarterly Supply Report"  # reading order: the heading first
    for block in parsed.blocks:  # PDF points from the top-left of a 612 × 792 page, where the text was drawn
        [[page, x0, x1, top, bottom]] = block.meta["positions"]
        assert page == 1 and 40 <= x0 < x1 <= 612 and 10 <= top < bottom <= 400, block.meta
    drafts = chunk_document(parsed, "naive", {"chunk_token_num": 64}, filename="scan.pdf")
    assert len(drafts) >= 2 and all(d.positions and d.positions[0][0] == 1 and d.positions[0][2] > 0 for d in drafts)
    assert set(parsed.page_images) == {1} and parsed.page_images[1].scale == pytest.approx(150 / 72)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_picture_of_a_page_is_read(fmt: str) -> None:
    [picture] = page_pictures(make_pdf([PAGE]), 150)
    parsed = parse_document(f"page.{fmt.lower()}", picture_file(picture, fmt))
    assert word_recall(ENGLISH, all_text(parsed.blocks)) >= 0.95
    assert parsed.pages == 1 and parsed.page_images[1].scale == 1.0
    [[page, x0, x1, top, bottom]] = parsed.blocks[1].meta["positions"]  # pixels of the image
    assert page == 1 and 0 < x0 < x1 <= picture.width and 0 < top < bottom <= picture.height


@pytest.mark.skipif(cjk_font_path() is None, reason="no CJK font: the dev extra cvttf-notosanscjk-regular is missing")
def test_a_chinese_page_is_read() -> None:
    parsed = parse_document("zh.png", picture_file(chinese_page(), "PNG"))
    text = all_text(parsed.blocks)
    assert char_recall("".join(CHINESE_LINES), text) >= 0.90, text
    assert " " not in text.replace("\n", "")  # no spaces put between Chinese characters


def test_other_image_formats_and_a_multi_page_tiff() -> None:
    [picture] = page_pictures(make_pdf([["Tagged image file format", "second line of text"]]), 150)
    for fmt in ("BMP", "WEBP", "GIF"):
        text = all_text(parse_document(f"a.{fmt.lower()}", picture_file(picture, fmt)).blocks)
        assert "Tagged image file format" in text, (fmt, text)
    out = io.BytesIO()
    picture.save(out, "TIFF", save_all=True, append_images=[picture.rotate(0)])
    parsed = parse_document("two.tif", out.getvalue())
    assert parsed.pages == 2 and {b.page for b in parsed.blocks} == {1, 2}


def test_images_and_scans_without_an_engine_say_why() -> None:
    [picture] = page_pictures(make_pdf([["x"]]), 72)
    with pytest.raises(ParseError, match="OCR engine .* is not installed"):
        parse_document("a.png", picture_file(picture, "PNG"), ocr=None)
    with pytest.raises(ParseError, match="no text layer"):
        parse_document("scan.pdf", scanned_pdf([["Hello"]], 100), ocr=None)
    with pytest.raises(ParseError, match="corrupt or not an image"):
        parse_document("photo.png", b"\x89PNG\r\n\x1a\n....")
    # a scan of blank pages: OCR ran and found nothing, which is not an error
    assert parse_document("blank.pdf", make_pdf([[], []])).blocks == []


class Recording:
    """An engine that answers from fixed boxes (page 2 fails) and records which pages it was given."""

    def __init__(self) -> None:
        self.pages: list[int] = []

    def recognize(self, pages: Sequence[PageImage]) -> list[PageResult]:
        self.pages.extend(p.page for p in pages)
        return ["OCR failed (RuntimeError: model crashed)" if p.page == 2 else
                [TextBox(f"scanned words of page {p.page}", p.page, 72, 100, 300, 114, 0.99)] for p in pages]


def test_text_layer_pages_are_never_ocred_and_a_failed_page_fails_alone() -> None:
    text = make_pdf([["Typed text of page one"], ["x"], ["x"], ["Typed text of page four"]])
    scans = page_pictures(make_pdf([[], ["Scan two"], ["Scan three"]]), 100)
    mixed = _join_pdfs([text, image_pdf(scans, 100)], pick=[(0, 0), (1, 1), (1, 2), (0, 3)])
    engine = Recording()
    parsed = parse_document("mixed.pdf", mixed, ocr=engine)
    assert engine.pages == [2, 3]
    assert [(b.page, b.text) for b in parsed.blocks] == [
        (1, "Typed text of page one"), (3, "scanned words of page 3"), (4, "Typed text of page four")]
    assert parsed.meta["page_errors"] == {2: "OCR failed (RuntimeError: model crashed)"}
    assert parsed.meta["ocr_pages"] == [2, 3] and set(parsed.page_images) == {2, 3}
    assert parsed.blocks[1].meta["positions"] == [[3, 72, 300, 100, 114]]
    assert "positions" not in parsed.blocks[0].meta  # the text layer's path is unchanged


def test_a_scan_with_a_stray_text_layer_is_ocred() -> None:
    """A page mostly covered by an image whose text layer is a short stamp: OCR reads the image."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(scanned_pdf([["", "", "", "", "Body text only the picture holds"]], 100)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(make_pdf([["Page 1"]]))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    engine = Recording()
    parsed = parse_document("stamped.pdf", out.getvalue(), ocr=engine)
    assert engine.pages == [1] and [b.text for b in parsed.blocks] == ["scanned words of page 1"]


def _join_pdfs(pdfs: list[bytes], pick: list[tuple[int, int]]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    readers = [PdfReader(io.BytesIO(p)) for p in pdfs]
    writer = PdfWriter()
    for source, page in pick:
        writer.add_page(readers[source].pages[page])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_every_page_failing_is_the_documents_error() -> None:
    class Broken:
        def recognize(self, pages: Sequence[PageImage]) -> list[PageResult]:
            return ["OCR failed (MemoryError: )" for _ in pages]

    with pytest.raises(ParseError, match=r"OCR could not read page 1: OCR failed \(MemoryError"):
        parse_document("scan.pdf", scanned_pdf([["a"], ["b"]], 72), ocr=Broken())


def test_the_wire_format_round_trips_a_page() -> None:
    [picture] = page_pictures(make_pdf([PAGE]), 150)
    request = page_request(PageImage(3, picture, 150 / 72))
    page = page_of_request(request)
    assert (page.page, page.scale, page.image.size) == (3, 150 / 72, picture.size)
    boxes = [TextBox("a b", 3, 1.5, 2.25, 30.0, 12.0, 0.9)]
    assert result_of_reply(3, reply_of(boxes)) == boxes
    assert result_of_reply(3, reply_of("OCR failed (x)")) == "OCR failed (x)"
    assert LocalOcr().recognize([]) == []


# ---- regions: generic over TextBox lists ------------------------------------------------------------------------
def box(text: str, x0: float, top: float, x1: float, height: float = 10, page: int = 1) -> TextBox:
    return TextBox(text, page, x0, top, x1, top + height)


def test_two_columns_are_read_column_by_column_and_paragraphs_split_at_gaps() -> None:
    title = box("A title across both columns", 50, 20, 560, 16)
    left = [box(f"left line {i} of prose text here", 50, 50 + 14 * i, 290) for i in range(4)]
    right = [box(f"right line {i} of prose text here", 320, 50 + 14 * i, 560) for i in range(4)]
    after = [box("left after a gap", 50, 140, 290), box("continues here", 50, 154, 200)]
    found = [[" ".join(b.text for b in line) for line in para] for para in paragraphs([*right, title, *after, *left])]
    assert found == [
        ["A title across both columns"],
        [f"left line {i} of prose text here" for i in range(4)],
        ["left after a gap", "continues here"],
        [f"right line {i} of prose text here" for i in range(4)],
    ]


def test_a_table_of_short_cells_is_read_row_by_row() -> None:
    cells = [box(t, x, 40 + 14 * r, x + 40) for r, row in enumerate([("Name", "Qty"), ("Lamp", "40"), ("Table", "6"),
                                                                      ("Valve", "1")]) for t, x in zip(row, (50, 300), strict=True)]
    lines = [[" ".join(b.text for b in line) for line in para] for para in paragraphs(cells)]
    assert [line for para in lines for line in para] == ["Name Qty", "Lamp 40", "Table 6", "Valve 1"]


def test_positions_and_crops() -> None:
    boxes = [box("a", 10.4, 20, 50), box("b", 12, 32, 80.6), box("c", 5, 5, 9, page=2)]
    assert positions_of(boxes) == [[1, 10, 81, 20, 42], [2, 5, 9, 5, 15]]
    page = Image.new("RGB", (200, 300), "white")
    jpeg = crop({1: PageImage(1, page, 2.0)}, [[1, 10, 81, 20, 42], [3, 1, 2, 3, 4]])
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    shown = Image.open(io.BytesIO(jpeg))
    assert shown.size == ((81 + 4) * 2 + 1 - (10 - 4) * 2, (42 + 4) * 2 + 1 - (20 - 4) * 2)  # margin 4 pt, 2 px/pt
    assert crop({}, [[1, 10, 81, 20, 42]]) is None and crop({1: PageImage(1, page, 2.0)}, [[1, 0, 0, 0, 0]]) is None


# ---- picture method ---------------------------------------------------------------------------------------------
def test_picture_method_adds_a_description_only_to_short_ocr_text() -> None:
    asked: list[bytes] = []

    def describe(jpeg: bytes) -> str:
        asked.append(jpeg)
        return "A red square on white."

    [page] = page_pictures(make_pdf([PAGE]), 150)
    long_text = parse_document("page.png", picture_file(page, "PNG"))
    [chunk] = chunk_document(long_text, "picture", {}, filename="page.png", describe_image=describe)
    assert word_recall(ENGLISH, chunk.content) >= 0.95 and asked == []  # RAGFlow: OCR text only past 32 characters
    square = Image.new("RGB", (120, 90), "red")
    plain = parse_document("square.png", picture_file(square, "PNG"))
    [chunk] = chunk_document(plain, "picture", {}, filename="square.png", describe_image=describe)
    assert chunk.content == "A red square on white." and asked and asked[0][:2] == b"\xff\xd8"
    assert chunk.positions == [[1, 0, 120, 0, 90]]
    with pytest.raises(ParseError, match="no vision model is configured"):
        chunk_document(plain, "picture", {}, filename="square.png")
