"""Dataset request models: RAGFlow's fields, limits, defaults and validation messages."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ragcore.domain.paging import bounded_page_size
from ragcore.errors import ApiError, RetCode

CHUNK_METHODS = ("naive", "book", "email", "laws", "manual", "one", "paper", "picture", "presentation", "qa", "table", "tag", "resume")
CHUNK_METHOD_MESSAGE = (
    "Input should be 'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', "
    "'presentation', 'qa', 'table', 'tag' or 'resume'"
)
AVATAR_MIME_TYPES = ["image/jpeg", "image/png"]
REST_API_MAX_IDS = 100

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


RAPTOR_PROMPT = (
    "Summarize the paragraphs below without inventing facts or changing numbers.\nOutput exactly two parts in the same "
    "language as the source:\n1. First line: a concise title only.\n2. Following lines: a concise summary of the content."
    "\nDo not output labels, Markdown headings, bullet points, or any other commentary.\n\nParagraphs:\n{cluster_content}"
)
_OFF = {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False}}
# RAGFlow's get_parser_config defaults per chunk method (None: only the context sizes). `use_raptor`/`use_graphrag`
# are on for "naive" as in RAGFlow, where nothing runs until a RAPTOR or GraphRAG build is asked for either.
_METHOD_DEFAULTS: dict[str, dict[str, Any] | None] = {
    "naive": {
        "layout_recognize": "DeepDOC", "chunk_token_num": 512, "delimiter": "\n", "auto_keywords": 0,
        "auto_questions": 0, "html4excel": False, "topn_tags": 3,
        "raptor": {"use_raptor": True, "prompt": RAPTOR_PROMPT, "max_token": 512, "clustering_threshold": 0.3,
                   "clustering_ratio": 0.5, "max_cluster": 64, "random_seed": 0},
        "graphrag": {"use_graphrag": True, "entity_types": ["organization", "person", "geo", "event", "category"],
                     "method": "light", "batch_chunk_token_size": 4096, "retry_attempts": 2,
                     "retry_backoff_seconds": 2.0, "retry_backoff_max_seconds": 60.0,
                     "build_subgraph_timeout_per_chunk_seconds": 300, "build_subgraph_min_timeout_seconds": 600,
                     "merge_timeout_seconds": 180, "resolution_timeout_seconds": 1800,
                     "community_timeout_seconds": 1800, "lock_acquire_timeout_seconds": 600},
        "parent_child": {"use_parent_child": False, "children_delimiter": "\n"},
    },
    **{m: _OFF for m in ("qa", "manual", "paper", "book", "laws", "presentation")},
    "knowledge_graph": {"chunk_token_num": 8192, "delimiter": "\n",
                        "entity_types": ["organization", "person", "location", "event", "time"], **_OFF},
    **{m: None for m in ("tag", "resume", "table", "one", "email", "picture")},
}


# What RAGFlow's create request model fills in when a client sends a parser_config without `raptor` / `graphrag`
# (its RaptorConfig / GraphragConfig defaults: both off)
_RAPTOR_MODEL_DEFAULTS = {**_METHOD_DEFAULTS["naive"]["raptor"], "use_raptor": False,  # type: ignore[index]
                          "scope": "file", "auto_disable_for_structured_data": True}
_GRAPHRAG_MODEL_DEFAULTS = {**_METHOD_DEFAULTS["naive"]["graphrag"], "use_graphrag": False,  # type: ignore[index]
                            "community": False, "resolution": False}


def with_model_defaults(given: dict[str, Any]) -> dict[str, Any]:
    """A created dataset's sent parser_config as RAGFlow's validation returns it: raptor and graphrag present, off
    unless the client turned them on."""
    return {**given, "raptor": {**_RAPTOR_MODEL_DEFAULTS, **(given.get("raptor") or {})},
            "graphrag": {**_GRAPHRAG_MODEL_DEFAULTS, **(given.get("graphrag") or {})}}


def deep_merge(base: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
    """A copy of base with custom's values, nested dicts merged (custom wins; a non-dict replaces a dict)."""
    merged = json.loads(json.dumps(base))
    for key, value in custom.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = json.loads(json.dumps(value))
    return merged


def _flatten_parent_child(config: dict[str, Any]) -> dict[str, Any]:
    # RAGFlow hands the execution layer a top-level children_delimiter ("" when parent-child is off)
    pc = config.get("parent_child")
    if isinstance(pc, dict) and pc.get("use_parent_child"):
        config["children_delimiter"] = pc.get("children_delimiter", "\n")
    elif pc:
        config["children_delimiter"] = ""
    return config


def default_parser_config(chunk_method: str, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """RAGFlow's get_parser_config: the context sizes, the method's defaults, then what the request gave."""
    merged = deep_merge({"table_context_size": 0, "image_context_size": 0}, _METHOD_DEFAULTS.get(chunk_method) or {})
    return _flatten_parent_child(deep_merge(merged, given or {}))


def merge_parser_config(chunk_method: str, given: dict[str, Any] | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The defaults of the chunk method (base None) or the stored config, then what the request gave (deep merge)."""
    if base is None:
        return default_parser_config(chunk_method, given)
    return _flatten_parent_child(deep_merge(base, given or {}))


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


def uuid_hex(v: Any) -> str:
    """RAGFlow's validate_uuid1_hex: any UUID spelling, as 32 lowercase hex digits."""
    if isinstance(v, uuid.UUID):
        return v.hex
    try:
        return uuid.UUID(v).hex
    except (ValueError, TypeError, AttributeError):
        raise PydanticCustomError("invalid_uuid_format", "Invalid UUID format") from None


class ListDatasetsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int, Field(ge=1)] = 30
    orderby: Literal["create_time", "update_time"] = "create_time"
    desc: bool = True
    name: str | None = None
    id: str | None = None
    ids: Annotated[list[str] | None, Field(max_length=REST_API_MAX_IDS)] = None
    include_parsing_status: bool = False
    ext: dict[str, Any] = {}

    @field_validator("page_size")
    @classmethod
    def _page_size_bound(cls, v: int) -> int:
        return bounded_page_size(v)  # RAGFlow's validate_rest_api_page_size inside its list model

    @field_validator("id", mode="before")
    @classmethod
    def _id_format(cls, v: Any) -> str:
        return uuid_hex(v)

    @field_validator("ids")
    @classmethod
    def _ids_format(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        out = [uuid_hex(raw) for raw in v]
        dupes = [i for i, n in Counter(out).items() if n > 1]
        if dupes:
            raise PydanticCustomError("duplicate_uuids", "Duplicate ids: '{duplicate_ids}'", {"duplicate_ids": ", ".join(dupes)})
        return out


def parse_list_query(params: dict[str, Any]) -> ListDatasetsQuery:
    """GET /datasets' query as RAGFlow's ListDatasetReq takes it: an unknown parameter is refused first (its own
    words), then the model's checks (code 101)."""
    from ragcore.domain.validation import parse_model

    unknown = set(params) - set(ListDatasetsQuery.model_fields)
    if unknown:
        field = sorted(unknown)[0]
        raise ApiError(RetCode.ARGUMENT_ERROR,
                       f"Field: <{field}> - Message: <Extra inputs are not permitted> - Value: <{params[field]}>")
    return parse_model(ListDatasetsQuery, {k: v for k, v in params.items() if v is not None})


class DeleteDatasets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = None
    delete_all: bool = False
