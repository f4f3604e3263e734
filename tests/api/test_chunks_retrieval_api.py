"""Chunk management and hybrid retrieval over HTTP."""

from __future__ import annotations

import uuid

import pytest
from ragcore.services.knowledge.chunks.term_stats import TERMSTATS_VERSION

from tests.api.docs_helpers import eventually, ingest, make_dataset, retrieve, stored, upload
from tests.conftest import Api

CORPUS = {
    "animals.txt": b"The cheetah is the fastest land animal.\n\nElephants are the largest land animals and live in herds.\n",
    "space.txt": b"Jupiter is the largest planet in the solar system.\n\nThe Moon orbits the Earth every 27 days.\n",
    "cooking.txt": b"Risotto is an Italian rice dish cooked with broth.\n\nBread rises because yeast produces gas.\n",
}


@pytest.fixture
def corpus(api: Api) -> tuple[str, dict[str, str]]:
    ds = make_dataset(api, "corpus", parser_config={"chunk_token_num": 16, "delimiter": "\n"})
    docs = ingest(api, ds, CORPUS)
    assert all(d["run"] == "DONE" for d in docs), [d["progress_msg"] for d in docs]
    return ds, {d["name"]: d["id"] for d in docs}


def test_retrieval_shape_and_ranking(api: Api, corpus: tuple[str, dict[str, str]]) -> None:
    ds, docs = corpus
    res = retrieve(api, question="largest planet", dataset_ids=[ds], highlight=True)
    top = res["chunks"][0]
    assert "Jupiter" in top["content"]
    for field in ("id", "content", "document_id", "document_keyword", "dataset_id", "similarity", "vector_similarity",
                  "term_similarity", "highlight", "positions", "important_keywords", "image_id"):
        assert field in top, field
    assert top["document_keyword"] == "space.txt" and top["dataset_id"] == ds
    assert "<em>largest</em>" in top["highlight"] and "<em>planet</em>" in top["highlight"]
    assert abs(top["similarity"] - (0.3 * top["vector_similarity"] + 0.7 * top["term_similarity"])) < 1e-3
    assert res["total"] >= 1 and res["doc_aggs"][0]["doc_name"] in {"space.txt", "animals.txt"}
    assert sum(a["count"] for a in res["doc_aggs"]) == res["total"]


def test_weights_threshold_paging_and_scope(api: Api, corpus: tuple[str, dict[str, str]]) -> None:
    ds, docs = corpus
    pure_term = retrieve(api, question="rice broth", dataset_ids=[ds], vector_similarity_weight=0.0, similarity_threshold=0.0)
    assert pure_term["chunks"][0]["similarity"] == pure_term["chunks"][0]["term_similarity"]
    pure_vec = retrieve(api, question="a very fast wild cat", dataset_ids=[ds], vector_similarity_weight=1.0, similarity_threshold=0.0)
    assert "cheetah" in pure_vec["chunks"][0]["content"]  # no shared words: only the vector finds it
    assert pure_vec["chunks"][0]["similarity"] == pure_vec["chunks"][0]["vector_similarity"]
    strict = retrieve(api, question="largest", dataset_ids=[ds], similarity_threshold=0.99)
    assert strict["total"] == 0
    everything = retrieve(api, question="the", dataset_ids=[ds], similarity_threshold=0.0, page_size=100)
    page2 = retrieve(api, question="the", dataset_ids=[ds], similarity_threshold=0.0, page=2, page_size=2)
    assert [c["id"] for c in page2["chunks"]] == [c["id"] for c in everything["chunks"][2:4]]
    # top_k bounds the vector candidates only: every keyword match still comes back
    wide = retrieve(api, question="largest land rice", dataset_ids=[ds], similarity_threshold=0.1, vector_similarity_weight=0.0)
    narrow = retrieve(api, question="largest land rice", dataset_ids=[ds], similarity_threshold=0.1, vector_similarity_weight=0.0, top_k=1)
    assert wide["total"] == narrow["total"] == 3
    scoped = retrieve(api, question="largest", dataset_ids=[ds], document_ids=[docs["animals.txt"]], similarity_threshold=0.0)
    assert {c["document_id"] for c in scoped["chunks"]} == {docs["animals.txt"]}


