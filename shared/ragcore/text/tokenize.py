"""Text utilities for search: one import place for the tokenizer, token counts, term weights and keywords.

    tokenize(text) -> list[str]              words (plurals folded) and CJK bigrams, lower-cased
    content_terms(text) -> list[str]         the same without stopwords
    count_tokens(text) -> int                offline estimate of cl100k_base (tiktoken) token counts
    term_weights(question) -> dict[str, float]   query term importance, sums to 1
    keywords(text, top_n) -> list[str]       most telling words of a text
    sentences(text) -> list[str]             sentences and lines, stripped
"""

from __future__ import annotations

from ragcore.text.token_count import count_tokens
from ragcore.text.weights import keywords, term_weights
from ragcore.text.words import STOPWORDS, content_terms, sentences, stem, tokenize

__all__ = ["STOPWORDS", "content_terms", "count_tokens", "keywords", "sentences", "stem", "term_weights", "tokenize"]
