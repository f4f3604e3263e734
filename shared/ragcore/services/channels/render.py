"""An answer as a chat message: its citations ([ID:n], each a chunk of the reference) become footnote numbers, one per
cited document in the order first cited, listed under the answer with the document's name (and its link where the
reference has one); the whole fits the platform's longest message, the answer cut before its sources are."""

from __future__ import annotations

import re
from typing import Any

from ragcore.services.conversation.completion import CITATION

REPEATED = re.compile(r"(\[\d+\])(?:\s*\1)+")
ELLIPSIS = "…"


def render(answer: str, reference: dict[str, Any], limit: int) -> str:
    chunks = reference.get("chunks") or []
    numbers: dict[str, int] = {}
    sources: list[str] = []

    def footnote(found: re.Match[str]) -> str:
        n = int(found.group(1))
        if n >= len(chunks):
            return ""
        chunk = chunks[n]
        doc = str(chunk.get("document_id") or chunk.get("id"))
        if doc not in numbers:
            numbers[doc] = len(numbers) + 1
            url = chunk.get("url")
            name = chunk.get("document_name") or doc
            sources.append(f"[{numbers[doc]}] {name}" + (f" {url}" if url else ""))
        return f" [{numbers[doc]}]"

    body = REPEATED.sub(r"\1", CITATION.sub(footnote, answer)).strip()
    footer = ("\n\nSources:\n" + "\n".join(sources)) if sources else ""
    if len(body) + len(footer) > limit:
        room = max(limit - len(footer) - len(ELLIPSIS), 0)
        body = body[:room].rstrip() + ELLIPSIS if room else ""
    return (body + footer)[:limit]
