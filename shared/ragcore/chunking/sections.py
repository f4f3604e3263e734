"""Title-aware chunking for book, laws, manual, paper and resume.

RAGFlow finds titles with its layout model (PDF) or styles (DOCX) plus numbering patterns ("Chapter 1",
"1.2", "Article 5", "第一章", "第三条" …). We have no layout model, so titles come from the file's own
structure where it has one (Markdown/HTML headings, DOCX heading styles, slide titles) and otherwise from the
same numbering-pattern families RAGFlow uses, choosing the family with the most hits in the document.

Sections are built from titles; every chunk starts with its ancestors' titles so it still says where it
belongs. book/manual/paper merge small neighbouring sections up to chunk_token_num; laws makes one chunk per
article (the most frequent title level) with its chapter titles; resume makes one chunk per resume section.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ragcore.chunking.merge import Unit, budget, delimiters, merge_units, naive_chunks, row_line, units_of
from ragcore.chunking.types import ChunkDraft, draft
from ragcore.parsing import Block, ParsedDocument
from ragcore.text.token_count import count_tokens

_CN_NUM = "零一二三四五六七八九十百千0-9"
# Families of numbering patterns, outermost level first (after RAGFlow's BULLET_PATTERN).
FAMILIES: list[list[str]] = [
    [rf"第[{_CN_NUM}]+(?:分?编|部分)", rf"第[{_CN_NUM}]+章", rf"第[{_CN_NUM}]+节", rf"第[{_CN_NUM}]+条",
     r"[\(（][零一二三四五六七八九十百]+[\)）]"],
    [r"第[0-9]+章", r"第[0-9]+节", r"[0-9]{1,2}(?:[.、](?![0-9])|\s)\s*\S", r"[0-9]{1,2}\.[0-9]{1,2}(?![0-9.])",
     r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}(?![0-9.])", r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}"],
    [rf"第[{_CN_NUM}]+章", rf"第[{_CN_NUM}]+节", r"[零一二三四五六七八九十百]+[ 、]", r"[\(（][零一二三四五六七八九十百]+[\)）]",
     r"[\(（][0-9]{1,2}[\)）]"],
    [r"(?i:part)\s+(?:[0-9]+|[IVXLC]+|one|two|three|four|five|six|seven|eight|nine|ten)\b",
     r"(?i:chapter)\s+(?:[0-9]+|[IVXLC]+|one|two|three|four|five|six|seven|eight|nine|ten)\b",
     r"(?i:section)\s+[0-9]+(?:\.[0-9]+)*\b", r"(?i:article)\s+[0-9]+\b"],
]
_COMPILED = [[re.compile(p) for p in family] for family in FAMILIES]
_NOT_BULLET = [re.compile(p) for p in (r"0", r"[0-9]+ +[0-9~个只-]", r"[0-9]+\.{2,}", r"[0-9]+(\.[0-9]+){2,}[的中]")]
_TOC_HEAD = re.compile(r"^\s*(?:table of contents|contents|目\s*录)\s*$", re.IGNORECASE)
_TOC_LINE = re.compile(r"(?:\.{3,}|…{2,}|\s)\s*[0-9ivxlc]{1,4}\s*$", re.IGNORECASE)


def _not_bullet(text: str) -> bool:
    return any(p.match(text) for p in _NOT_BULLET)


def is_plain_title(text: str) -> bool:
    """A heading line alone (not a numbered sentence or an article with its body), after RAGFlow's not_title."""
    if len(text.split()) > 12 or (" " not in text and len(text) >= 32):
        return False
    return not re.search(r"[,;，。；！!]", text) and not text.rstrip().endswith(".")


def numbering_family(blocks: list[Block]) -> int:
    hits = [0] * len(_COMPILED)
    for block in blocks:
        text = block.text.strip()
        if not text or _not_bullet(text):
            continue
        for i, family in enumerate(_COMPILED):
            if any(p.match(text) for p in family):
                hits[i] += 1
    best = max(range(len(hits)), key=lambda i: hits[i]) if hits else -1
    return best if best >= 0 and hits[best] > 0 else -1


@dataclass
class Heading:
    level: int
    label: str  # what children carry in their title path
    plain: bool  # a title line alone; False: the numbering starts a paragraph with body text


