"""Every chunk method on parsed documents, with RAGFlow's rules for sizes, delimiters and overlap."""

from __future__ import annotations

import pytest
from ragcore.chunking import ChunkDraft, chunk_document
from ragcore.parsing import Block, ParsedDocument, ParseError, parse_document
from ragcore.text.tokenize import count_tokens

from tests.unit.files_factory import lorem_pages, make_pdf


def doc(*blocks: Block, pages: int = 1, **meta: object) -> ParsedDocument:
    return ParsedDocument(blocks=list(blocks), pages=pages, meta=dict(meta))


def contents(drafts: list[ChunkDraft]) -> list[str]:
    return [d.content for d in drafts]


# ---- naive --------------------------------------------------------------------------------------------
def test_naive_merges_up_to_budget_and_tracks_pages() -> None:
    parsed = parse_document("l.pdf", make_pdf(lorem_pages(6)))
    drafts = chunk_document(parsed, "naive", {"chunk_token_num": 128, "delimiter": "\n"}, filename="l.pdf")
    assert len(drafts) > 6
    joined = " ".join(d.content for d in drafts)
    assert all(b.text in joined for b in parsed.blocks)  # nothing lost
    for d in drafts:
        assert d.page_num and d.positions == [[p, 0, 0, 0, 0] for p in d.page_num]
        # OVER_CAP: below the budget before the last piece joined
        assert count_tokens(d.content) < 128 + max(count_tokens(b.text) for b in parsed.blocks) + 4
    assert any(len(d.page_num) == 2 for d in drafts)  # some chunks run across a page break


def test_naive_delimiters_keep_punctuation_drop_newlines() -> None:
    parsed = doc(Block("One. Two! Three?\nFour"))
    out = chunk_document(parsed, "naive", {"chunk_token_num": 1, "delimiter": "\n!?"}, filename="a.txt")
    assert contents(out) == ["One. Two!", "Three?", "Four"]
    out = chunk_document(parsed, "naive", {"chunk_token_num": 100, "delimiter": "\n!?"}, filename="a.txt")
    assert contents(out) == ["One. Two! Three?\nFour"]


def test_naive_custom_backquoted_delimiter_each_piece_a_chunk() -> None:
    parsed = doc(Block("alpha part##beta part##gamma"), Block("delta"))
    out = chunk_document(parsed, "naive", {"chunk_token_num": 512, "delimiter": "`##`"}, filename="a.txt")
    assert contents(out) == ["alpha part", "beta part", "gamma", "delta"]


def test_naive_overlap_prefixes_previous_tail() -> None:
    parsed = doc(*[Block(f"Sentence number {i} talks about topic {i}.") for i in range(12)])
    out = chunk_document(parsed, "naive", {"chunk_token_num": 20, "delimiter": "\n", "overlapped_percent": 30},
                         filename="a.txt")
    assert len(out) >= 3
    for prev, cur in zip(out, out[1:], strict=False):
        first_line = cur.content.split("\n")[0]
        assert first_line and prev.content.endswith(first_line)


def test_naive_tables_whole_or_split_by_rows_with_header() -> None:
    rows = "\n".join(f"| item {i} | value {i} |" for i in range(40))
    table = Block("| name | value |\n|---|---|\n" + rows, kind="table")
    out = chunk_document(doc(Block("Before."), table, Block("After.")), "naive", {"chunk_token_num": 2048},
                         filename="a.md")
    assert [d.kind for d in out] == ["text", "table", "text"]
    small = chunk_document(doc(table), "naive", {"chunk_token_num": 64}, filename="a.md")
    assert len(small) > 2 and all(d.content.startswith("| name | value |\n|---|---|\n") for d in small)
    assert sum(d.content.count("| item ") for d in small) == 40


def test_unknown_method_and_picture() -> None:
    with pytest.raises(ParseError, match="Unknown chunk method"):
        chunk_document(doc(Block("x")), "nope", {}, filename="a.txt")
    # picture over a document that is not an image: its text, whole (images: tests/unit/test_ocr.py)
    assert contents(chunk_document(doc(Block("x", page=1), Block("y", page=1)), "picture", {}, filename="a.txt")) == ["x\ny"]


def test_one_is_whole_document() -> None:
    out = chunk_document(doc(Block("a", page=1), Block("b", page=3), pages=3), "one", {}, filename="a.pdf")
    assert contents(out) == ["a\nb"] and out[0].page_num == [1, 3]


