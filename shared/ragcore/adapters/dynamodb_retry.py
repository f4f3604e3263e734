"""How the DynamoDB adapter rides out a busy table: which answers mean "send it again", the wait between tries,
and what a caller sees when the tries run out.

One policy, here: the table's client has botocore's own retries off (CLIENT_CONFIG), so waits never stack (botocore's
standard mode alone waits up to 1 s, then 2 s, and stops after 3 tries), every try is counted (ragcore.usage: the
StoreRetries metric), and a hot dataset's conflicting transactions back off like its throttled writes. A try
waits 20 ms·2^n (capped at 1 s) with jitter; ATTEMPTS tries span about 7 s. What is still busy after them is a
StorageBusy (the API answers it as retryable); every write the adapter makes is conditional or whole, so a
failed one changed nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from ragcore import usage
from ragcore.errors import StorageBusy, StorageError

ATTEMPTS = 12
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1})
RETRYABLE = {"TransactionConflictException", "ThrottlingException", "ProvisionedThroughputExceededException",
             "RequestLimitExceeded", "TransactionInProgressException", "InternalServerError", "ServiceUnavailable"}
_DROPPED = (BotoConnectionError, HTTPClientError)  # the connection failed or timed out before an answer


class Stale(Exception):
    """A condition failed: the item changed between our read and our conditional write (read again). `failed`
    holds the positions of the transaction's actions whose condition failed (empty: a single write)."""

    def __init__(self, failed: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.failed = failed


def code_of(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def pause(attempt: int) -> None:
    time.sleep(min(0.02 * 2**attempt, 1.0) * (0.5 + random.random()))


def back_off(attempt: int) -> None:
    """Counted and waited before the next try (none after the last)."""
    if attempt + 1 < ATTEMPTS:
        usage.retried()
        pause(attempt)


def busy() -> StorageBusy:
    return StorageBusy("The metadata table is busy (throttled, or many writers on the same dataset) and the change "
                       "was not made; try again in a moment.")


def storage_error(exc: ClientError) -> StorageError:
    code = code_of(exc)
    if code in RETRYABLE:
        return busy()
    if code in ("AccessDeniedException", "UnrecognizedClientException"):
        return StorageError("The function is not allowed to use the metadata table.")
    if code == "ResourceNotFoundException":
        return StorageError("The metadata table does not exist.")
    return StorageError(f"The metadata table failed: {code or exc}")


def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """One request, sent again while the table answers it is busy or the connection drops; any other refusal is
    raised as the ClientError it is (the caller knows what a failed condition means)."""
    for attempt in range(ATTEMPTS):
        try:
            return fn(**kwargs)
        except ClientError as exc:
            if code_of(exc) not in RETRYABLE:
                raise
        except _DROPPED:
            pass
        back_off(attempt)
    raise busy()


def transact(client: Any, actions: list[dict[str, Any]]) -> None:
    """One all-or-nothing TransactWriteItems: a failed condition raises Stale (with the actions that failed), a
    conflicting transaction or throttling is retried, the rest is a StorageError."""
    for attempt in range(ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=actions)
            usage.wrote(len(actions))
            return
        except ClientError as exc:
            code = code_of(exc)
            if code == "TransactionCanceledException":
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", []) or []]
                failed = frozenset(n for n, reason in enumerate(reasons) if reason == "ConditionalCheckFailed")
                if failed or (not reasons and "ConditionalCheckFailed" in str(exc)):
                    raise Stale(failed) from exc
                # else TransactionConflict (another transaction holds one of the items) or ThrottlingError
            elif code not in RETRYABLE:
                raise storage_error(exc) from exc
        except _DROPPED:
            pass
        back_off(attempt)
    raise busy()


def single(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """A conditional single-item write: a failed condition raises Stale; busy answers are retried."""
    try:
        got = call(fn, **kwargs)
    except ClientError as exc:
        if code_of(exc) == "ConditionalCheckFailedException":
            raise Stale() from exc
        raise storage_error(exc) from exc
    usage.wrote(1)
    return got
