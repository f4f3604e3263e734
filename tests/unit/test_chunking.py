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
    with pytest.raises(ParseError, match="vision model"):
        chunk_document(doc(Block("x")), "picture", {}, filename="a.png")


def test_one_is_whole_document() -> None:
    out = chunk_document(doc(Block("a", page=1), Block("b", page=3), pages=3), "one", {}, filename="a.pdf")
    assert contents(out) == ["a\nb"] and out[0].page_num == [1, 3]
