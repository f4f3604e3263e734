"""The values of file commits: scopes, trees, changes, where content and trees are stored, and the errors and paging
checks of RAGFlow's file_commit routes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ragcore.errors import ApiError, RetCode

MAX_FILES = 1000  # per commit's changes, per tree, per scope read for uncommitted changes
MAX_PAGE_SIZE = 100  # RAGFlow's REST_API_MAX_PAGE_SIZE for the commit list
DEFAULT_PAGE_SIZE = 30
OPERATIONS = ("add", "modify", "delete", "rename")

Tree = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Scope:
    kind: str  # "workspaces" | "datasets" (the URL prefix)
    id: str
    name: str


def object_location(content_hash: str) -> str:
    """The location RAGFlow reports for committed content."""
    return f".objects/{content_hash}"


def object_key(tenant: str, content_hash: str) -> str:
    return f"commits/{tenant}/objects/{content_hash}"


def tree_key(tenant: str, tree_hash: str) -> str:
    return f"commits/{tenant}/trees/{tree_hash}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_error(message: str) -> ApiError:
    return ApiError(RetCode.DATA_ERROR, message)


def argument_error(message: str) -> ApiError:
    return ApiError(RetCode.ARGUMENT_ERROR, message)


def too_many_files(scope: Scope, limit: int) -> ApiError:
    noun = "dataset" if scope.kind == "datasets" else "workspace"
    return data_error(f"The {noun} holds more than {limit} files: commits, changes and trees are limited to "
                      f"{limit} files.")


def positive_int(value: Any, default: int) -> int:
    """RAGFlow's validate_rest_api_page: a value that is not a whole number ≥ 1 is the default."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


def page_size_param(value: Any, default: int, maximum: int) -> int:
    size = positive_int(value, default)
    if size > maximum:
        raise ApiError(RetCode.EXCEPTION_ERROR, f"ValueError('page_size must be less than or equal to {maximum}')")
    return size


@dataclass
class Change:
    file_id: str
    operation: str
    name: str  # the name the tree records for this file after the change
    live: dict[str, Any] | None  # the live file (workspace) or document (dataset), when it exists
    data: bytes | None = None  # the content an add/modify commits
    old_name: str = ""
    new_name: str = ""


