"""Markdown (headings, fenced code, pipe tables, lists) and HTML (stdlib html.parser) → blocks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ragcore.parsing.plain import read_text
from ragcore.parsing.types import Block, ParsedDocument

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def parse_markdown(data: bytes) -> ParsedDocument:
    text = read_text(data, "Markdown")
    lines = text.split("\n")
    blocks: list[Block] = []
    para: list[str] = []
    kind = "text"

    def flush() -> None:
        nonlocal para, kind
        body = "\n".join(para).strip("\n")
        if body.strip():
            blocks.append(Block(text=body, kind=kind))
        para, kind = [], "text"

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker = fence.group(1)
            code = [line]
            i += 1
            while i < len(lines):
                code.append(lines[i])
                if lines[i].strip().startswith(marker):
                    break
                i += 1
            blocks.append(Block(text="\n".join(code), kind="code"))
            i += 1
            continue
        heading = _ATX.match(line)
        if heading:
            flush()
            blocks.append(Block(text=heading.group(2), kind="title", level=len(heading.group(1))))
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and not para and re.fullmatch(r"\s*(=+|-+)\s*", nxt) and len(nxt.strip()) >= 2:
            blocks.append(Block(text=line.strip(), kind="title", level=1 if "=" in nxt else 2))
            i += 2
            continue
        if line.lstrip().startswith("|") and _TABLE_RULE.match(nxt):
            flush()
            rows = [line, nxt]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            blocks.append(Block(text="\n".join(rows), kind="table"))
            continue
        if not line.strip():
            flush()
            i += 1
            continue
        if _LIST.match(line) and para and kind != "list":
            flush()
        if _LIST.match(line) and not para:
            kind = "list"
        para.append(line)
        i += 1
    flush()
    return ParsedDocument(blocks=blocks, pages=1, meta={})


_SKIP = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_BREAKS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote", "br", "hr",
           "ul", "ol", "dl", "dt", "dd", "form", "figure", "figcaption", "address", "body", "html"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _HtmlBlocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._buf: list[str] = []
        self._skip = 0
        self._heading = 0
        self._pre = 0
        self._in_title = False
        self._li = False
        # tables: a stack so nested tables don't scramble their parent's rows
        self._tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    # text ---------------------------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        if self._cell is not None:
            self._cell.append(data)
            return
        self._buf.append(data if self._pre else re.sub(r"\s+", " ", data))

    def _flush(self, kind: str = "text", level: int = 0) -> None:
        text = "".join(self._buf)
        self._buf = []
        if self._pre:
            text = text.strip("\n").rstrip()
        else:
            text = "\n".join(ln.strip() for ln in re.sub(r"[ \t]+", " ", text).split("\n")).strip()
        if text:
            if self._li and kind == "text":
                kind = "list"
                text = "- " + text
            self.blocks.append(Block(text=text, kind=kind, level=level))

    # tags ---------------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP and tag != "head":
            self._skip += 1
            return
        if tag == "title":
            self._in_title = True
            return
        if tag == "table":
            self._flush()
            self._tables.append([])
        elif tag == "tr" and self._tables:
            self._tables[-1].append([])
        elif tag in ("td", "th") and self._tables:
            if not self._tables[-1]:
                self._tables[-1].append([])
            self._cell = []
        elif tag in _HEADINGS:
            self._flush()
            self._heading = _HEADINGS[tag]
        elif tag == "li":
            self._flush()
            self._li = True
        elif tag == "pre":
            self._flush()
            self._pre += 1
        elif tag in _BREAKS:
            if tag == "br" and self._cell is not None:
                self._cell.append(" ")
            elif tag == "br" and self._pre:
                self._buf.append("\n")
            else:
                self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and tag != "head":
            self._skip = max(0, self._skip - 1)
            return
        if tag == "title":
            self._in_title = False
            return
        if tag in ("td", "th") and self._cell is not None and self._tables:
            self._tables[-1][-1].append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "table" and self._tables:
            rows = [r for r in self._tables.pop() if any(c for c in r)]
            if rows:
                self.blocks.append(Block(text=rows_to_markdown(rows), kind="table", meta={"rows": len(rows)}))
        elif tag in _HEADINGS:
            self._flush("title", self._heading)
            self._heading = 0
        elif tag == "li":
            self._flush()
            self._li = False
        elif tag == "pre":
            self._flush("code")
            self._pre = max(0, self._pre - 1)
        elif tag in _BREAKS and tag != "br":
            self._flush()

    def close(self) -> None:
        super().close()
        if self._cell is not None and self._tables:
            self._tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        while self._tables:
            rows = [r for r in self._tables.pop() if any(c for c in r)]
            if rows:
                self.blocks.append(Block(text=rows_to_markdown(rows), kind="table", meta={"rows": len(rows)}))
        self._flush()


def rows_to_markdown(rows: list[list[str]]) -> str:
    """A pipe table: the first row is the header. Pipes inside cells are escaped."""
    width = max(len(r) for r in rows)
    clean = [[c.replace("|", "\\|").replace("\n", " ").strip() for c in r] + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(clean[0]) + " |", "|" + "---|" * width]
    lines.extend("| " + " | ".join(r) + " |" for r in clean[1:])
    return "\n".join(lines)


def html_to_blocks(html: str) -> tuple[list[Block], str]:
    parser = _HtmlBlocks()
    parser.feed(html)
    parser.close()
    return parser.blocks, parser.title.strip()


def parse_html(data: bytes) -> ParsedDocument:
    blocks, title = html_to_blocks(read_text(data, "HTML"))
    return ParsedDocument(blocks=blocks, pages=1, meta={"title": title} if title else {})
