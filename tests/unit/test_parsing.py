"""Every parser on small real files, and the failures a user can cause."""

from __future__ import annotations

import pytest
from ragcore.parsing import ParseError, is_supported, page_count, parse_document

from tests.unit.files_factory import encrypt_pdf, lorem_pages, make_pdf


def texts(name: str, data: bytes, **kwargs: object) -> list[str]:
    return [b.text for b in parse_document(name, data, **kwargs).blocks]  # type: ignore[arg-type]


# ---- PDF ------------------------------------------------------------------------------------------
def test_pdf_pages_and_paragraphs() -> None:
    data = make_pdf([
        ["Introduction", "Retrieval augmented generation combines a search index with a language",
         "model so that answers cite the documents they came from.", "Short line."],
        ["Second page text."],
    ])
    parsed = parse_document("a.pdf", data)
    assert parsed.pages == 2 and page_count("a.pdf", data) == 2
    assert [(b.page, b.text) for b in parsed.blocks] == [
        (1, "Introduction"),
        (1, "Retrieval augmented generation combines a search index with a language model so that answers cite "
            "the documents they came from."),
        (1, "Short line."),
        (2, "Second page text."),
    ]


def test_pdf_page_range_is_zero_based_half_open() -> None:
    data = make_pdf([[f"Page number {i + 1} text."] for i in range(5)], compress=True)
    parsed = parse_document("r.pdf", data, page_from=1, page_to=3)
    assert [(b.page, b.text) for b in parsed.blocks] == [(2, "Page number 2 text."), (3, "Page number 3 text.")]
    assert parsed.pages == 5
    assert parse_document("r.pdf", data, page_from=4, page_to=None).blocks[0].page == 5


def test_pdf_encrypted_empty_corrupt_scanned() -> None:
    plain = make_pdf([["secret text"]])
    with pytest.raises(ParseError, match="encrypted; upload it without a password"):
        parse_document("e.pdf", encrypt_pdf(plain))
    with pytest.raises(ParseError, match="encrypted"):
        page_count("e.pdf", encrypt_pdf(plain))
    # an owner password only (copy/print restrictions) opens fine
    assert texts("o.pdf", encrypt_pdf(plain, user_password="")) == ["secret text"]
    with pytest.raises(ParseError, match="The file is empty"):
        parse_document("z.pdf", b"")
    with pytest.raises(ParseError, match="corrupt"):
        parse_document("c.pdf", b"this is not a pdf at all")
    with pytest.raises(ParseError, match="corrupt"):
        page_count("c.pdf", b"%PDF-1.4\n garbage garbage")
    with pytest.raises(ParseError, match="no text layer"):
        parse_document("scan.pdf", make_pdf([[], []]))


def test_pdf_many_pages_fast() -> None:
    data = make_pdf(lorem_pages(30))
    parsed = parse_document("big.pdf", data, page_from=10, page_to=20)
    assert {b.page for b in parsed.blocks} == set(range(11, 21))
    assert parsed.blocks[0].text == "Section 11. Topic value"


# ---- text, markdown, code ---------------------------------------------------------------------------
def test_txt_paragraphs_and_encodings() -> None:
    assert texts("a.txt", b"first line\nsecond line\n\n\nnext paragraph\n") == ["first line\nsecond line", "next paragraph"]
    assert texts("u.txt", "caf\u00e9 \u4e2d\u6587".encode("utf-16")) == ["caf\u00e9 \u4e2d\u6587"]
    assert texts("w.txt", "na\u00efve r\u00e9sum\u00e9".encode("cp1252")) == ["na\u00efve r\u00e9sum\u00e9"]
    assert texts("g.txt", "\u4e2d\u6587\u6587\u672c\u5185\u5bb9\u6d4b\u8bd5".encode("gb18030")) == ["\u4e2d\u6587\u6587\u672c\u5185\u5bb9\u6d4b\u8bd5"]
    with pytest.raises(ParseError, match="The file is empty"):
        parse_document("e.txt", b"  \n\n ")
    with pytest.raises(ParseError, match="binary data"):
        parse_document("b.txt", b"\x00\x01\x02\x03binary\x00\xff" * 20)


def test_markdown_structure() -> None:
    md = (b"# Guide\n\nIntro text.\n\n## Install\n\n- step one\n- step two\n\n"
          b"| name | value |\n|---|---|\n| a | 1 |\n\n```python\nprint('x')\n\n```\n\nSetext\n------\nend\n")
    blocks = parse_document("g.md", md).blocks
    assert [(b.kind, b.level, b.text) for b in blocks] == [
        ("title", 1, "Guide"),
        ("text", 0, "Intro text."),
        ("title", 2, "Install"),
        ("list", 0, "- step one\n- step two"),
        ("table", 0, "| name | value |\n|---|---|\n| a | 1 |"),
        ("code", 0, "```python\nprint('x')\n\n```"),
        ("title", 2, "Setext"),
        ("text", 0, "end"),
    ]


def test_code_files_keep_lines() -> None:
    blocks = parse_document("m.py", b"import os\n\n\ndef f():\n    return 1\n").blocks
    assert [(b.kind, b.text) for b in blocks] == [("code", "import os"), ("code", "def f():\n    return 1")]


def test_supported_and_unsupported() -> None:
    for name in ("a.pdf", "b.DOCX", "c.pptx", "d.xlsx", "e.csv", "f.tsv", "g.txt", "h.md", "i.html", "j.htm",
                 "k.json", "l.jsonl", "m.eml", "n.py", "o.yaml", "p.sql", "q.png", "Dockerfile"):
        assert is_supported(name), name
    assert not is_supported("x.exe") and not is_supported("noext")
    with pytest.raises(ParseError, match=r"Unsupported file type: \.xyz"):
        parse_document("a.xyz", b"data")
    with pytest.raises(ParseError, match="OCR/vision model"):
        parse_document("photo.png", b"\x89PNG\r\n\x1a\n....")
    assert page_count("a.txt", b"x") == 1