# ---- title-aware: book, manual, laws, paper, resume -------------------------------------------------------
LAW = (b"Civil Code\n\nContents\n\nChapter 1 General ........ 1\n\nChapter 2 Contracts ....... 5\n\n"
       b"Chapter 1 General Provisions\n\nArticle 1 This law protects the rights of persons.\n\n"
       b"Article 2 Persons are equal before the law; no one is above it.\n\nChapter 2 Contracts\n\n"
       b"Article 3 A contract is an agreement between parties.\nIt binds them.\n\n"
       b"Article 4 Contracts must be fulfilled in good faith.\n")


def test_laws_one_chunk_per_article_with_chapter() -> None:
    out = chunk_document(parse_document("law.txt", LAW), "laws", {"chunk_token_num": 512}, filename="law.txt")
    assert contents(out) == [
        "Civil Code",
        "Chapter 1 General Provisions\nArticle 1 This law protects the rights of persons.",
        "Chapter 1 General Provisions\nArticle 2 Persons are equal before the law; no one is above it.",
        "Chapter 2 Contracts\nArticle 3 A contract is an agreement between parties.\nIt binds them.",
        "Chapter 2 Contracts\nArticle 4 Contracts must be fulfilled in good faith.",
    ]  # the table of contents is gone


def test_laws_chinese_numbering() -> None:
    text = "第一章 总则\n\n第一条 为了保护民事主体的合法权益，制定本法。\n\n第二条 民法调整平等主体之间的关系。\n\n第二章 自然人\n\n第三条 自然人从出生时起具有民事权利能力。\n"
    out = chunk_document(parse_document("l.txt", text.encode()), "laws", {}, filename="l.txt")
    assert contents(out) == [
        "第一章 总则\n第一条 为了保护民事主体的合法权益，制定本法。",
        "第一章 总则\n第二条 民法调整平等主体之间的关系。",
        "第二章 自然人\n第三条 自然人从出生时起具有民事权利能力。",
    ]


def test_book_and_manual_merge_small_sections_with_title_paths() -> None:
    md = b"# Manual\n\nIntro.\n\n## Setup\n\nInstall it.\n\n### Linux\n\napt install x\n\n## Use\n\nRun it.\n"
    parsed = parse_document("m.md", md)
    for method in ("manual", "book"):
        big = chunk_document(parsed, method, {"chunk_token_num": 512}, filename="m.md")
        assert contents(big) == ["Manual\nIntro.\nSetup\nInstall it.\nLinux\napt install x\nUse\nRun it."]
        small = chunk_document(parsed, method, {"chunk_token_num": 12}, filename="m.md")
        assert contents(small) == ["Manual\nIntro.\nSetup\nInstall it.", "Manual\nSetup\nLinux\napt install x\nUse\nRun it."]


def test_book_splits_long_section_repeating_its_titles() -> None:
    body = "\n".join(f"Sentence {i} of a long chapter about parsing." for i in range(60))
    parsed = doc(Block("Part One", kind="title", level=1), Block("Chapter A", kind="title", level=2), Block(body))
    out = chunk_document(parsed, "book", {"chunk_token_num": 64}, filename="b.docx")
    assert len(out) > 3 and all(d.content.startswith("Part One\nChapter A\n") for d in out)
    assert sum(d.content.count("Sentence ") for d in out) == 60


def test_book_without_titles_falls_back_to_naive() -> None:
    parsed = doc(Block("just prose"), Block("more prose"))
    assert contents(chunk_document(parsed, "book", {}, filename="a.txt")) == ["just prose\nmore prose"]


def test_paper_abstract_is_its_own_chunk() -> None:
    pdf = make_pdf([["Deep Retrieval for Everyone", "Ann Author, Bob Writer", "Abstract",
                     "We show that retrieval works well for everyone.", "1 Introduction", "Retrieval is old.",
                     "2 Method", "We index text."]])
    out = chunk_document(parse_document("p.pdf", pdf), "paper", {}, filename="p.pdf")
    assert out[0].content == ("Deep Retrieval for Everyone\nAnn Author, Bob Writer\nAbstract\n"
                              "We show that retrieval works well for everyone.")
    assert out[0].important_keywords == ["abstract"] and out[0].page_num == [1]
    assert "1 Introduction\nRetrieval is old." in out[1].content and "2 Method\nWe index text." in out[-1].content


