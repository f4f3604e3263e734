"""File-manager request models: RAGFlow's ListFileReq (fields, defaults, limits and messages)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ragcore.domain.paging import bounded_page_size


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
        return bounded_page_size(v)  # RAGFlow's validate_rest_api_page_size inside its list model


FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class CreateFolderReq(BaseModel):
    """RAGFlow's CreateFolderReq (strict: no unknown fields, no coercion)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: FileName
    parent_id: str | None = None
    type: str | None = None


class DeleteFileReq(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ids: Annotated[list[str], Field(min_length=1)]


class MoveFileReq(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    src_file_ids: Annotated[list[str], Field(min_length=1)]
    dest_file_id: str | None = None
    new_name: FileName | None = None

    @model_validator(mode="after")
    def _operation(self) -> MoveFileReq:
        if not self.dest_file_id and not self.new_name:
            raise ValueError("At least one of dest_file_id or new_name must be provided")
        if self.new_name and len(self.src_file_ids) > 1:
            raise ValueError("new_name can only be used with a single file")
        return self