def test_metadata_condition_filters(api: Api, corpus: tuple[str, dict[str, str]]) -> None:
    ds, docs = corpus
    for name, meta in [("animals.txt", {"topic": "nature", "year": 2020}), ("space.txt", {"topic": "science", "year": 2024})]:
        assert api.call("PUT", f"/api/v1/datasets/{ds}/documents/{docs[name]}", json={"meta_fields": meta})["code"] == 0

    def doc_names(condition: dict) -> set[str]:  # type: ignore[type-arg]
        res = retrieve(api, question="largest", dataset_ids=[ds], similarity_threshold=0.0, metadata_condition=condition)
        return {c["document_keyword"] for c in res["chunks"]}

    assert doc_names({"conditions": [{"name": "topic", "comparison_operator": "is", "value": "science"}]}) == {"space.txt"}
    assert doc_names({"conditions": [{"name": "topic", "comparison_operator": "not is", "value": "science"}]}) == {"animals.txt", "cooking.txt"}
    assert doc_names({"conditions": [{"name": "year", "comparison_operator": ">", "value": "2021"}]}) == {"space.txt"}
    assert doc_names({"conditions": [{"name": "year", "comparison_operator": "≤", "value": "2020"}]}) == {"animals.txt"}
    assert doc_names({"conditions": [{"name": "topic", "comparison_operator": "contains", "value": "sci"}]}) == {"space.txt"}
    assert doc_names({"conditions": [{"name": "topic", "comparison_operator": "start with", "value": "nat"}]}) == {"animals.txt"}
    assert doc_names({"conditions": [{"name": "topic", "comparison_operator": "empty", "value": ""}]}) == {"cooking.txt"}
    assert doc_names({"conditions": [{"name": "topic", "comparison_operator": "not empty", "value": ""}]}) == {"animals.txt", "space.txt"}
    both = {"logic": "or", "conditions": [
        {"name": "topic", "comparison_operator": "=", "value": "nature"},
        {"name": "year", "comparison_operator": "=", "value": "2024"},
    ]}
    assert doc_names(both) == {"animals.txt", "space.txt"}
    assert doc_names({**both, "logic": "and"}) == set()


def test_retrieval_errors(api: Api, corpus: tuple[str, dict[str, str]]) -> None:
    ds, _ = corpus
    assert api.call("POST", "/api/v1/retrieval", json={"question": "x"})["message"] == "`dataset_ids` is required."
    other = make_dataset(api, "other-model", embedding_model="text-embedding-3-small@OpenAI") if False else None
    assert other is None
    foreign = api.new_tenant_key()
    res = api.call("POST", "/api/v1/retrieval", key=foreign, json={"question": "x", "dataset_ids": [ds]})
    missing = api.call("POST", "/api/v1/retrieval", key=foreign, json={"question": "x", "dataset_ids": [uuid.uuid4().hex]})
    assert res["code"] == missing["code"] == 102
    res = api.call("POST", "/api/v1/retrieval", json={"question": "x", "dataset_ids": [ds], "top_k": -1})
    assert res["code"] != 0 and "must be greater than 0" in res["message"]


