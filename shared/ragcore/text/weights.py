"""Query term importance and keyword extraction, without a corpus or a model.

RAGFlow weighs query tokens with IDF statistics from a large dictionary plus NER/POS tags. We have neither, so a
term's weight comes from what the term itself shows: stopwords are dropped, very common English words count
half, longer words and identifier-like tokens (digits mixed with letters, codes such as "x86_64", "rfc-7231")
count more, and a CJK bigram counts like a mid-length word. Weights are normalised to sum to 1, as RAGFlow's are.
"""

from __future__ import annotations

import math
from collections import Counter

from ragcore.text.words import STOPWORDS, stem, surface_terms, tokenize, word_set

# Frequent English words that carry little meaning in a query (beyond the stopwords).
COMMON = frozenset(
    stem(w)
    for w in word_set(
        "about above after again against all also am any because been before being below between both each few "
        "further here him her hers herself himself itself just me more most my myself no nor not now off once "
        "only other our ours out over own same she so some such than them themselves they those through too "
        "under until up very we while whom yourself yourselves get got give go going gone good great know like "
        "make made many may might much must need new one two three first last long use used using want way "
        "well work see say said tell thing things time times year years day days people person part show find "
        "please help example examples mean means about list describe explain information info tell give "
        "there's let us let's via per etc e.g i.e yes"
    )
)


def _term_weight(term: str) -> float:
    if term in STOPWORDS:
        return 0.0
    if not term.isascii():
        return 1.0  # a CJK bigram: specific enough, comparable to a 6-letter word
    weight = 0.6 + min(len(term), 14) / 10.0  # 3 letters → 0.9, 6 → 1.2, 14+ → 2.0
    has_digit = any(ch.isdigit() for ch in term)
    has_alpha = any(ch.isalpha() for ch in term)
    if has_digit and has_alpha or any(ch in "._-" for ch in term):
        weight *= 1.5  # identifiers, versions, codes: near-unique
    elif has_digit:
        weight *= 1.2 if len(term) >= 3 else 0.8
    if term in COMMON:
        weight *= 0.5
    return weight


def term_weights(question: str) -> dict[str, float]:
    """Token → importance in the question (sums to 1). Keys are tokenize() tokens, so they match indexed text."""
    tokens = tokenize(question)
    counts = Counter(t for t in tokens if t not in STOPWORDS)
    if not counts:
        counts = Counter(tokens)  # a question of stopwords only still matches on them
    raw = {t: (_term_weight(t) or 0.3) * (1 + 0.2 * math.log(n)) for t, n in counts.items()}
    total = sum(raw.values())
    return {t: w / total for t, w in raw.items()} if total else {}


def keywords(text: str, top_n: int = 8) -> list[str]:
    """The top_n most telling words of a text, most telling first, as they are written (lower-cased).

    Score = weight × (1 + log tf); ties keep first-appearance order. CJK text yields bigrams.
    """
    if top_n <= 0:
        return []
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    for i, (token, word) in enumerate(surface_terms(text)):
        if len(token) < 2 and token.isascii():
            continue
        counts[token] += 1
        surface.setdefault(token, Counter())[word] += 1
        first.setdefault(token, i)
    scored = sorted(counts, key=lambda t: (-_term_weight(t) * (1 + math.log(counts[t])), first[t]))
    return [surface[t].most_common(1)[0][0] for t in scored[:top_n]]
