"""What a chunker returns: chunk text plus where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChunkDraft:
    content: str
    page_num: list[int] = field(default_factory=list)  # 1-based pages the chunk spans; [] when the format has none
    positions: list[list[int]] = field(default_factory=list)  # RAGFlow style [page, x0, x1, top, bottom]; no layout → zeros
    important_keywords: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    kind: str = "text"  # text | table | qa | title …
    tags: list[str] = field(default_factory=list)  # tag_kwd of the "tag" method
    parent: str = ""  # parent_child: the whole parent chunk this child was cut from (RAGFlow's mom_with_weight)


def draft(content: str, pages: set[int] | list[int] | None = None, *,
          positions: list[list[int]] | None = None, **kwargs: object) -> ChunkDraft:
    """A draft with page_num from the pages it spans (page 0 = no page), and positions: the blocks' regions when
    the parser knew them (OCR, layout), else a zero box per page."""
    numbers = sorted({p for p in (pages or ()) if p > 0})
    return ChunkDraft(
        content=content,
        page_num=numbers,
        positions=[list(p) for p in positions] if positions else [[p, 0, 0, 0, 0] for p in numbers],
        **kwargs,  # type: ignore[arg-type]
    )
