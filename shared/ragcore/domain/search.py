"""The dataset search ("retrieval test") body: RAGFlow's SearchDatasetReq fields and bounds."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class SearchDataset(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    dataset_ids: list[str] | None = None  # only on POST /datasets/search, where it is required
    doc_ids: list[str] = Field(default_factory=list)
    page: Annotated[int, Field(ge=1)] = 1
    size: Annotated[int, Field(ge=1)] = 30
    top_k: Annotated[int, Field(ge=1)] = 1024
    similarity_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    vector_similarity_weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    keyword: bool = False
    rerank_id: str | None = None
    meta_data_filter: dict[str, Any] | None = None
