"""Record-style methods: qa and tag (question/answer pairs) and table (one chunk per row).

Sources, after RAGFlow's qa/tag/table: sheets (XLSX) and CSV/TSV rows of two columns; TXT lines "q<TAB>a" or
"q,a" (a line without the separator continues the previous answer); Markdown/HTML/DOCX headings as questions
with the text under them as the answer; and in any text "Q:"/"A:" (Question:/Answer:, 问：/答：) lines. RAGFlow
finds Q/A in PDFs with its layout model; we use the "Q:"/"A:" markers there.
"""

from __future__ import annotations

import re
from typing import Any

from ragcore.chunking.types import ChunkDraft, draft
from ragcore.parsing import Block, ParsedDocument, ParseError, suffix_of

_PREFIX = re.compile(r"^(问题|答案|回答|user|assistant|Q|A|Question|Answer|问|答)[\t:： ]+", re.IGNORECASE)
_Q_LINE = re.compile(r"^\s*(?:Q|Question|问题|问)\s*[:：]\s*(.*)$", re.IGNORECASE)
_A_LINE = re.compile(r"^\s*(?:A|Answer|答案|回答|答)\s*[:：]\s*(.*)$", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_HEADER_WORDS = {"question", "questions", "answer", "answers", "q", "a", "问题", "答案", "回答", "tag", "tags", "content", "text",
                 "标签", "内容"}


def strip_prefix(text: str) -> str:
    return _PREFIX.sub("", text.strip())


def _english(config: dict[str, Any], pairs: list[tuple[str, str, set[int]]]) -> bool:
    language = str(config.get("language") or config.get("lang") or "").lower()
    if language:
        return language.startswith("en")
    sample = "".join(q for q, _, _ in pairs[:30])
    return len(_CJK.findall(sample)) < max(1, len(sample)) * 0.2


def _row_pairs(blocks: list[Block]) -> list[tuple[str, str, set[int]]]:
    pairs: list[tuple[str, str, set[int]]] = []
    for block in blocks:
        cells = [str(c).strip() for c in block.meta.get("cells") or [] if str(c).strip()]
        if len(cells) < 2:
            continue
        if block.meta.get("header_row") and {c.lower() for c in cells[:2]} <= _HEADER_WORDS:
            continue
        pairs.append((cells[0], cells[1] if len(cells) == 2 else "\n".join(cells[1:]), {block.page}))
    return pairs


def _separated_lines(text: str) -> list[tuple[str, str, set[int]]]:
    """RAGFlow's TXT rule: the separator (TAB unless commas split more lines in two) cuts q from a."""
    lines = text.split("\n")
    tabs = sum(1 for ln in lines if len(ln.split("\t")) == 2)
    commas = sum(1 for ln in lines if len(ln.split(",")) == 2)
    sep = "\t" if tabs >= commas else ","
    if max(tabs, commas) == 0:
        return []
    pairs: list[tuple[str, str, set[int]]] = []
    question, answer = "", ""
    for line in lines:
        parts = line.split(sep)
        if len(parts) == 2:
            if question:
                pairs.append((question, answer.strip(), set()))
            question, answer = parts[0].strip(), parts[1].strip()
        elif question and line.strip():
            answer += "\n" + line.strip()
    if question:
        pairs.append((question, answer.strip(), set()))
    return [p for p in pairs if p[0] and p[1]]


def _marked_pairs(blocks: list[Block]) -> list[tuple[str, str, set[int]]]:
    """"Q: …" / "A: …" lines anywhere in the text; lines after an answer continue it."""
    pairs: list[tuple[str, str, set[int]]] = []
    question: str | None = None
    answer: list[str] = []
    pages: set[int] = set()
    in_answer = False

    def close() -> None:
        if question and answer:
            pairs.append((question, "\n".join(answer).strip(), set(pages)))

    for block in blocks:
        for line in block.text.split("\n"):
            q = _Q_LINE.match(line)
            a = _A_LINE.match(line)
            if q:
                close()
                question, answer, pages, in_answer = q.group(1).strip(), [], {block.page}, False
            elif a and question is not None:
                answer.append(a.group(1).strip())
                pages.add(block.page)
                in_answer = True
            elif question is not None and line.strip():
                if in_answer:
                    answer.append(line.strip())
                else:
                    question = f"{question} {line.strip()}"
                pages.add(block.page)
    close()
    return [p for p in pairs if p[1]]


def _heading_pairs(blocks: list[Block]) -> list[tuple[str, str, set[int]]]:
    """RAGFlow's Markdown rule: the heading path (joined by newlines) is the question, the text under it the answer."""
    pairs: list[tuple[str, str, set[int]]] = []
    stack: list[tuple[int, str]] = []
    answer: list[str] = []
    pages: set[int] = set()

    def close() -> None:
        if stack and "\n".join(answer).strip():
            pairs.append(("\n".join(t for _, t in stack), "\n".join(answer).strip(), set(pages)))

    for block in blocks:
        if block.kind == "title":
            close()
            answer, pages = [], set()
            while stack and stack[-1][0] >= max(block.level, 1):
                stack.pop()
            stack.append((max(block.level, 1), block.text.strip()))
        else:
            answer.append(block.text)
            pages.add(block.page)
    close()
    return pairs


def extract_pairs(parsed: ParsedDocument, filename: str) -> list[tuple[str, str, set[int]]]:
    blocks = parsed.blocks
    if any("cells" in b.meta for b in blocks):
        return _row_pairs(blocks)
    marked = _marked_pairs(blocks)
    if marked:
        return marked
    if any(b.kind == "title" for b in blocks):
        return _heading_pairs(blocks)
    if suffix_of(filename) in ("txt", "text", "log", ""):
        return _separated_lines("\n".join(b.text for b in blocks))
    return []


_QA_HINT = ("No question/answer pairs were found. The qa method reads two-column sheets or CSV (question, answer), "
            "TXT lines 'question<TAB>answer', Markdown/DOCX headings followed by their answers, or 'Q:'/'A:' lines.")


def qa_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    pairs = extract_pairs(parsed, filename)
    if not pairs:
        raise ParseError(_QA_HINT)
    english = _english(config, pairs)
    q_prefix, a_prefix = ("Question: ", "Answer: ") if english else ("问题：", "回答：")
    out = []
    for question, answer, pages in pairs:
        q, a = strip_prefix(question), strip_prefix(answer)
        out.append(draft(f"{q_prefix}{q}\t{a_prefix}{a}", pages, questions=[q], kind="qa"))
    return out


def tag_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    """RAGFlow's tag sets: the first column is the content, the second a comma-separated list of tags."""
    pairs = extract_pairs(parsed, filename)
    if not pairs:
        raise ParseError(
            "No tagged rows were found. The tag method reads two-column sheets, CSV or TXT lines: content, then "
            "comma-separated tags."
        )
    out = []
    for content, tags, pages in pairs:
        names = [t.strip().replace(".", "_") for t in re.split(r"[,，]", tags) if t.strip()]
        out.append(draft(content.strip(), pages, tags=names, kind="qa"))
    return out


def table_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    """One chunk per data row: "- header: value" lines (RAGFlow's table method), the header row skipped."""
    rows = [b for b in parsed.blocks if "cells" in b.meta]
    if not rows:
        if suffix_of(filename) in ("txt", "text"):
            from ragcore.parsing.sheets import parse_csv

            text = "\n".join(b.text for b in parsed.blocks).encode()
            rows = [b for b in parse_csv(text).blocks if "cells" in b.meta]
        if not rows:
            raise ParseError("The table method reads XLSX, CSV/TSV and TXT tables (first row = column names).")
    out = []
    for block in rows:
        if block.meta.get("header_row"):
            continue
        header = list(block.meta.get("header") or [])
        cells = list(block.meta.get("cells") or [])
        lines = []
        for i, value in enumerate(cells):
            if not str(value).strip():
                continue
            name = str(header[i]).strip() if i < len(header) and str(header[i]).strip() else f"column {i + 1}"
            lines.append(f"- {name}: {value}")
        if lines:
            out.append(draft("\n".join(lines), {block.page}, kind="table"))
    if not out and rows:
        # a sheet holding one row only: that row is data, not a header
        out = [draft("\n".join(f"- column {i + 1}: {c}" for i, c in enumerate(b.meta["cells"]) if str(c).strip()),
                     {b.page}, kind="table") for b in rows]
    return out
