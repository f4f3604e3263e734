"""Tokenizer, token counts, term weights and keywords."""

from __future__ import annotations

import pytest
from ragcore.text.tokenize import STOPWORDS, content_terms, count_tokens, keywords, stem, term_weights, tokenize

# (text, its real cl100k_base token count, measured once with an offline cl100k encoder)
CL100K = [
    ("The quick brown fox jumps over the lazy dog. Retrieval-augmented generation combines search with a language model.", 23),
    ("def chunk_document(parsed, chunk_method, parser_config, *, filename):\n    return [ChunkDraft(content=b.text) for b in parsed.blocks]\n", 29),
    ("RAGFlow 是一款基于深度文档理解构建的开源 RAG（检索增强生成）引擎。它可以为各种规模的企业及个人提供一套精简的 RAG 工作流程。", 68),
    ("Invoice 2024-11-24: total 1,234,567.89 USD, paid by card #4242 on https://example.com/pay?id=42.", 36),
]


def test_tokenize_words_cjk_and_plurals() -> None:
    assert tokenize("The Documents, libraries & classes!") == ["the", "document", "library", "class"]
    assert tokenize("北京大学") == ["北京", "京大", "大学"]
    assert tokenize("x86_64 v2.1 e-mail") == ["x86_64", "v2.1", "e-mail"]
    assert "the" in STOPWORDS and content_terms("the status of the servers") == ["status", "server"]


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [("documents", "document"), ("queries", "query"), ("boxes", "box"), ("status", "status"), ("analysis", "analysis"),
     ("does", "does"), ("caches", "cache"), ("gas", "gas"), ("horses", "horse")],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


@pytest.mark.parametrize(("text", "real"), CL100K)
def test_count_tokens_is_close_to_cl100k(text: str, real: int) -> None:
    assert abs(count_tokens(text) - real) <= max(2, real * 0.12)


def test_count_tokens_edges_and_long_text() -> None:
    assert count_tokens("") == 0
    assert count_tokens("a") == 1
    assert count_tokens("word " * 1000) == pytest.approx(1000, rel=0.05)
    sentence = "Retrieval augmented generation reads 1,024 documents per second. "
    # ~260 KB counts as its sentences do (a backtracking pattern would hang here, up to pytest's timeout)
    assert count_tokens(sentence * 4000) == 4000 * count_tokens(sentence)


def test_term_weights_favour_rare_long_terms() -> None:
    weights = term_weights("How do I configure the x86_64 build of RAGFlow for many documents?")
    assert sum(weights.values()) == pytest.approx(1.0)
    assert "the" not in weights and "how" not in weights
    assert set(weights) <= set(tokenize("How do I configure the x86_64 build of RAGFlow for many documents?"))
    assert weights["x86_64"] > weights["build"]
    assert weights["configure"] > weights["build"] > weights["many"]
    assert "document" in weights  # keys are tokenize() tokens, plural folded


def test_term_weights_stopwords_only_and_empty() -> None:
    assert term_weights("") == {}
    only = term_weights("what is it")
    assert only and sum(only.values()) == pytest.approx(1.0)


def test_keywords() -> None:
    text = ("Pinecone stores vectors. The ingestion Lambda embeds chunks and upserts vectors into Pinecone; "
            "the API Lambda queries Pinecone.")
    top = keywords(text, 3)
    assert len(top) == 3 and "pinecone" in top
    assert "the" not in keywords(text, 20)
    assert keywords(text, 0) == []
    assert keywords("北京大学的图书馆", 2) and all(len(k) == 2 for k in keywords("北京大学的图书馆", 2))
    chinese = keywords("如何配置RAGFlow的嵌入模型？", 8)
    assert "配置" in chinese and "模型" in chinese and "何配" not in chinese and "的嵌" not in chinese
