"""A dataset's knowledge graph and mind map, built from the key terms of its chunks.

Nodes are the chunks' most telling terms; an edge joins two terms that appear in the same chunk, weighted by
how many chunks they share; PageRank orders the nodes. The shapes are RAGFlow's (networkx node-link data
for the graph, an {"id", "children"} tree for the mind map), so its clients render them unchanged.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Any

from ragcore.text.tokenize import keywords, sentences

TERMS_PER_CHUNK = 6
MAX_NODES = 256
MAX_EDGES = 128
MAX_SOURCES = 20


def _pagerank(nodes: list[str], edges: dict[tuple[str, str], int], damping: float = 0.85) -> dict[str, float]:
    import numpy as np

    if not nodes:
        return {}
    index = {n: i for i, n in enumerate(nodes)}
    matrix = np.zeros((len(nodes), len(nodes)))
    for (a, b), w in edges.items():
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = w
    out = matrix.sum(axis=1)
    transition = np.divide(matrix, out[:, None], out=np.full_like(matrix, 1 / len(nodes)), where=out[:, None] > 0)
    rank = np.full(len(nodes), 1 / len(nodes))
    for _ in range(50):
        rank = (1 - damping) / len(nodes) + damping * transition.T @ rank
    return {n: float(rank[index[n]]) for n in nodes}


def _description(term: str, texts: list[str]) -> str:
    for text in texts:
        for sentence in sentences(text):
            if term in sentence.lower():
                return sentence[:300]
    return ""


def build_graph(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """chunks: {"id", "content", "document_id"}; returns node-link data ({} when there is nothing to link)."""
    counts: Counter[str] = Counter()
    sources: dict[str, list[str]] = {}
    texts: dict[str, list[str]] = {}
    pairs: Counter[tuple[str, str]] = Counter()
    pair_sources: dict[tuple[str, str], list[str]] = {}
    for chunk in chunks:
        terms = list(dict.fromkeys(keywords(str(chunk.get("content", "")), TERMS_PER_CHUNK)))
        for term in terms:
            counts[term] += 1
            sources.setdefault(term, []).append(chunk["id"])
            texts.setdefault(term, []).append(str(chunk.get("content", "")))
        for a, b in combinations(sorted(terms), 2):
            pairs[(a, b)] += 1
            pair_sources.setdefault((a, b), []).append(chunk["id"])
    if not counts:
        return {}
    kept = [t for t, _ in counts.most_common(MAX_NODES)]
    keep = set(kept)
    edges = {p: w for p, w in pairs.items() if p[0] in keep and p[1] in keep}
    rank = _pagerank(kept, edges)
    nodes: list[dict[str, Any]] = [
        {"id": t, "entity_name": t, "entity_type": "KEYWORD", "description": _description(t, texts[t]),
         "source_id": sources[t][:MAX_SOURCES], "rank": counts[t], "pagerank": round(rank[t], 6)}
        for t in kept
    ]
    nodes.sort(key=lambda n: float(n["pagerank"]), reverse=True)
    links = [
        {"source": a, "target": b, "src_id": a, "tgt_id": b, "weight": float(w), "description": "",
         "keywords": [], "source_id": pair_sources[(a, b)][:MAX_SOURCES]}
        for (a, b), w in sorted(edges.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_EDGES]
    ]
    return {"directed": False, "multigraph": False,
            "graph": {"source_id": sorted({str(c.get("document_id")) for c in chunks})}, "nodes": nodes, "edges": links}


def build_mind_map(title: str, documents: list[tuple[str, list[str]]], per_document: int = 5) -> dict[str, Any]:
    """The dataset at the root, a branch per document, its key terms as leaves."""
    branches = []
    for name, contents in documents:
        terms = keywords("\n".join(contents), per_document)
        if terms:
            branches.append({"id": name, "children": [{"id": t, "children": []} for t in terms]})
    return {"id": title, "children": branches} if branches else {}
