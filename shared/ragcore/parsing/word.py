"""DOCX (python-docx): paragraphs in body order, headings as titles, lists, tables as pipe tables.

Page numbers come from the page breaks Word records (rendered and explicit); a file without any gets page 0.
Headers, footers and comments are left out: they repeat on every page and drown the body in search.
"""

from __future__ import annotations

from typing import Any

from ragcore.parsing.guards import open_zip, reject_ole
from ragcore.parsing.markup import rows_to_markdown
from ragcore.parsing.types import Block, ParsedDocument, ParseError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def parse_docx(data: bytes) -> ParsedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    reject_ole(data, "DOCX", ".docx")
    open_zip(data, "DOCX").close()
    try:
        import io

        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise ParseError(f"The DOCX file is corrupt: {exc or type(exc).__name__}.") from None

    blocks: list[Block] = []
    page = 1
    saw_break = False

    def paragraph(par: Any) -> None:
        nonlocal page, saw_break
        element = par._p
        breaks = len(element.findall(f".//{_W}lastRenderedPageBreak")) + sum(
            1 for br in element.iter(f"{_W}br") if br.get(f"{_W}type") == "page"
        )
        text = par.text.strip()
        # a break before any text in the paragraph moves the paragraph itself to the next page
        if breaks:
            saw_break = True
            page += breaks
        if not text:
            return
        style = (par.style.name if par.style is not None else "") or ""
        level = _heading_level(style, element)
        if level:
            blocks.append(Block(text=text, page=page, kind="title", level=level, meta={"style": style}))
        elif "List" in style or element.find(f"{_W}pPr/{_W}numPr") is not None:
            blocks.append(Block(text=f"- {text}", page=page, kind="list"))
        else:
            blocks.append(Block(text=text, page=page))

    def table(tbl: Any) -> None:
        rows: list[list[str]] = []
        for row in tbl.rows:
            cells: list[str] = []
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
                    continue
                seen.add(id(cell._tc))
                cells.append(" ".join(cell.text.split()))
            if any(cells):
                rows.append(cells)
        if rows:
            blocks.append(Block(text=rows_to_markdown(rows), page=page, kind="table", meta={"rows": len(rows)}))

    def walk(container: Any) -> None:
        for child in container.iterchildren():
            if child.tag == f"{_W}p":
                paragraph(Paragraph(child, document))
            elif child.tag == f"{_W}tbl":
                table(Table(child, document))
            elif child.tag == f"{_W}sdt":  # content controls wrap ordinary paragraphs and tables
                content = child.find(f"{_W}sdtContent")
                if content is not None:
                    walk(content)

    try:
        walk(document.element.body)
    except Exception as exc:
        raise ParseError(f"The DOCX file is corrupt: {exc or type(exc).__name__}.") from None
    if not saw_break:
        for block in blocks:
            block.page = 0
    meta: dict[str, Any] = {}
    title = (document.core_properties.title or "").strip()
    if title:
        meta["title"] = title
    return ParsedDocument(blocks=blocks, pages=page if saw_break else 1, meta=meta)


def _heading_level(style: str, element: Any) -> int:
    name = style.lower()
    if name == "title":
        return 1
    if name.startswith("heading"):
        digits = "".join(ch for ch in name if ch.isdigit())
        return max(1, min(int(digits), 9)) if digits else 1
    outline = element.find(f"{_W}pPr/{_W}outlineLvl")
    if outline is not None:
        try:
            value = int(outline.get(f"{_W}val", "9"))
        except ValueError:
            return 0
        return value + 1 if value < 9 else 0
    return 0
