"""The answerer used when no chat model is configured: it quotes the retrieved chunks, with citations.

It picks the sentences of the knowledge that share the most (weighted) terms with the question and says
plainly that the answer is extractive, so nobody mistakes it for a generated one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ragcore.ports import ChatUsage
from ragcore.text.tokenize import count_tokens, sentences, term_weights, tokenize

PREFIX = "Extractive answer (no language model is configured): "
NOTHING = "No language model is configured, and nothing in the knowledge base matches the question."


class ExtractiveChatModel:
    model_name = "extractive"

    def _answer(self, messages: list[dict[str, str]], options: dict[str, Any]) -> str:
        question = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        weights = term_weights(question)
        best: list[tuple[float, int, str, int]] = []
        for order, item in enumerate(options.get("knowledge") or []):
            for sentence in sentences(str(item.get("content", ""))):
                if len(sentence) < 3:
                    continue
                present = set(tokenize(sentence))
                score = sum(w for t, w in weights.items() if t in present)
                if score > 0:
                    best.append((score, -order, sentence, int(item["id"])))
        if not best:
            return NOTHING
        best.sort(reverse=True)
        picked = []
        seen: set[str] = set()
        for _, _, sentence, cid in best:
            if sentence in seen:
                continue
            seen.add(sentence)
            picked.append(f"{sentence} [ID:{cid}]")
            if len(picked) == 3:
                break
        return PREFIX + " ".join(picked)

    def complete(self, messages: list[dict[str, str]], **options: Any) -> tuple[str, ChatUsage]:
        answer = self._answer(messages, options)
        prompt = sum(count_tokens(m.get("content", "")) for m in messages)
        completion = count_tokens(answer)
        return answer, {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def stream(self, messages: list[dict[str, str]], **options: Any) -> Iterator[str]:
        answer = self._answer(messages, options)
        yield from re.findall(r"\S+\s*", answer)