def detect_headings(blocks: list[Block], *, numbering_too: bool = False) -> dict[int, Heading]:
    """Block index → heading, from the file's titles, else from its numbering patterns.

    numbering_too (laws): numbered paragraphs ("Article 5 …", "第五条 …") count as well, below the file's own
    titles, because a statute's articles are ordinary paragraphs under styled chapter headings."""
    headings: dict[int, Heading] = {}
    titled = any(b.kind == "title" for b in blocks)
    if titled:
        for i, b in enumerate(blocks):
            if b.kind == "title" and b.text.strip():
                headings[i] = Heading(max(b.level, 1), b.text.strip(), True)
        if not numbering_too:
            return headings
    candidates = [b for b in blocks if b.kind != "title"]
    family = numbering_family(candidates)
    if family < 0:
        return headings
    offset = max((h.level for h in headings.values()), default=0)
    for i, b in enumerate(blocks):
        text = b.text.strip()
        if i in headings or b.kind in ("table", "code") or "cells" in b.meta or _not_bullet(text):
            continue
        for level, pattern in enumerate(_COMPILED[family], start=1):
            match = pattern.match(text)
            if match:
                plain = is_plain_title(text)
                headings[i] = Heading(offset + level, text if plain else match.group(0).strip(), plain)
                break
    return headings


@dataclass
class Section:
    path: list[str]  # ancestors' titles, outermost first
    heading: Heading | None
    blocks: list[Block] = field(default_factory=list)  # including the heading block when it has body text

    def header_lines(self) -> list[str]:
        own = [self.heading.label] if self.heading is not None and self.heading.plain else []
        return self.path + own


def build_sections(blocks: list[Block], headings: dict[int, Heading]) -> list[Section]:
    sections: list[Section] = [Section([], None)]
    stack: list[Heading] = []
    for i, block in enumerate(blocks):
        heading = headings.get(i)
        if heading is None:
            sections[-1].blocks.append(block)
            continue
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        section = Section([h.label for h in stack], heading)
        if not heading.plain:
            section.blocks.append(block)
        else:
            section.blocks.append(Block(text="", page=block.page))  # keeps the title's page
        sections.append(section)
        stack.append(heading)
    return [s for s in sections if s.heading is not None or any(b.text.strip() for b in s.blocks)]


