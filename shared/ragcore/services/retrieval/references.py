"""How a retrieved chunk appears in an answer's reference (chat completions, agent retrieval components, bots)."""

from __future__ import annotations

from typing import Any


def reference_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": chunk["id"], "content": chunk["content"], "document_id": chunk["document_id"],
        "document_name": chunk.get("document_name") or chunk.get("document_keyword", ""), "dataset_id": chunk["dataset_id"],
        "image_id": chunk.get("image_id", ""), "positions": chunk.get("positions", []), "url": None,
        "similarity": chunk.get("similarity", 0.0), "vector_similarity": chunk.get("vector_similarity", 0.0),
        "term_similarity": chunk.get("term_similarity", 0.0), "doc_type": "",
    }
