"""A question asked again is answered from the vector kept for it: the embedding model is not called twice for the
same words, and the answer is the same."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.docs_helpers import ingest, make_dataset, retrieve
from tests.conftest import Api


def test_a_repeated_question_is_embedded_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = make_dataset(api, "rivers")
    ingest(api, ds, {"rivers.txt": b"The Nile flows north through Africa.\n\nThe Amazon carries the most water.\n"})
    from ragcore.adapters.local_embedder import LocalEmbedder

    asked: list[list[str]] = []
    original = LocalEmbedder.embed

    def counting(self: LocalEmbedder, texts: list[str]) -> list[list[float]]:
        asked.append(list(texts))
        return original(self, texts)

    monkeypatch.setattr(LocalEmbedder, "embed", counting)
    question = "Which river carries the most water?"
    first: Any = retrieve(api, question=question, dataset_ids=[ds], similarity_threshold=0)
    second: Any = retrieve(api, question=question, dataset_ids=[ds], similarity_threshold=0)
    other: Any = retrieve(api, question="Where does the Nile flow?", dataset_ids=[ds], similarity_threshold=0)
    assert asked.count([question]) == 1  # the second time, the kept vector
    assert [question] not in asked[1:] and ["Where does the Nile flow?"] in asked
    assert first["chunks"] == second["chunks"] and first["chunks"]
    assert other["chunks"][0]["content"].startswith("The Nile")