def remove_toc(blocks: list[Block]) -> list[Block]:
    """Drop a table of contents: its "Contents" line and the entry lines ending in page numbers that follow."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        if _TOC_HEAD.match(blocks[i].text):
            j = i + 1
            while j < len(blocks) and (_TOC_LINE.search(blocks[j].text) or not blocks[j].text.strip()):
                j += 1
            if j - i > 2:
                i = j
                continue
        out.append(blocks[i])
        i += 1
    return out


def _section_units(section: Section, config: dict[str, Any]) -> list[Unit]:
    body = [b for b in section.blocks if b.text.strip() or "cells" in b.meta]
    return units_of(body, delimiters(config), budget(config), html4excel=False)


def _pages(section: Section) -> set[int]:
    return {b.page for b in section.blocks}


def section_chunks(sections: list[Section], config: dict[str, Any], *, merge_small: bool) -> list[ChunkDraft]:
    """Each section (with its title path) as one chunk if it fits, else split with the path repeated;
    merge_small packs neighbouring small sections together while they fit the budget."""
    limit = budget(config)
    out: list[ChunkDraft] = []
    pending: list[str] = []
    pending_pages: set[int] = set()
    pending_tokens = 0
    last_header: list[str] = []

    def flush() -> None:
        nonlocal pending, pending_pages, pending_tokens, last_header
        if pending:
            out.append(draft("\n".join(pending).strip(), pending_pages))
        pending, pending_pages, pending_tokens, last_header = [], set(), 0, []

    for index, section in enumerate(sections):
        header = section.header_lines()
        units = _section_units(section, config)
        body_text = "\n".join(u.text.strip() for u in units)
        following = sections[index + 1] if index + 1 < len(sections) else None
        if not body_text and header and following is not None and following.path[: len(header)] == header:
            continue  # a title with nothing but subsections: its children carry it in their path
        whole = "\n".join([*header, body_text]).strip()
        tokens = count_tokens(whole)
        if tokens > limit and units:
            flush()
            out.extend(merge_units(units, config, prefix="\n".join(header)))
            continue
        if not merge_small or (pending and pending_tokens + tokens > limit):
            flush()
        # titles already shown by the previous section in this chunk are not repeated
        shared = 0
        while shared < min(len(last_header), len(header)) and last_header[shared] == header[shared]:
            shared += 1
        piece = "\n".join([*header[shared:], body_text]).strip()
        if piece:
            pending.append(piece)
            pending_tokens += count_tokens(piece)
            pending_pages |= _pages(section)
            last_header = header
        if not merge_small:
            flush()
    flush()
    return [d for d in out if d.content]


def _titled_chunks(parsed: ParsedDocument, config: dict[str, Any], *, merge_small: bool, toc: bool) -> list[ChunkDraft]:
    blocks = remove_toc(parsed.blocks) if toc else parsed.blocks
    headings = detect_headings(blocks)
    if not headings:
        return naive_chunks(blocks, config)
    return section_chunks(build_sections(blocks, headings), config, merge_small=merge_small)


def book_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    return _titled_chunks(parsed, config, merge_small=True, toc=True)


def manual_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    return _titled_chunks(parsed, config, merge_small=True, toc=True)


def laws_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    """One chunk per article: the most frequent title level is the article level; deeper levels fold into it."""
    blocks = remove_toc(parsed.blocks)
    headings = detect_headings(blocks, numbering_too=True)
    if not headings:
        return naive_chunks(blocks, config)
    counts = Counter(h.level for h in headings.values())
    unit_level = max(counts, key=lambda lv: (counts[lv], lv))
    kept = {i: h for i, h in headings.items() if h.level <= unit_level}
    return section_chunks(build_sections(blocks, kept), config, merge_small=False)


_ABSTRACT = re.compile(r"^\s*(?:abstract|摘\s*要)\s*[:：.]?\s*", re.IGNORECASE)


def paper_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    """RAGFlow reads a paper's title, authors and abstract with its layout model and makes the abstract a chunk
    of its own. We take the text before the abstract as title/authors, the abstract up to the next title (or
    the first numbered section) as that chunk, and the rest by sections."""
    blocks = parsed.blocks
    start = next((i for i, b in enumerate(blocks[:80]) if _ABSTRACT.match(b.text)), -1)
    if start < 0:
        return _titled_chunks(parsed, config, merge_small=True, toc=False)
    headings = detect_headings(blocks)
    end = next((i for i in sorted(headings) if i > start and not _ABSTRACT.match(blocks[i].text)), len(blocks))
    if end == len(blocks):
        end = min(len(blocks), start + 2 if not _ABSTRACT.sub("", blocks[start].text).strip() else start + 1)
    front = [b.text.strip() for b in blocks[:start] if b.text.strip()][:3]
    abstract = [b.text.strip() for b in blocks[start:end] if b.text.strip()]
    out: list[ChunkDraft] = []
    if abstract:
        text = "\n".join([*front, *abstract])
        out.append(draft(text, {b.page for b in blocks[:end]}, important_keywords=["abstract"]))
    rest = blocks[end:]
    if rest:
        rest_headings = {i - end: h for i, h in headings.items() if i >= end}
        if rest_headings:
            out.extend(section_chunks(build_sections(rest, rest_headings), config, merge_small=True))
        else:
            out.extend(naive_chunks(rest, config))
    return out


_RESUME_HEADINGS = re.compile(
    r"^\s*(?:(?:professional |work |employment |relevant )?(?:experience|history)|education(?:al background)?|"
    r"skills?|technical skills|core competencies|projects?|summary|profile|objective|about me|certifications?|"
    r"licenses?|languages?|awards?|honors?|publications?|interests|hobbies|references|contact(?: information)?|"
    r"volunteer(?:ing)?(?: experience)?|training|courses|"
    r"个人信息|基本信息|教育(?:经历|背景)|工作经历|工作经验|项目经(?:历|验)|专业技能|技能|自我评价|获奖(?:情况|经历)|证书|联系方式)"
    r"\s*[:：]?\s*$",
    re.IGNORECASE,
)


def resume_chunks(parsed: ParsedDocument, config: dict[str, Any], filename: str) -> list[ChunkDraft]:
    """RAGFlow sends resumes to a resume-parsing service that returns typed fields (name, schools, jobs …).
    We have none, so the best text equivalent: one chunk per resume section (Experience, Education, Skills …,
    found by their usual headings or the file's own titles), each starting with the candidate's first line
    (usually the name) so every chunk still says whose resume it is."""
    blocks = [b if "cells" not in b.meta else Block(row_line(b), b.page) for b in parsed.blocks]
    blocks = [b for b in blocks if b.text.strip()]
    if not blocks:
        return []
    owner = blocks[0].text.strip().split("\n")[0][:80]
    headings = {i: Heading(1, b.text.strip().rstrip(":："), True) for i, b in enumerate(blocks)
                if _RESUME_HEADINGS.match(b.text) or (b.kind == "title" and i > 0)}
    if not headings:
        return merge_units(units_of(blocks, delimiters(config), budget(config)), config, prefix=owner)
    sections = build_sections(blocks, headings)
    for section in sections:
        if section.heading is not None:
            section.path = [owner, *section.path]
    return section_chunks(sections, config, merge_small=False)