def test_chunk_crud_is_searchable_at_once(api: Api) -> None:
    ds = make_dataset(api)
    [doc] = upload(api, ds, {"notes.txt": b"placeholder"})
    base = f"/api/v1/datasets/{ds}/documents/{doc['id']}/chunks"
    res = api.call("POST", base, json={"content": "Axolotls regrow their limbs.", "important_keywords": ["salamander"], "questions": ["Which animal regrows limbs?"]})
    assert res["code"] == 0, res
    chunk = res["data"]["chunk"]
    assert chunk["important_keywords"] == ["salamander"] and chunk["document_id"] == doc["id"]
    assert api.call("POST", base, json={"content": ""})["message"] == "`content` is required"
    hit = retrieve(api, question="salamander", dataset_ids=[ds])
    assert [c["id"] for c in hit["chunks"]] == [chunk["id"]]
    listed = api.call("GET", base)["data"]
    assert listed["total"] == 1 and listed["doc"]["id"] == doc["id"]
    got = api.call("GET", f"{base}/{chunk['id']}")["data"]
    assert got["content"] == got["content_with_weight"] == "Axolotls regrow their limbs."  # RAGFlow's stored names too
    assert (got["kb_id"], got["doc_id"], got["important_kwd"], got["question_kwd"], got["available_int"]) == (
        ds, doc["id"], ["salamander"], ["Which animal regrows limbs?"], 1)
    assert not [k for k in got if k.endswith(("_tks", "_ltks", "_vec")) or k.startswith("_")]
    assert api.call("PATCH", f"{base}/{chunk['id']}", json={"content": "Axolotls regrow hearts too."}) == {"code": 0}
    assert retrieve(api, question="hearts", dataset_ids=[ds])["chunks"][0]["content"] == "Axolotls regrow hearts too."
    assert api.call("PUT", f"{base}/{chunk['id']}", json={"available": False}) == {"code": 0}  # the deprecated path
    assert retrieve(api, question="hearts", dataset_ids=[ds], similarity_threshold=0.0)["total"] == 0
    assert api.call("PATCH", base, json={"chunk_ids": [chunk["id"]], "available_int": 1})["data"] is True
    assert retrieve(api, question="hearts", dataset_ids=[ds])["total"] == 1
    res = api.call("DELETE", base, json={"chunk_ids": [chunk["id"], "nope"]})
    assert res["code"] == 102 and "expect 2" in res["message"]
    assert api.call("DELETE", base, json={"chunk_ids": [chunk["id"]]}) == {"code": 0}
    assert retrieve(api, question="hearts", dataset_ids=[ds], similarity_threshold=0.0)["total"] == 0
    # RAGFlow's two messages: a chunk asked for by path, and one asked for by `id` in the list
    assert api.call("GET", f"{base}/{chunk['id']}") == {"code": 102, "message": "Chunk not found!", "data": False}
    assert api.call("GET", base, params={"id": chunk["id"]}) == {
        "code": 102, "message": f"Chunk not found: {ds}/{chunk['id']}", "data": None}
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"id": doc["id"]})["data"]["docs"][0]["chunk_count"] == 0


def test_deleting_a_dataset_removes_its_chunks(api: Api, corpus: tuple[str, dict[str, str]]) -> None:
    ds, _ = corpus
    other = make_dataset(api, "second")
    ingest(api, other, {"jupiter.txt": b"Jupiter has many moons.\n"})
    assert api.call("DELETE", "/api/v1/datasets", json={"ids": [ds]}) == {"code": 0, "data": {"success_count": 1}}
    res = retrieve(api, question="Jupiter largest planet", dataset_ids=[other], similarity_threshold=0.0)
    assert {c["dataset_id"] for c in res["chunks"]} == {other}
    from ragcore.bootstrap.container import get_container

    # the purge runs in the background: vectors, then the dataset's keyword statistics
    eventually(lambda: get_container().index.count(api.tenant, ds) == 0 and stored("termstats", api.tenant, ds) == 0)


def test_rerank_id_without_a_rerank_model_is_refused(api: Api, corpus: tuple[str, dict[str, str]]) -> None:
    ds, _ = corpus
    res = api.call("POST", "/api/v1/retrieval", json={"question": "planet", "dataset_ids": [ds], "rerank_id": "BAAI/bge-reranker-v2-m3"})
    assert res == {"code": 102, "message": "Model(BAAI/bge-reranker-v2-m3) not authorized", "data": None}


