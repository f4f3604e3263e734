"""File bytes → ParsedDocument (ordered text blocks with pages). Pure library code: no I/O beyond the bytes.

    parse_document("report.pdf", data, page_from=0, page_to=12) -> ParsedDocument
    page_count("report.pdf", data) -> int        # PDF pages; 1 for every other type
    is_supported("notes.md") -> bool

Images (PNG, JPEG, TIFF, BMP, WEBP, GIF) and PDF pages without a text layer are read by OCR (ocr.py): the
in-process engine by default (`ocr="auto"`), another engine when one is passed (the AWS ingest function's calls
the OCR function), none with `ocr=None`.

Every failure a user can cause (empty, encrypted, corrupt, zip bomb, unknown type, image without an OCR engine)
raises ParseError whose text is the reason to show in progress_msg.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from ragcore.parsing.guards import require_bytes
from ragcore.parsing.types import Block, ParsedDocument, ParseError

if TYPE_CHECKING:
    from ragcore.parsing.ocr import OcrEngine

__all__ = [
    "Block",
    "ParsedDocument",
    "ParseError",
    "SUPPORTED_SUFFIXES",
    "IMAGE_SUFFIXES",
    "is_supported",
    "page_count",
    "parse_document",
    "suffix_of",
    "uses_deepdoc",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CODE_SUFFIXES = _words(
    "py pyi js mjs cjs jsx ts tsx java go rs c cc cpp cxx h hh hpp hxx cs kt kts scala swift rb php pl pm lua r "
    "sql sh bash zsh ps1 bat cmd yaml yml toml xml ini cfg conf properties gradle groovy dart m mm vue svelte css "
    "scss less proto graphql gql tf hcl cmake mk dockerfile makefile"
)
TEXT_SUFFIXES = frozenset({"txt", "text", "log", "rst", "tex"})
MARKDOWN_SUFFIXES = frozenset({"md", "markdown", "mdx"})
HTML_SUFFIXES = frozenset({"html", "htm", "xhtml"})
JSON_SUFFIXES = frozenset({"json", "jsonl", "ndjson", "ldjson"})
SHEET_SUFFIXES = frozenset({"xlsx", "xlsm", "csv", "tsv"})
IMAGE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"})
SUPPORTED_SUFFIXES = frozenset(
    {"pdf", "docx", "pptx", "eml"}
    | CODE_SUFFIXES
    | TEXT_SUFFIXES
    | MARKDOWN_SUFFIXES
    | HTML_SUFFIXES
    | JSON_SUFFIXES
    | SHEET_SUFFIXES
    | IMAGE_SUFFIXES
)


def suffix_of(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].strip().lower()
    if "." not in name:
        return name if name in ("dockerfile", "makefile") else ""
    return name.rsplit(".", 1)[-1]


def is_supported(filename: str) -> bool:
    return suffix_of(filename) in SUPPORTED_SUFFIXES


def page_count(filename: str, data: bytes) -> int:
    if suffix_of(filename) == "pdf":
        from ragcore.parsing.pdf import pdf_page_count

        return pdf_page_count(data)
    return 1


def uses_deepdoc(layout_recognize: object) -> bool:
    """RAGFlow's rule: a boolean means DeepDOC or not; a string names the recognizer ("DeepDOC", "Plain Text", …)."""
    if isinstance(layout_recognize, bool):
        return layout_recognize
    return isinstance(layout_recognize, str) and layout_recognize.strip().lower() == "deepdoc"


def parse_document(
    filename: str,
    data: bytes,
    *,
    page_from: int = 0,
    page_to: int | None = None,
    html4excel: bool = False,
    layout_recognize: object = None,
    ocr: OcrEngine | Literal["auto"] | None = "auto",
) -> ParsedDocument:
    """page_from/page_to: a 0-based, half-open page range (PDF only; other types are read whole).
    layout_recognize: parser_config's value; "DeepDOC" (or true) reads PDFs with the layout model, anything else
    (RAGFlow's "Plain Text", a model we do not have, nothing) with the fast text-layer reader."""
    suffix = suffix_of(filename)
    if suffix == "pdf":
        from ragcore.parsing.pdf import parse_pdf

        require_bytes(data)
        parsed = parse_pdf(data, page_from, page_to, layout=uses_deepdoc(layout_recognize), ocr=_engine(ocr))
    elif suffix in IMAGE_SUFFIXES:
        from ragcore.parsing.ocr import parse_image

        require_bytes(data)
        parsed = parse_image(data, _engine(ocr))
    else:
        reader = _reader(suffix, filename)
        require_bytes(data)
        parsed = reader(data, html4excel)
    parsed.meta.setdefault("suffix", suffix)
    return parsed


def _engine(ocr: OcrEngine | Literal["auto"] | None) -> OcrEngine | None:
    if ocr == "auto":
        from ragcore.parsing.ocr import local_engine

        return local_engine()
    return ocr


def _reader(suffix: str, filename: str) -> Callable[[bytes, bool], ParsedDocument]:
    if suffix in MARKDOWN_SUFFIXES:
        from ragcore.parsing.markup import parse_markdown

        return lambda data, _: parse_markdown(data)
    if suffix in HTML_SUFFIXES:
        from ragcore.parsing.markup import parse_html

        return lambda data, _: parse_html(data)
    if suffix in TEXT_SUFFIXES:
        from ragcore.parsing.plain import parse_plain

        return lambda data, _: parse_plain(data)
    if suffix in CODE_SUFFIXES:
        from ragcore.parsing.plain import parse_plain

        return lambda data, _: parse_plain(data, kind="code")
    if suffix == "docx":
        from ragcore.parsing.word import parse_docx

        return lambda data, _: parse_docx(data)
    if suffix == "pptx":
        from ragcore.parsing.slides import parse_pptx

        return lambda data, _: parse_pptx(data)
    if suffix in ("xlsx", "xlsm"):
        from ragcore.parsing.sheets import parse_xlsx

        return lambda data, html: parse_xlsx(data, html4excel=html)
    if suffix in ("csv", "tsv"):
        from ragcore.parsing.sheets import parse_csv

        return lambda data, html: parse_csv(data, delimiter="\t" if suffix == "tsv" else None, html4excel=html)
    if suffix in JSON_SUFFIXES:
        from ragcore.parsing.structured import parse_json

        return lambda data, _: parse_json(data, lines=suffix != "json")
    if suffix == "eml":
        from ragcore.parsing.mail import parse_eml

        return lambda data, _: parse_eml(data)
    raise ParseError(f"Unsupported file type: .{suffix}" if suffix else f"Unsupported file type: {filename!r} has no extension.")
