"""Tokenization for full-text search and term similarity: English words and CJK character bigrams."""

from __future__ import annotations

import re

_WORD = re.compile(r"[0-9a-z]+(?:[.'_-][0-9a-z]+)*|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+", re.IGNORECASE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how i if in into is it its of on or that the their then there "
    "these this to was were what when where which who why will with you your do does did can could should would "
    "我 的 了 是 在 和 与 及 或 吗 呢 吧 啊 什么 怎么 如何 哪 哪些 这 那".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; a CJK run becomes its single characters' bigrams (and the char if alone)."""
    out: list[str] = []
    for match in _WORD.finditer(text.lower()):
        token = match.group(0)
        if _CJK.match(token):
            if len(token) == 1:
                out.append(token)
            else:
                out.extend(token[i : i + 2] for i in range(len(token) - 1))
        else:
            out.append(token)
    return out


def content_terms(text: str) -> list[str]:
    """Tokens without stopwords: what search matches on."""
    return [t for t in tokenize(text) if t not in STOPWORDS]
