"""Word tokens for full-text search and term similarity: English words (light plural stemming) and CJK bigrams."""

from __future__ import annotations

import functools
import re

_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
# input is lower-cased first: no IGNORECASE, which triples the compile time (a cost every cold start pays)
_WORD = re.compile(rf"[0-9a-z]+(?:[.'_-][0-9a-z]+)*|[{_CJK_CLASS}]+")
_CJK = re.compile(rf"[{_CJK_CLASS}]")

def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS = word_set(
    "a an and are as at be but by for from has have how i if in into is it its of on or that the their then there "
    "these this to was were what when where which who why will with you your do does did can could should would "
    "我 的 了 是 在 和 与 及 或 吗 呢 吧 啊 什么 怎么 如何 哪 哪些 这 那"
)

# Words whose final "s" is not a plural ending (the S-stemmer's known misses that matter for search).
_KEEP_S = word_set(
    "this his has was is its us bus gas yes less unless news series species always perhaps whereas "
    "analysis basis thesis crisis axis status virus campus bonus focus census corpus chaos atlas canvas "
    "alias bias lens plus thus gps aws sms css ios macos windows"
)

_E_PLURALS = word_set("caches niches avalanches headaches moustaches mustaches")


@functools.lru_cache(maxsize=200_000)  # words repeat (Zipf): ingestion stems each distinct word once
def stem(word: str) -> str:
    """Harman's S-stemmer (plurals only): conservative, so a stem still reads as the word, and fast.

    ies → y (not eies/aies), sses/xes/shes/ches → drop es, es → e (not aes/ees/oes), s → "" (not us/ss/is); words of 3 letters or fewer
    and non-alphabetic tokens are left alone.
    """
    if len(word) <= 3 or not word.isalpha() or not word.isascii() or word[-1] != "s" or word in _KEEP_S or word in STOPWORDS:
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "shes", "ches", "zzes")) and word not in _E_PLURALS:
        return word[:-2]  # classes → class, boxes → box, matches → match (Harman would give "classe")
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith(("us", "ss", "is")):
        return word
    return word[:-1]


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens with plurals folded; a CJK run becomes its character bigrams (the char if alone)."""
    tokens = _WORD.findall(text.lower())
    if text.isascii():  # the common case, in one comprehension: ingestion tokenizes every chunk
        return [stem(token) for token in tokens]
    out: list[str] = []
    for token in tokens:
        if token.isascii():  # _WORD matches ASCII words or CJK runs: nothing else
            out.append(stem(token))
        elif len(token) == 1:
            out.append(token)
        else:
            out.extend(token[i : i + 2] for i in range(len(token) - 1))
    return out


def content_terms(text: str) -> list[str]:
    """Tokens without stopwords: what search matches on."""
    return [t for t in tokenize(text) if t not in STOPWORDS]


def surface_terms(text: str) -> list[tuple[str, str]]:
    """(token, the original lower-cased word it came from) pairs, stopwords dropped; for readable keywords."""
    out: list[tuple[str, str]] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0)
        if _CJK.match(word):
            out.extend((g, g) for g in _cjk_content_grams(word))
        elif word not in STOPWORDS:
            out.append((stem(word), word))
    return out


_CJK_STOP = sorted((w for w in STOPWORDS if _CJK.match(w)), key=len, reverse=True)


def _cjk_content_grams(run: str) -> list[str]:
    """Bigrams of a CJK run that touch no stopword ("如何配置" gives "配置", not "何配")."""
    stop = [False] * len(run)
    for word in _CJK_STOP:
        start = run.find(word)
        while start >= 0:
            for k in range(start, start + len(word)):
                stop[k] = True
            start = run.find(word, start + 1)
    if len(run) == 1:
        return [] if stop[0] else [run]
    return [run[i : i + 2] for i in range(len(run) - 1) if not stop[i] and not stop[i + 1]]


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The text's sentences (split after . ! ? and their CJK forms, and at line breaks), stripped, empties dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