def test_resume_sections_carry_the_name() -> None:
    cv = (b"Jane Doe\njane@example.com\n\nExperience\n\nAcme Corp, engineer 2019-2024. Built search.\n\n"
          b"Education\n\nMIT, BSc 2019\n\nSkills:\n\nPython, Rust\n")
    out = chunk_document(parse_document("cv.txt", cv), "resume", {}, filename="cv.txt")
    assert contents(out) == ["Jane Doe\njane@example.com", "Jane Doe\nExperience\nAcme Corp, engineer 2019-2024. Built search.",
                             "Jane Doe\nEducation\nMIT, BSc 2019", "Jane Doe\nSkills\nPython, Rust"]


# ---- qa, tag, table ------------------------------------------------------------------------------------
def test_qa_from_sheet_csv_txt_markdown_and_markers() -> None:
    from tests.unit.files_factory import make_xlsx

    cases = {
        "q.xlsx": make_xlsx({"S": [["What is RAG?", "Retrieval augmented generation."], ["Who?", "Us"]]}),
        "q.csv": b"question,answer\nWhat is RAG?,Retrieval augmented generation.\nWho?,Us\n",
        "q.txt": b"What is RAG?\tRetrieval augmented generation.\nWho?\tUs\n",
        "q.md": b"## What is RAG?\nRetrieval augmented generation.\n## Who?\nUs\n",
        "q.pdf": make_pdf([["Q: What is RAG?", "A: Retrieval augmented generation.", "Q: Who?", "A: Us"]]),
    }
    for name, data in cases.items():
        out = chunk_document(parse_document(name, data), "qa", {}, filename=name)
        assert contents(out) == ["Question: What is RAG?\tAnswer: Retrieval augmented generation.",
                                 "Question: Who?\tAnswer: Us"], name
        assert out[0].questions == ["What is RAG?"] and out[0].kind == "qa"


def test_qa_continuation_chinese_and_nothing_found() -> None:
    out = chunk_document(parse_document("q.txt", b"Why?\tBecause.\nIt is so.\n"), "qa", {}, filename="q.txt")
    assert contents(out) == ["Question: Why?\tAnswer: Because.\nIt is so."]
    out = chunk_document(parse_document("z.txt", "问：什么是RAG？\n答：检索增强生成。".encode()), "qa", {}, filename="z.txt")
    assert contents(out) == ["问题：什么是RAG？\t回答：检索增强生成。"]
    with pytest.raises(ParseError, match="No question/answer pairs were found"):
        chunk_document(parse_document("n.txt", b"plain prose only"), "qa", {}, filename="n.txt")


def test_tag_content_and_tags() -> None:
    data = b'text,tags\nPython is a language,"programming, lang.python"\nParis,city\n'
    out = chunk_document(parse_document("t.csv", data), "tag", {}, filename="t.csv")
    assert [(d.content, d.tags) for d in out] == [("Python is a language", ["programming", "lang_python"]),
                                                  ("Paris", ["city"])]


def test_table_one_chunk_per_row() -> None:
    from tests.unit.files_factory import make_xlsx

    data = make_xlsx({"People": [["name", "age", "city"], ["bob", 3, "Paris"], ["amy", 4, None]]})
    out = chunk_document(parse_document("t.xlsx", data), "table", {}, filename="t.xlsx")
    assert contents(out) == ["- name: bob\n- age: 3\n- city: Paris", "- name: amy\n- age: 4"]
    txt = chunk_document(parse_document("t.txt", b"name\tage\nann\t5\n"), "table", {}, filename="t.txt")
    assert contents(txt) == ["- name: ann\n- age: 5"]
    with pytest.raises(ParseError, match="The table method reads"):
        chunk_document(parse_document("t.md", b"# not a table"), "table", {}, filename="t.md")


def test_naive_on_sheets_rows_and_html4excel() -> None:
    from tests.unit.files_factory import make_xlsx

    data = make_xlsx({"People": [["name", "age"], ["bob", 3], ["amy", 4]]})
    out = chunk_document(parse_document("s.xlsx", data), "naive", {}, filename="s.xlsx")
    assert contents(out) == ["name：bob; age：3 ——People\nname：amy; age：4 ——People"]
    html = chunk_document(parse_document("s.xlsx", data, html4excel=True), "naive", {}, filename="s.xlsx")
    assert contents(html) == ["<table><caption>People</caption><tr><th>name</th><th>age</th></tr>"
                              "<tr><td>bob</td><td>3</td></tr><tr><td>amy</td><td>4</td></tr></table>"]
    assert html[0].kind == "table"


