"""RAPTOR's tree of summaries: cluster chunk vectors, summarise each cluster, repeat on the summaries.

RAGFlow clusters with UMAP + Gaussian mixtures; k-means on unit vectors gives the same kind of topical
groups without the extra dependencies. Without a language model a cluster's summary is extractive: its most
representative sentences, in their original order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ragcore.text.tokenize import sentences, term_weights, tokenize

CLUSTER_SIZE = 6  # members a summary covers, on average
MAX_LEVELS = 3
SUMMARY_SENTENCES = 3
MAX_SUMMARY_CHARS = 1200
PROMPT = (
    "Please summarize the following paragraphs. Be careful with the numbers, do not make things up. "
    "Paragraphs as following:\n{cluster_content}\nThe above is the content you need to summarize."
)

Summarizer = Callable[[list[str]], str]


def kmeans(vectors: list[list[float]], k: int, iterations: int = 20) -> list[int]:
    """Cluster labels for unit vectors; deterministic (farthest-point seeding from the first vector)."""
    import numpy as np

    data = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    data = (data / np.where(norms == 0, 1, norms)).astype(np.float32)
    k = max(1, min(k, len(data)))
    centers = [data[0]]
    for _ in range(1, k):
        sims = np.max(np.stack([data @ c for c in centers]), axis=0)
        centers.append(data[int(np.argmin(sims))])
    center = np.stack(centers)
    labels = np.zeros(len(data), dtype=int)
    for _ in range(iterations):
        new = np.argmax(data @ center.T, axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = data[labels == j]
            if len(members):
                mean = members.mean(axis=0)
                center[j] = mean / (np.linalg.norm(mean) or 1)
    return [int(x) for x in labels]


def extractive_summary(texts: list[str]) -> str:
    """The sentences that carry most of the cluster's weighted terms, in the order they were written."""
    weights = term_weights("\n".join(texts))
    scored: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for sentence in (s for t in texts for s in sentences(t)):
        if len(sentence) < 3 or sentence in seen:
            continue
        seen.add(sentence)
        terms = set(tokenize(sentence))
        score = sum(w for t, w in weights.items() if t in terms) / max(1.0, len(terms) ** 0.5)
        scored.append((score, len(scored), sentence))
    best = sorted(scored, key=lambda s: (-s[0], s[1]))[:SUMMARY_SENTENCES]
    return " ".join(s for _, _, s in sorted(best, key=lambda s: s[1]))[:MAX_SUMMARY_CHARS]


def build_tree(
    leaves: list[dict[str, Any]],
    summarize: Summarizer,
    embed: Callable[[list[str]], list[list[float]]],
    on_level: Callable[[int, int], None] = lambda level, n: None,
) -> list[dict[str, Any]]:
    """Summary nodes ({"content", "vector", "members": leaf indexes, "level"}) over leaves ({"content", "vector"}).

    Each level clusters the previous one (the chunks, then their summaries) until one node is left.
    """
    summaries: list[dict[str, Any]] = []
    layer = [{"content": leaf["content"], "vector": leaf["vector"], "members": [i]} for i, leaf in enumerate(leaves)]
    for level in range(1, MAX_LEVELS + 1):
        if len(layer) < 2:
            break
        labels = kmeans([n["vector"] for n in layer], round(len(layer) / CLUSTER_SIZE) or 1)
        groups: dict[int, list[dict[str, Any]]] = {}
        for node, label in zip(layer, labels, strict=True):
            groups.setdefault(label, []).append(node)
        texts = [summarize([n["content"] for n in group]) for group in groups.values() if len(group) > 1]
        kept = [group for group in groups.values() if len(group) > 1]
        if not kept:
            break
        vectors = embed(texts)
        nodes = [
            {"content": text, "vector": vec, "level": level, "members": sorted({m for n in group for m in n["members"]})}
            for text, vec, group in zip(texts, vectors, kept, strict=True)
            if text.strip()
        ]
        summaries.extend(nodes)
        on_level(level, len(nodes))
        if len(nodes) >= len(layer):
            break
        layer = nodes + [group[0] for group in groups.values() if len(group) == 1]
    return summaries
