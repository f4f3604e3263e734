"""Every parser on small real files, and the failures a user can cause."""

from __future__ import annotations

import pytest
from ragcore.parsing import ParseError, is_supported, page_count, parse_document

from tests.unit.files_factory import (
    encrypt_pdf,
    lorem_pages,
    make_docx,
    make_eml,
    make_pdf,
    make_pptx,
    make_xlsx,
    make_zip_bomb,
)


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


def test_pdf_titles_from_font_size_and_running_lines_dropped() -> None:
    pages = [
        [("ACME Corp - Annual Report 2025", 9), (f"Part {i + 1} of the report", 16), (f"Region {i + 1} overview", 13),
         (f"Revenue grew {i + 3}% in region {i + 1} this year.", 11), (f"Costs fell by {i + 1}%.", 11),
         (f"Staff count rose to {i * 10 + 5}.", 11), (f"- {i + 1} -", 9)]
        for i in range(4)
    ]
    parsed = parse_document("t.pdf", make_pdf(pages))
    first = [(b.kind, b.level, b.text) for b in parsed.blocks if b.page == 2]
    assert first == [
        ("title", 1, "Part 2 of the report"),
        ("title", 2, "Region 2 overview"),
        ("text", 0, "Revenue grew 4% in region 2 this year."),
        ("text", 0, "Costs fell by 2%."),
        ("text", 0, "Staff count rose to 15."),
    ]  # the running header and the page number are gone


def test_pdf_paragraph_rebuild_hyphens() -> None:
    from ragcore.parsing.paragraphs import lines_to_paragraphs

    wide = "x" * 60
    assert lines_to_paragraphs(f"{wide} struc\ufffe\nture ends.\n{wide} exam-\nple here.") == [
        f"{wide} structure ends.", f"{wide} example here."]


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
        parse_document("scan.pdf", make_pdf([[], []]), ocr=None)


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
                 "k.json", "l.jsonl", "m.eml", "n.py", "o.yaml", "p.sql", "q.png", "Dockerfile", "Makefile"):
        assert is_supported(name), name
    assert not is_supported("x.exe") and not is_supported("noext")
    with pytest.raises(ParseError, match=r"Unsupported file type: \.xyz"):
        parse_document("a.xyz", b"data")
    with pytest.raises(ParseError, match="corrupt or not an image"):
        parse_document("photo.png", b"\x89PNG\r\n\x1a\n....")
    assert page_count("a.txt", b"x") == 1


# ---- HTML, JSON ----------------------------------------------------------------------------------------
def test_html_drops_scripts_keeps_structure() -> None:
    page = (b"<html><head><title>Doc</title><style>p{color:red}</style></head><body>"
            b"<h2>Heading</h2><p>Some <b>bold</b>\n text.</p><script>alert('x')</script>"
            b"<ul><li>one</li><li>two</li></ul><pre>code  kept\n  indented</pre>"
            b"<table><tr><th>k</th><th>v</th></tr><tr><td>a|b</td><td>1</td></tr></table></body></html>")
    parsed = parse_document("p.html", page)
    assert parsed.meta["title"] == "Doc"
    assert [(b.kind, b.text) for b in parsed.blocks] == [
        ("title", "Heading"), ("text", "Some bold text."), ("list", "- one"), ("list", "- two"),
        ("code", "code  kept\n  indented"), ("table", "| k | v |\n|---|---|\n| a\\|b | 1 |"),
    ]
    assert not any("alert" in b.text or "color" in b.text for b in parsed.blocks)


def test_json_split_keeps_key_paths() -> None:
    import json

    records = {"service": {"name": "rag", "items": [{"id": i, "text": "x" * 300} for i in range(12)]}}
    blocks = parse_document("d.json", json.dumps(records).encode()).blocks
    assert len(blocks) > 1 and all(len(b.text) <= 2000 for b in blocks)
    for b in blocks:
        assert json.loads(b.text)["service"]  # every piece still says where it belongs
    assert sum(b.text.count('"id"') for b in blocks) == 12
    assert texts("s.json", b'{"a": 1}') == ['{"a": 1}']


def test_jsonl_skips_bad_lines_but_rejects_garbage() -> None:
    parsed = parse_document("d.jsonl", b'{"a": 1}\n\nnot json\n{"b": 2}\n')
    assert [b.text for b in parsed.blocks] == ['{"a": 1}', '{"b": 2}'] and parsed.meta["bad_lines"] == [3]
    assert texts("lines.json", b'{"a": 1}\n{"b": 2}\n') == ['{"a": 1}', '{"b": 2}']  # .json holding JSON Lines
    with pytest.raises(ParseError, match="The JSON file is corrupt: .* line 1"):
        parse_document("bad.json", b"{not: json")


# ---- DOCX -----------------------------------------------------------------------------------------------
def test_docx_headings_lists_tables_in_order() -> None:
    data = make_docx(
        [("Title", "Handbook"), ("Heading 1", "Chapter One"), ("Normal", "Body text."),
         ("Heading 2", "Details"), ("List Bullet", "first point"), ("Normal", "")],
        tables=[[["Name", "Role"], ["Ann", "Lead"]]],
    )
    parsed = parse_document("h.docx", data)
    assert [(b.kind, b.level, b.text) for b in parsed.blocks] == [
        ("title", 1, "Handbook"), ("title", 1, "Chapter One"), ("text", 0, "Body text."),
        ("title", 2, "Details"), ("list", 0, "- first point"), ("table", 0, "| Name | Role |\n|---|---|\n| Ann | Lead |"),
    ]
    assert all(b.page == 0 for b in parsed.blocks)