# ---- presentation, email, every method on every format ---------------------------------------------------
def test_presentation_one_chunk_per_slide_or_page() -> None:
    from tests.unit.files_factory import make_pptx

    out = chunk_document(parse_document("s.pptx", make_pptx([("One", ["a", "b"]), ("Two", ["c"])])), "presentation",
                         {}, filename="s.pptx")
    assert [(d.content, d.page_num) for d in out] == [("One\na\nb", [1]), ("Two\nc", [2])]
    pdf = chunk_document(parse_document("s.pdf", make_pdf([["page one"], ["page two"]])), "presentation", {},
                         filename="s.pdf")
    assert [(d.content, d.page_num) for d in pdf] == [("page one", [1]), ("page two", [2])]
    with pytest.raises(ParseError, match="slides or pages"):
        chunk_document(parse_document("a.txt", b"no pages"), "presentation", {}, filename="a.txt")


def test_email_headers_body_then_attachments() -> None:
    from tests.unit.files_factory import make_eml

    data = make_eml("Hi", "Body text.", attachments=[("n.txt", b"attached note", "text/plain")])
    out = chunk_document(parse_document("m.eml", data), "email", {}, filename="m.eml")
    assert out[0].content.startswith("From: alice@example.com") and out[0].content.endswith("Subject: Hi\nBody text.")
    assert out[1].content == "Attachment: n.txt\nattached note"
    with pytest.raises(ParseError, match=r"\.eml"):
        chunk_document(doc(Block("x")), "email", {}, filename="a.txt")


@pytest.mark.parametrize("method", ["naive", "book", "laws", "manual", "paper", "one", "resume"])
def test_text_methods_work_on_every_text_format(method: str) -> None:
    from tests.unit.files_factory import make_docx, make_eml, make_pptx, make_xlsx

    files = {
        "a.pdf": make_pdf(lorem_pages(3)),
        "a.docx": make_docx([("Heading 1", "Intro"), ("Normal", "Some text about parsing.")]),
        "a.pptx": make_pptx([("Slide", ["point"])]),
        "a.xlsx": make_xlsx({"S": [["k", "v"], ["a", 1]]}),
        "a.md": b"# T\n\nbody",
        "a.html": b"<h1>T</h1><p>body</p>",
        "a.json": b'{"k": "v"}',
        "a.eml": make_eml("S", "body"),
        "a.py": b"print('x')\n",
    }
    for name, data in files.items():
        out = chunk_document(parse_document(name, data), method, {"chunk_token_num": 128}, filename=name)
        assert out and all(d.content.strip() for d in out), (method, name)


def test_parent_child_children_keep_their_parent() -> None:
    parsed = doc(Block("Alpha one.\nAlpha two."), Block("| t |\n|---|\n| 1 |", kind="table"))
    config = {"chunk_token_num": 512, "parent_child": {"use_parent_child": True, "children_delimiter": "\n"}}
    out = chunk_document(parsed, "naive", config, filename="a.md")
    assert [(d.content, d.parent) for d in out] == [
        ("Alpha one.", "Alpha one.\nAlpha two."), ("Alpha two.", "Alpha one.\nAlpha two."),
        ("| t |\n|---|\n| 1 |", ""),  # tables stay whole
    ]
    off = chunk_document(parsed, "naive", {"parent_child": {"use_parent_child": False}}, filename="a.md")
    assert all(d.parent == "" for d in off) and len(off) == 2


def test_delimiterless_giant_text_is_cut() -> None:
    blob = "word " * 20000  # ~20k tokens and no delimiter
    out = chunk_document(doc(Block(blob)), "naive", {"chunk_token_num": 128, "delimiter": "\n"},
                         filename="min.js")
    assert len(out) > 10 and max(count_tokens(d.content) for d in out) <= 128 * 3
    assert sum(d.content.count("word") for d in out) == 20000


def test_laws_docx_articles_under_styled_chapters() -> None:
    from tests.unit.files_factory import make_docx

    data = make_docx([("Heading 1", "Chapter I Scope"), ("Normal", "Article 1 This act applies to all data."),
                      ("Normal", "Article 2 Data must be kept safe; leaks are reported."),
                      ("Heading 1", "Chapter II Duties"), ("Normal", "Article 3 Controllers keep records.")])
    out = chunk_document(parse_document("act.docx", data), "laws", {}, filename="act.docx")
    assert contents(out) == ["Chapter I Scope\nArticle 1 This act applies to all data.",
                             "Chapter I Scope\nArticle 2 Data must be kept safe; leaks are reported.",
                             "Chapter II Duties\nArticle 3 Controllers keep records."]
