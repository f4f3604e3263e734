"""Document request models and the run-state vocabulary RAGFlow uses."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from ragcore.domain.datasets import CHUNK_METHODS, ParserConfig

RUN_CODES = {"0": "UNSTART", "1": "RUNNING", "2": "CANCEL", "3": "DONE", "4": "FAIL"}
RUN_NAMES = {v: k for k, v in RUN_CODES.items()}
TERMINAL = {"DONE", "FAIL", "CANCEL"}

# RAGFlow's document "type" by suffix
DOC_TYPE_BY_SUFFIX = {
    "pdf": "pdf",
    **{s: "visual" for s in ("jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "svg", "ico")},
    **{s: "aural" for s in ("mp3", "wav", "m4a", "flac", "ogg", "aac")},
}


def doc_type(suffix: str) -> str:
    return DOC_TYPE_BY_SUFFIX.get(suffix.lower(), "doc")


class StrictParserConfig(ParserConfig):
    """A document's parser_config: unknown keys are refused (the dataset's is lenient)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "1024" is not a number, 1 is not a boolean


class UpdateDocument(BaseModel):
    # RAGFlow's UpdateDocumentReq refuses fields it does not know ("Extra inputs are not permitted")
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=255)] | None = None  # "" is refused by the extension rule
    meta_fields: dict[str, Any] | None = None
    chunk_method: str | None = None
    parser_config: StrictParserConfig | None = None
    enabled: int | None = None
    progress: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    chunk_count: Annotated[int, Field(ge=0)] | None = None
    token_count: Annotated[int, Field(ge=0)] | None = None
    pipeline_id: Annotated[str, StringConstraints(max_length=65535)] | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        return v

    @field_validator("chunk_method")
    @classmethod
    def _chunk_method(cls, v: str | None) -> str | None:
        # an empty method is refused after validation, with a bare message, as RAGFlow does
        if v and v not in (*CHUNK_METHODS, "knowledge_graph"):
            raise PydanticCustomError("format_invalid", "`chunk_method` {chunk_method} doesn't exist", {"chunk_method": v})
        return v

    @field_validator("enabled", mode="before")
    @classmethod
    def _enabled(cls, v: Any) -> Any:
        if v is not None and v not in (0, 1):
            raise PydanticCustomError("format_invalid", "`enabled` value invalid, only accept 0 or 1 but is {enabled}", {"enabled": v})
        return v

    @field_validator("meta_fields", mode="before")
    @classmethod
    def _meta_fields(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, dict):
            raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
        for value in v.values():
            if isinstance(value, list):
                for item in value:
                    if not isinstance(item, str | int | float):
                        raise PydanticCustomError("format_invalid", "The type is not supported in list: {v}", {"v": value})
            elif not isinstance(value, str | int | float):
                raise PydanticCustomError("format_invalid", "The type is not supported: {v}", {"v": value})
        return v
