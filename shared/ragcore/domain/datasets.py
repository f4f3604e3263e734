"""Dataset request models: RAGFlow's fields, limits, defaults and validation messages."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

CHUNK_METHODS = ("naive", "book", "email", "laws", "manual", "one", "paper", "picture", "presentation", "qa", "table", "tag", "resume")
CHUNK_METHOD_MESSAGE = (
    "Input should be 'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', "
    "'presentation', 'qa', 'table', 'tag' or 'resume'"
)
AVATAR_MIME_TYPES = ["image/jpeg", "image/png"]

# Embedding models RAGFlow's model factories offer. A known model this deployment does not serve is
# "Unauthorized" (the tenant lacks it); anything else is "Unsupported" — RAGFlow's two answers.
KNOWN_EMBEDDING_MODELS = {
    "Builtin": {"BAAI/bge-small-en-v1.5", "BAAI/bge-large-zh-v1.5", "maidalun1020/bce-embedding-base_v1"},
    "BAAI": {"BAAI/bge-large-zh-v1.5", "BAAI/bge-small-en-v1.5"},
    "OpenAI": {"text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large"},
    "Tongyi-Qianwen": {"text-embedding-v2", "text-embedding-v3", "text-embedding-v4"},
    "ZHIPU-AI": {"embedding-2", "embedding-3"},
    "Jina": {"jina-embeddings-v2-base-en", "jina-embeddings-v3"},
    "Ollama": {"nomic-embed-text", "mxbai-embed-large", "bge-m3"},
    "SILICONFLOW": {"BAAI/bge-m3", "BAAI/bge-large-zh-v1.5", "netease-youdao/bce-embedding-base_v1"},
    "VoyageAI": {"voyage-3", "voyage-3-lite"},
    "Cohere": {"embed-english-v3.0", "embed-multilingual-v3.0"},
}

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
LongText = Annotated[str, StringConstraints(max_length=65535)]


class RaptorConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    use_raptor: bool = False
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    max_token: Annotated[int, Field(ge=1, le=2048)] | None = None
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    clustering_threshold: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_cluster: Annotated[int, Field(ge=1, le=1024)] | None = None
    random_seed: Annotated[int, Field(ge=0)] | None = None


class GraphragConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    use_graphrag: bool = False
    entity_types: list[str] | None = None
    method: Literal["light", "general", "ner"] = "light"
    community: bool | None = None
    resolution: bool | None = None


class ParentChildConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    use_parent_child: bool = False
    children_delimiter: Annotated[str, StringConstraints(min_length=1)] = "\n"


class ParserConfig(BaseModel):
    model_config = ConfigDict(extra="allow", strict=False)
    auto_keywords: Annotated[int, Field(ge=0, le=32)] | None = None
    auto_questions: Annotated[int, Field(ge=0, le=10)] | None = None
    chunk_token_num: Annotated[int, Field(ge=1, le=2048)] | None = None
    delimiter: Annotated[str, StringConstraints(min_length=1)] | None = None
    html4excel: bool | None = None
    layout_recognize: str | None = None
    tag_kb_ids: list[str] | None = None
    topn_tags: Annotated[int, Field(ge=1, le=10)] | None = None
    filename_embd_weight: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    task_page_size: Annotated[int, Field(ge=1)] | None = None
    pages: list[list[int]] | None = None
    raptor: RaptorConfig | None = None
    graphrag: GraphragConfig | None = None
    parent_child: ParentChildConfig | None = None

    @field_validator("auto_keywords", "auto_questions", "chunk_token_num", "topn_tags", "task_page_size", mode="before")
    @classmethod
    def _no_float(cls, v: Any) -> Any:
        if isinstance(v, (float, bool)):
            raise PydanticCustomError("int_type", "Input should be a valid integer")
        return v


def _default_parser_config(chunk_method: str) -> dict[str, Any]:
    if chunk_method in ("table", "picture", "one", "email", "resume"):
        return {}
    if chunk_method in ("qa", "manual", "paper", "book", "laws", "presentation", "tag"):
        return {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False}}
    return {
        "layout_recognize": "DeepDOC",
        "chunk_token_num": 512,
        "delimiter": "\n",
        "auto_keywords": 0,
        "auto_questions": 0,
        "html4excel": False,
        "image_context_size": 0,
        "table_context_size": 0,
        "topn_tags": 3,
        "raptor": {"use_raptor": False},
        "graphrag": {"use_graphrag": False},
        "parent_child": {"use_parent_child": False, "children_delimiter": "\n"},
    }


def merge_parser_config(chunk_method: str, given: dict[str, Any] | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults of the chunk method, then the stored config, then what the request gave (nested dicts merged)."""
    merged = _default_parser_config(chunk_method) if base is None else json.loads(json.dumps(base))
    for key, value in (given or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    if chunk_method not in ("table", "picture", "one", "email", "resume"):
        merged.setdefault("raptor", {"use_raptor": False})
        merged.setdefault("graphrag", {"use_graphrag": False})
        merged["raptor"].setdefault("use_raptor", False)
        merged["graphrag"].setdefault("use_graphrag", False)
    return merged


class _DatasetFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    avatar: LongText | None = None
    description: LongText | None = None
    embedding_model: Annotated[str, StringConstraints(max_length=255)] | None = None
    permission: Literal["me", "team"] = "me"
    chunk_method: str | None = None
    parser_config: ParserConfig | None = None

    @field_validator("avatar")
    @classmethod
    def _avatar(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return v
        if "," in v:
            prefix, _ = v.split(",", 1)
            if not prefix.startswith("data:"):
                raise PydanticCustomError("format_invalid", "invalid MIME prefix format. Must start with 'data:'")
            mime = prefix[5:].split(";")[0]
            if mime not in AVATAR_MIME_TYPES:
                raise PydanticCustomError(
                    "format_invalid", "Unsupported MIME type. Allowed: {allowed}", {"allowed": AVATAR_MIME_TYPES}
                )
            return v
        raise PydanticCustomError("format_invalid", "missing MIME prefix. Expected format: data:<mime>;base64,<data>")

    @field_validator("embedding_model", mode="before")
    @classmethod
    def _embedding_model(cls, v: Any) -> Any:
        if v is None or not isinstance(v, str):
            return v
        if "@" not in v:
            raise PydanticCustomError("format_invalid", "embedding model identifier must follow <model_name>@<provider> format")
        name, _, provider = v.rpartition("@")
        if not name or not provider:
            raise PydanticCustomError("format_invalid", "both model_name and provider must be non-empty strings")
        if not name.strip() or not provider.strip():
            raise PydanticCustomError("format_invalid", "both model_name and provider must be non-empty strings")
        return v

    @field_validator("chunk_method", mode="wrap")
    @classmethod
    def _chunk_method(cls, v: Any, handler: Any) -> Any:
        if v is None and "chunk_method" not in cls.model_fields:
            return v
        if not isinstance(v, str) or v not in CHUNK_METHODS:
            raise PydanticCustomError("literal_error", CHUNK_METHOD_MESSAGE)
        return handler(v)

    @field_validator("parser_config", mode="before")
    @classmethod
    def _parser_config_size(cls, v: Any) -> Any:
        if isinstance(v, dict) and len(json.dumps(v)) > 65535:
            raise PydanticCustomError(
                "string_too_long",
                "Parser config exceeds size limit (max 65,535 characters). Current size: {actual}",
                {"actual": len(json.dumps(v))},
            )
        return v


class CreateDataset(_DatasetFields):
    name: Name
    chunk_method: str | None = None  # validated only when present (None means default "naive")
    parse_type: int | None = None
    pipeline_id: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name_type(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        return v

    @field_validator("chunk_method", mode="wrap")
    @classmethod
    def _chunk_method_create(cls, v: Any, handler: Any) -> Any:
        if not isinstance(v, str) or v not in CHUNK_METHODS:
            raise PydanticCustomError("literal_error", CHUNK_METHOD_MESSAGE)
        return handler(v)

    @field_validator("pipeline_id")
    @classmethod
    def _pipeline_id(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if len(v) != 32:
            raise PydanticCustomError("format_invalid", "pipeline_id must be 32 hex characters")
        try:
            int(v, 16)
        except ValueError:
            raise PydanticCustomError("format_invalid", "pipeline_id must be hexadecimal") from None
        return v.lower()

    @model_validator(mode="after")
    def _parser_source(self) -> CreateDataset:
        has_pipeline = self.parse_type is not None or self.pipeline_id is not None
        if has_pipeline and (self.chunk_method is not None or self.parser_config is not None):
            raise PydanticCustomError(
                "invalid_parser_source", "Provide either chunk_method/parser_config or parse_type/pipeline_id, not both"
            )
        if has_pipeline and (self.parse_type is None or self.pipeline_id is None):
            raise PydanticCustomError("missing_field", "parse_type and pipeline_id must be provided together")
        return self


class UpdateDataset(_DatasetFields):
    name: Name | None = None
    # permission and pagerank may be left out, but an explicit null is refused, as RAGFlow does
    pagerank: Annotated[int, Field(ge=0, le=100)] = 0
    language: Annotated[str, StringConstraints(max_length=32)] | None = None
    connectors: list[Any] | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name_type(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        return v


class ListDatasetsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int, Field(ge=1)] = 30
    orderby: Literal["create_time", "update_time"] = "create_time"
    desc: bool = True
    name: str | None = None
    id: str | None = None
    include_parsing_status: bool = False


class DeleteDatasets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = None
    delete_all: bool = False
