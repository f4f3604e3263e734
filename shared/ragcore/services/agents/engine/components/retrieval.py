"""Retrieval: hybrid search over the tenant's datasets; outputs the chunks (json) and a prompt-ready block
(formalized_content), and adds them to the run's reference."""

from __future__ import annotations

from typing import Any

from ragcore.errors import ApiError, ProviderError
from ragcore.services.agents.engine.components import Outcome, Spec
from ragcore.services.agents.engine.dsl import Component
from ragcore.services.agents.engine.refs import as_text, bare_ref
from ragcore.services.agents.engine.runtime import ComponentFailed, Run
from ragcore.services.retrieval.references import reference_chunk


def _ids(run: Run, values: Any) -> list[str]:
    out: list[str] = []
    for value in values if isinstance(values, list) else [values]:
        ref = bare_ref(value) if isinstance(value, str) and ("@" in value or "." in value) else None
        resolved = run.resolve(ref) if ref else value
        out += [str(v) for v in (resolved if isinstance(resolved, list) else [resolved]) if v]
    return out


def search(run: Run, params: dict[str, Any]) -> dict[str, Any]:
    query_ref = bare_ref(params.get("query") or "sys.query")
    query = as_text(run.resolve(query_ref)) if query_ref else run.render(params.get("query"))
    dataset_ids = _ids(run, params.get("kb_ids") or params.get("dataset_ids") or [])
    if not dataset_ids:
        raise ValueError("no datasets to search (kb_ids is empty)")
    if not query.strip():
        return {"formalized_content": params.get("empty_response") or "", "json": []}
    # RAGFlow's component weighs keywords; the search takes the vector side's weight
    vector_weight = 1.0 - float(params.get("keywords_similarity_weight", 0.5))
    found = run.tools.retrieve(
        question=query, dataset_ids=dataset_ids, document_ids=_ids(run, params.get("doc_ids") or []) or None,
        page=1, page_size=int(params.get("top_n", 8)), similarity_threshold=float(params.get("similarity_threshold", 0.2)),
        vector_similarity_weight=vector_weight, top_k=int(params.get("top_k", 1024)), rerank_id=params.get("rerank_id") or None,
    )
    chunks = []
    for chunk in found["chunks"]:
        ref = reference_chunk(chunk)  # the shape chat completions cite with
        chunks.append(ref)
        if all(c["id"] != ref["id"] for c in run.chunks):
            run.chunks.append(ref)
    if not chunks:
        return {"formalized_content": params.get("empty_response") or "", "json": []}
    number = {c["id"]: n for n, c in enumerate(run.chunks)}  # IDs as cited in the run's reference
    blocks = [f"ID: {number[ch['id']]}\n├── Title: {ch['document_name']}\n└── Content: {ch['content']}" for ch in chunks]
    return {"formalized_content": "\n\n".join(blocks), "json": chunks}


def retrieval(run: Run, cid: str, comp: Component) -> Outcome:
    try:
        return Outcome(search(run, comp.params))
    except (ApiError, ProviderError) as exc:
        raise ComponentFailed(cid, comp.kind, getattr(exc, "message", str(exc))) from exc
    except ValueError as exc:
        raise ComponentFailed(cid, comp.kind, str(exc)) from exc


SPECS = {"Retrieval": Spec(retrieval)}
