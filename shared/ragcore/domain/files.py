"""File-manager request models: RAGFlow's ListFileReq (fields, defaults, limits and messages)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

REST_API_MAX_PAGE_SIZE = 100


class ListFilesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parent_id: str | None = None
    keywords: str = ""
    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int, Field(ge=1)] = 15
    orderby: str = "create_time"
    desc: bool = True

    @field_validator("page_size")
    @classmethod
    def _page_size_bound(cls, v: int) -> int:
        if v > REST_API_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be less than or equal to {REST_API_MAX_PAGE_SIZE}")
        return v