def test_docx_page_breaks_number_pages() -> None:
    import io

    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.add_paragraph("first page")
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_paragraph("second page")
    out = io.BytesIO()
    document.save(out)
    parsed = parse_document("p.docx", out.getvalue())
    assert [(b.page, b.text) for b in parsed.blocks] == [(1, "first page"), (2, "second page")]


def test_docx_corrupt_encrypted_bomb_legacy() -> None:
    with pytest.raises(ParseError, match="The DOCX file is corrupt"):
        parse_document("c.docx", b"PK\x03\x04 not really a zip")
    with pytest.raises(ParseError, match="The DOCX file is corrupt"):
        parse_document("c.docx", make_xlsx({"S": [["a"]]}))  # a zip, but no word/document.xml
    with pytest.raises(ParseError, match=r"The archive expands to more than \d+ MB \(possible zip bomb\)"):
        parse_document("bomb.docx", make_zip_bomb("docx"))
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64
    with pytest.raises(ParseError, match="The DOCX file is encrypted; upload it without a password"):
        parse_document("enc.docx", ole)
    with pytest.raises(ParseError, match="legacy binary Office document"):
        parse_document("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x01" * 200)


# ---- PPTX -----------------------------------------------------------------------------------------------
def test_pptx_one_page_per_slide_with_notes() -> None:
    data = make_pptx([("Roadmap", ["Q1: parsers", "Q2: search"]), ("Team", ["Ann", "Bob"])], notes=["Say hello"])
    parsed = parse_document("d.pptx", data)
    assert parsed.pages == 2 and page_count("d.pptx", data) == 1
    assert [(b.page, b.kind, b.text) for b in parsed.blocks] == [
        (1, "title", "Roadmap"), (1, "text", "Q1: parsers\nQ2: search"), (1, "text", "Say hello"),
        (2, "title", "Team"), (2, "text", "Ann\nBob"),
    ]
    with pytest.raises(ParseError, match="zip bomb"):
        parse_document("b.pptx", make_zip_bomb("pptx"))
    with pytest.raises(ParseError, match="The PPTX file is corrupt"):
        parse_document("c.pptx", make_docx([("Normal", "not a deck")]))


# ---- sheets ---------------------------------------------------------------------------------------------
def test_xlsx_rows_with_header_and_sheet() -> None:
    import datetime as dt

    data = make_xlsx({"Staff": [["name", "age", "joined"], ["Ann", 31, dt.datetime(2020, 1, 2)], [None, None],
                                ["Bob", 2.0, None]], "Empty": []})
    parsed = parse_document("s.xlsx", data)
    rows = [(b.meta["sheet"], b.meta["row"], b.meta["cells"], bool(b.meta.get("header_row"))) for b in parsed.blocks]
    assert rows == [("Staff", 1, ["name", "age", "joined"], True), ("Staff", 2, ["Ann", "31", "2020-01-02"], False),
                    ("Staff", 4, ["Bob", "2"], False)]
    assert parsed.blocks[1].text == "name: Ann; age: 31; joined: 2020-01-02"
    assert parse_document("s.xlsx", data, html4excel=True).meta["html4excel"] is True
    with pytest.raises(ParseError, match="zip bomb"):
        parse_document("b.xlsx", make_zip_bomb("xlsx"))
    with pytest.raises(ParseError, match="The XLSX file is corrupt"):
        parse_document("c.xlsx", b"PK\x05\x06" + b"\x00" * 18)


def test_csv_and_tsv() -> None:
    parsed = parse_document("p.csv", b'name;city\n"Doe; Jane";Paris\nBob;Rome\n')
    assert [b.meta["cells"] for b in parsed.blocks] == [["name", "city"], ["Doe; Jane", "Paris"], ["Bob", "Rome"]]
    parsed = parse_document("p.tsv", b"q\ta\nhello, world\thi\n")
    assert [b.meta["cells"] for b in parsed.blocks] == [["q", "a"], ["hello, world", "hi"]]


# ---- EML --------------------------------------------------------------------------------------------------
def test_eml_headers_body_and_attachments() -> None:
    data = make_eml(
        "Quarterly report", "Hello team,\n\nthe report is attached.",
        attachments=[("notes.txt", b"Revenue grew 12%.", "text/plain"),
                     ("report.pdf", make_pdf([["PDF attachment text."]]), "application/pdf"),
                     ("photo.png", b"\x89PNG....", "image/png"),
                     ("broken.docx", b"PK\x03\x04 junk", "application/octet-stream")],
    )
    parsed = parse_document("m.eml", data)
    text = [b.text for b in parsed.blocks]
    assert text[0].startswith("From: alice@example.com\nTo: bob@example.com") and "Subject: Quarterly report" in text[0]
    assert "Hello team," in text and "the report is attached." in text
    assert "Revenue grew 12%." in text and "PDF attachment text." in text
    assert parsed.meta["attachments"] == ["notes.txt", "report.pdf", "photo.png", "broken.docx"]
    assert parsed.meta["attachment_errors"] and "broken.docx" in parsed.meta["attachment_errors"][0]
    html_only = make_eml("H", "plain", html="<p>Rich <b>body</b></p>")
    assert "plain" in texts("h.eml", html_only)
    with pytest.raises(ParseError, match="The EML file is corrupt"):
        parse_document("x.eml", b"just some words without headers")


def test_pdf_pypdf_fallback_reads_what_pdfium_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.parsing import pdf

    monkeypatch.setattr(pdf, "_open_pdfium", lambda data: None)
    data = make_pdf([["Fallback page one."], ["Fallback page two."]])
    assert page_count("f.pdf", data) == 2
    assert [(b.page, b.text) for b in parse_document("f.pdf", data).blocks] == [
        (1, "Fallback page one."), (2, "Fallback page two.")]
    with pytest.raises(ParseError, match="encrypted"):
        parse_document("e.pdf", encrypt_pdf(data))
