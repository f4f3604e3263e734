"""RAGFlow's envelope codes and the one exception services raise to reach the client."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class RetCode(IntEnum):
    SUCCESS = 0
    NOT_EFFECTIVE = 10
    EXCEPTION_ERROR = 100
    ARGUMENT_ERROR = 101
    DATA_ERROR = 102
    OPERATING_ERROR = 103
    CONNECTION_ERROR = 105
    RUNNING = 106
    PERMISSION_ERROR = 108
    AUTHENTICATION_ERROR = 109
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    FORBIDDEN = 403
    NOT_FOUND = 404
    CONFLICT = 409
    SERVER_ERROR = 500
    INVALID_CHUNK_ID = 1001
    CHUNK_UPDATE_FAILED = 1002


class ApiError(Exception):
    """A failure the client sees as {"code": code, "message": message}."""

    def __init__(self, code: int, message: str, *, http_status: int = 200, data: Any = None) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message
        self.http_status = http_status
        self.data = data  # what RAGFlow puts beside some messages (`false` on a chunk that is not found)


def argument_error(message: str) -> ApiError:
    return ApiError(RetCode.ARGUMENT_ERROR, message)


def data_error(message: str) -> ApiError:
    return ApiError(RetCode.DATA_ERROR, message)


def require_arguments(body: dict[str, Any], *names: str) -> None:
    """RAGFlow's @validate_request: the named keys must be present (any value), else one argument error naming
    every missing key."""
    missing = [n for n in names if n not in body]
    if missing:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"required argument are missing: {','.join(missing)}; ")


class StorageError(Exception):
    """The store could not write (disk full, read-only data folder, throttled table)."""


class StorageBusy(StorageError):
    """The store stayed too busy (throttled, or contended by concurrent writers) through every retry: nothing of
    the change was made, and the same request can be sent again."""


class ProviderError(Exception):
    """A model provider (embeddings, chat, rerank) kept failing after retries; the message is user-readable."""


class Failure(Exception):
    """A service's refusal in RAGFlow's (False, message) form: the route answers it as {"code": 102, "message"}."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