def test_rerank_model_reorders(api: Api, corpus: tuple[str, dict[str, str]], openai_fake: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.bootstrap import container

    ds, _ = corpus
    monkeypatch.setenv("RERANK_BASE_URL", openai_fake.url)  # type: ignore[attr-defined]
    container.reset()
    res = retrieve(api, question="Italian rice dish", dataset_ids=[ds], rerank_id="jina-reranker", similarity_threshold=0.0)
    assert "Risotto" in res["chunks"][0]["content"]
    assert any(r["path"].endswith("/rerank") for r in openai_fake.requests)  # type: ignore[attr-defined]


def test_chunk_list_fields_follow_ragflow_rules(api: Api) -> None:
    ds = make_dataset(api, "lists")
    [doc] = upload(api, ds, {"l.txt": b"Lists.\n"})
    url = f"/api/v1/datasets/{ds}/documents/{doc['id']}/chunks"
    added = api.call("POST", url, json={"content": "c", "important_keywords": [""], "tag_kwd": ["t", "t"]})["data"]["chunk"]
    assert added["important_keywords"] == [""]  # kept as given
    assert api.call("POST", url, json={"content": "c", "questions": "abc"}) == {
        "code": 102, "message": "`questions` is required to be a list", "data": None}
    assert api.call("POST", url, json={"content": "c", "tag_kwd": [1]})["message"] == "`tag_kwd` must be a list of strings"
    assert api.call("PATCH", f"{url}/{added['id']}", json={"content": None, "questions": ["q?"]})["code"] == 0
    assert api.call("GET", f"{url}/{added['id']}")["data"]["content"] == "c"
    res = api.call("PATCH", f"{url}/{added['id']}", json={"important_keywords": 123})
    assert res == {"code": 102, "message": "`important_keywords` should be a list", "data": None}


def test_term_similarity_is_bm25_over_the_datasets_own_statistics(api: Api) -> None:
    """Keyword scores weigh a rare term above a common one (idf from the dataset) and a short chunk above a long one
    holding the term once (length normalisation), and stay in [0, 1)."""
    lines = [f"Protein intake note number {i} for the diet study." for i in range(8)]
    lines += ["Selenium helps.",
              "Selenium appears once in this much longer sentence about weather, sports, music, travel and cooking."]
    ds = make_dataset(api, "bm25")
    docs = ingest(api, ds, {f"note{i}.txt": line.encode() for i, line in enumerate(lines)})  # a chunk each
    assert [(d["run"], d["chunk_count"]) for d in docs] == [("DONE", 1)] * len(lines)
    mixed = retrieve(api, question="protein selenium", dataset_ids=[ds], vector_similarity_weight=0.0,
                     similarity_threshold=0.0, page_size=100)["chunks"]
    assert "Selenium helps" in mixed[0]["content"]  # the rare term outweighs the common one
    selenium = {c["content"]: c["term_similarity"] for c in mixed if "Selenium" in c["content"]}
    protein = [c["term_similarity"] for c in mixed if "Protein" in c["content"]]
    assert min(selenium.values()) > max(protein)
    short, long = selenium["Selenium helps."], next(v for k, v in selenium.items() if "longer" in k)
    assert short > long  # the same single occurrence counts for more in a short chunk
    assert all(0.0 <= c["term_similarity"] < 1.0 for c in mixed)


@pytest.mark.parametrize("mark", [None, 1], ids=["no statistics", "128-bucket statistics"])
def test_a_dataset_from_before_keyword_statistics_is_recounted_in_the_background(
        api: Api, corpus: tuple[str, dict[str, str]], mark: int | None) -> None:
    from ragcore import bootstrap
    from ragcore.bootstrap.container import get_container

    ds, _ = corpus
    store = get_container().store
    before = bootstrap.chunk_store().stats.read(api.tenant, [ds], ["planet"])
    assert before.chunks == store.get("dataset", api.tenant, ds)["chunk_count"] > 0 and before.frequency == {"planet": 1}
    # what an earlier version left: no statistics and no mark on the dataset, or statistics in buckets laid out
    # otherwise (version 1) that the current layout does not read
    bootstrap.chunk_store().stats.drop_dataset(api.tenant, ds)
    item = store.get("dataset", api.tenant, ds)
    older = {k: v for k, v in item.items() if k != "_termstats"} | ({"_termstats": mark} if mark else {})
    store.put("dataset", api.tenant, older, if_absent=False)
    assert retrieve(api, question="largest planet", dataset_ids=[ds])["chunks"]  # still answers meanwhile
    eventually(lambda: (store.get("dataset", api.tenant, ds) or {}).get("_termstats") == TERMSTATS_VERSION)
    after = bootstrap.chunk_store().stats.read(api.tenant, [ds], ["planet"])
    assert (after.chunks, after.frequency, after.mean_length) == (before.chunks, before.frequency, before.mean_length)
