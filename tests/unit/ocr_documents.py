"""Scanned documents made by our own code, for the OCR tests and bench/ingest.py: text PDFs (Helvetica, PDFium's
built-in font: no system font needed) rendered to pictures by pypdfium2, then wrapped by Pillow as image-only PDFs
or saved as PNG/JPEG; a Chinese page drawn with Noto Sans CJK from the `cvttf-notosanscjk-regular` dev package."""

from __future__ import annotations

import importlib.util
import io
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tests.unit.files_factory import Page, make_pdf

CHINESE_LINES = [
    "深度文档理解让扫描的合同和发票也能被检索。",
    "光学字符识别把页面图片中的文字读出来，",
    "再按照阅读顺序把文字行组合成段落。",
    "每个文本块都带有它在页面上的位置坐标，",
    "检索结果因此可以在原文档中高亮显示。",
    "图片中的表格和数字同样会被识别出来。",
]


def page_pictures(pdf: bytes, dpi: int) -> list[Image.Image]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(doc))]
    finally:
        doc.close()


def image_pdf(pictures: Sequence[Image.Image], dpi: int) -> bytes:
    """An image-only PDF (no text layer): one picture per page, at `dpi`."""
    out = io.BytesIO()
    pictures[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=list(pictures[1:]))
    return out.getvalue()


def scanned_pdf(pages: Sequence[Page], dpi: int) -> bytes:
    return image_pdf(page_pictures(make_pdf(pages), dpi), dpi)


def picture_file(picture: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, fmt)
    return out.getvalue()


def cjk_font_path() -> Path | None:
    spec = importlib.util.find_spec("cvttf_NotoSansCJK_Regular")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.otf"))
    return found[0] if found else None


def chinese_page(lines: Sequence[str] = CHINESE_LINES, size: int = 36) -> Image.Image:
    """A white page with the lines in black, ~150 dpi body text (36 px ≈ 17 pt)."""
    path = cjk_font_path()
    assert path is not None, "the CJK font package (cvttf-notosanscjk-regular) is not installed"
    font = ImageFont.truetype(str(path), size)
    page = Image.new("L", (1240, 120 + len(lines) * int(size * 1.8)), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((90, 80 + i * int(size * 1.8)), line, font=font, fill=0)
    return page


def word_recall(expected: str, found: str) -> float:
    """Share of the expected words (lower-case, with repeats) that OCR found."""
    want = Counter(re.findall(r"\w+", expected.lower()))
    got = Counter(re.findall(r"\w+", found.lower()))
    return sum((want & got).values()) / max(1, sum(want.values()))


def char_recall(expected: str, found: str) -> float:
    """Share of the expected non-space, non-punctuation characters (with repeats) that OCR found."""
    keep = re.compile(r"\w")
    want = Counter(c for c in expected if keep.match(c))
    got = Counter(c for c in found if keep.match(c))
    return sum((want & got).values()) / max(1, sum(want.values()))
