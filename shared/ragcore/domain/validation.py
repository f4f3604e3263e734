"""Request models validated into typed values, and pydantic errors turned into RAGFlow's one-line messages (code 101)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ragcore.errors import ApiError, RetCode

M = TypeVar("M", bound=BaseModel)


def format_validation_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ()))  # a model-level error has no field, as in RAGFlow
        msg = err.get("msg", "invalid value")
        value = err.get("input")
        shown = "" if value is None and err.get("type") == "missing" else _short(value)
        lines.append(f"Field: <{field}> - Message: <{msg}> - Value: <{shown}>")
    return "\n".join(lines)


def _short(value: Any) -> str:
    # RAGFlow's format_validation_error_message cuts the value at 128 characters
    text = str(value)
    return text if len(text) <= 128 else text[:125] + "..."


def parse_model(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(RetCode.ARGUMENT_ERROR, format_validation_error(exc)) from exc
