"""Seeded fault injection: what moto cannot show (contention, throttling, redelivery), on the real boto3 clients.

A plan (`Faults`) holds rules; while it is active (`with plan:`) every boto3 client of the process — the adapters'
own, made before or after — sends each request past it first. A rule names a service, the operations it hits,
the faults it picks from and the share of requests that fail (`rate`), optionally after letting `skip` requests
pass and at most `limit` times. Draws come from one `random.Random(seed)` per rule, so a single-threaded run
with the same seed fails the same requests; under threads the share holds, the order is the scheduler's.

The hook is one of botocore's built-in `before-send` handlers, registered first: it answers before moto (or the
network) would, with the error response the service sends, so botocore parses it and the adapters' retry code
sees exactly what it would see on AWS. botocore calls every `before-send` handler even after one answered (the
first answer wins), so a request answered here is marked and moto's handler leaves it alone: a failed write
is never applied behind the client's back. Faults:

- DynamoDB: `TransactionConflict` (a transaction: TransactionCanceledException whose CancellationReasons name
  TransactionConflict; a single write: TransactionConflictException), `Throttling` (ThrottlingException),
  `ProvisionedThroughputExceeded`, `Unprocessed` (BatchWriteItem/BatchGetItem: moto applies part of the batch,
  the rest comes back unprocessed, as DynamoDB does under load).
- S3: `SlowDown` (503).
- SQS: `Redeliver` (ReceiveMessage: a received message is delivered again by the next receive from its queue, as
  after a visibility timeout — at-least-once delivery).

`HttpTrouble` is the same seeded draw for loopback HTTP fakes (the Pinecone fake answers 429/503 with it).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

DYNAMODB_WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query"})
_DDB = "com.amazonaws.dynamodb.v20120810#"
_MESSAGES = {
    "Throttling": ("com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "ProvisionedThroughputExceeded": (f"{_DDB}ProvisionedThroughputExceededException",
                                      "Throughput exceeds the current capacity of your table or index. DynamoDB is "
                                      "automatically scaling your table or index so please try again shortly."),
}


@dataclass(frozen=True)
class Rule:
    service: str  # botocore's service id: "dynamodb", "s3", "sqs"
    operations: frozenset[str]  # empty: every operation of the service
    faults: tuple[str, ...]  # one is drawn per failed request (see the module's list)
    rate: float  # the share of matching requests that fail
    skip: int = 0  # the first `skip` matching requests pass
    limit: int | None = None  # at most this many faults
    when: Callable[[dict[str, Any]], bool] | None = None  # only requests whose JSON body this accepts


@dataclass
class _RuleState:
    rule: Rule
    draw: random.Random
    seen: int = 0
    fired: int = 0


class Faults:
    """A plan of rules; `with plan:` makes it the active one, process-wide (a plan entered inside another replaces
    it until it exits: a test's own faults inside a suite-wide contention)."""

    def __init__(self, *rules: Rule, seed: int = 0) -> None:
        self._rules = [_RuleState(rule, random.Random(seed * 7919 + n)) for n, rule in enumerate(rules)]
        self._lock = threading.Lock()
        self._pending: dict[str, list[dict[str, Any]]] = {}  # queue url → messages to deliver again
        self.injected: Counter[str] = Counter()  # "<service>.<operation>.<fault>" → times
        self.sends: Counter[str] = Counter()  # "<service>.<operation>" → requests sent (each retry is one)

    def __enter__(self) -> Faults:
        global _active
        with _switch:
            _outer.append(_active)
            _active = self
        return self

    def __exit__(self, *_: object) -> None:
        global _active
        with _switch:
            _active = _outer.pop()

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def _pick(self, service: str, operation: str, body: dict[str, Any]) -> tuple[str | None, float]:
        """The fault to answer with (or None), and a draw in [0, 1) that places it (which action, where to cut)."""
        with self._lock:
            self.sends[f"{service}.{operation}"] += 1
            for state in self._rules:
                rule = state.rule
                if rule.service != service or (rule.operations and operation not in rule.operations):
                    continue
                if rule.when is not None and not rule.when(body):
                    continue
                state.seen += 1
                if state.seen <= rule.skip or (rule.limit is not None and state.fired >= rule.limit):
                    continue
                if state.draw.random() >= rule.rate:
                    continue
                fault = state.draw.choice(rule.faults)
                if not _applies(fault, operation, body):
                    continue
                state.fired += 1
                self.injected[f"{service}.{operation}.{fault}"] += 1
                return fault, state.draw.random()
        return None, 0.0

    def _keep_for_later(self, queue: str, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            self._pending.setdefault(queue, []).extend(messages)

    def _take_pending(self, queue: str, n: int) -> list[dict[str, Any]]:
        with self._lock:
            waiting = self._pending.get(queue, [])
            taken, self._pending[queue] = waiting[:n], waiting[n:]
            return taken


def contention(rate: float, *, seed: int = 0, reads: bool = False) -> Faults:
    """Writes to DynamoDB as a hot dataset sees them: a share conflicts with another transaction or is throttled,
    batch writes come back partly unprocessed; with reads, reads are throttled at the same rate."""
    hot = ("TransactionConflict", "Throttling", "ProvisionedThroughputExceeded")
    rules = [Rule("dynamodb", frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"}), hot, rate),
             Rule("dynamodb", frozenset({"BatchWriteItem"}), ("Unprocessed", "ProvisionedThroughputExceeded"), rate)]
    if reads:
        rules += [Rule("dynamodb", frozenset({"GetItem", "Query"}), ("Throttling", "ProvisionedThroughputExceeded"), rate),
                  Rule("dynamodb", frozenset({"BatchGetItem"}), ("Unprocessed", "ProvisionedThroughputExceeded"), rate)]
    return Faults(*rules, seed=seed)


# ---- the hook ------------------------------------------------------------------------------------
_active: Faults | None = None
_outer: list[Faults | None] = []  # the plans a nested plan replaced
_switch = threading.Lock()
_installed = False
_ANSWERED = "answered_by_fault_layer"  # set on a request answered here: moto must not apply it as well


def install() -> None:
    """Adds the hook to botocore's built-in handlers (sessions made from now on carry it), ahead of moto's."""
    global _installed
    if _installed:
        return
    from botocore.handlers import BUILTIN_HANDLERS, REGISTER_FIRST
    from moto.core.botocore_stubber import BotocoreStubber

    BUILTIN_HANDLERS.append(("before-send", _before_send, REGISTER_FIRST))
    moto_call = BotocoreStubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if getattr(request, _ANSWERED, False):
            return None
        return moto_call(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = call  # type: ignore[method-assign]
    _installed = True


def _before_send(request: Any, event_name: str = "", **kwargs: Any) -> Any:
    answer = _answer(request, event_name)
    if answer is not None:
        setattr(request, _ANSWERED, True)
    return answer


def _answer(request: Any, event_name: str) -> Any:
    plan = _active
    if plan is None:
        return None
    _, service, operation = (event_name.split(".") + ["", ""])[:3]
    body = _json_body(request)
    fault, where = plan._pick(service, operation, body)
    if service == "sqs" and operation == "ReceiveMessage":
        return _receive(plan, request, event_name, body, fault == "Redeliver")
    if fault is None:
        return None
    if fault == "Unprocessed":
        return _partly_unprocessed(request, event_name, operation, body, where)
    if fault == "SlowDown":
        xml = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request '
               'rate.</Message><RequestId>fault</RequestId><HostId>fault</HostId></Error>')
        return _response(request, 503, {"Content-Type": "application/xml"}, xml.encode())
    if fault == "TransactionConflict":
        if operation == "TransactWriteItems":
            reasons = [{"Code": "None"} for _ in body.get("TransactItems", [])]
            if reasons:
                reasons[int(where * len(reasons))] = {"Code": "TransactionConflict",
                                                           "Message": "Transaction is ongoing for the item"}
            names = ", ".join(r["Code"] for r in reasons)
            return _dynamodb_error(request, f"{_DDB}TransactionCanceledException",
                                   f"Transaction cancelled, please refer cancellation reasons for specific reasons [{names}]",
                                   CancellationReasons=reasons)
        return _dynamodb_error(request, f"{_DDB}TransactionConflictException",
                               "Transaction is ongoing for the item")
    code, message = _MESSAGES[fault]
    return _dynamodb_error(request, code, message)


def _applies(fault: str, operation: str, body: dict[str, Any]) -> bool:
    if fault == "Unprocessed":  # a batch of one has nothing to split: DynamoDB throttles it instead
        return operation in ("BatchWriteItem", "BatchGetItem") and _batch_size(operation, body) > 1
    if fault == "Redeliver":
        return operation == "ReceiveMessage"
    return True


def _batch_size(operation: str, body: dict[str, Any]) -> int:
    if operation == "BatchWriteItem":
        return sum(len(v) for v in body.get("RequestItems", {}).values())
    return sum(len(v.get("Keys", [])) for v in body.get("RequestItems", {}).values())


def _json_body(request: Any) -> dict[str, Any]:
    """The request of a JSON-protocol service (DynamoDB, SQS: they name their operation in X-Amz-Target), else {}.
    A streamed body (an S3 upload, whatever its content type) is never read: the service would get it empty."""
    raw = request.body
    if not raw or not isinstance(raw, (bytes, str)) or "X-Amz-Target" not in request.headers:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data


def _response(request: Any, status: int, headers: dict[str, str], body: bytes) -> Any:
    from botocore.awsrequest import AWSResponse

    sent: Any = {"x-amzn-RequestId": "fault", **headers}
    return AWSResponse(request.url, status, sent, _Raw(body))


def _dynamodb_error(request: Any, code: str, message: str, **extra: Any) -> Any:
    body = json.dumps({"__type": code, "message": message, **extra}).encode()
    return _response(request, 400, {"Content-Type": "application/x-amz-json-1.0"}, body)


def _forward(request: Any, event_name: str, body: dict[str, Any] | None = None) -> Any:
    """The request (or the same request with another JSON body) answered by moto."""
    from botocore.awsrequest import AWSPreparedRequest
    from moto.core.models import botocore_stubber

    if body is not None:
        data = json.dumps(body).encode()
        headers: Any = dict(request.headers.items())
        headers["Content-Length"] = str(len(data))
        request = AWSPreparedRequest(method=request.method, url=request.url, headers=headers, body=data,
                                     stream_output=request.stream_output)
    return botocore_stubber(event_name=event_name, request=request)


def _partly_unprocessed(request: Any, event_name: str, operation: str, body: dict[str, Any], where: float) -> Any:
    """Part of a batch applied by moto, the rest returned unprocessed (the caller sends it again)."""
    listed = [(table, entry) for table, entries in body["RequestItems"].items()
              for entry in (entries if operation == "BatchWriteItem" else entries["Keys"])]
    cut = 1 + int(where * (len(listed) - 1))
    done, rest = listed[:cut], listed[cut:]

    def regroup(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for table, entry in pairs:
            if operation == "BatchWriteItem":
                out.setdefault(table, []).append(entry)
            else:
                out.setdefault(table, {k: v for k, v in body["RequestItems"][table].items() if k != "Keys"}
                               ).setdefault("Keys", []).append(entry)
        return out

    answered = _forward(request, event_name, {**body, "RequestItems": regroup(done)})
    if answered is None or answered.status_code != 200:
        return answered
    reply = json.loads(answered.content or b"{}")
    reply["UnprocessedItems" if operation == "BatchWriteItem" else "UnprocessedKeys"] = regroup(rest)
    return _response(request, 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(reply).encode())


def _receive(plan: Faults, request: Any, event_name: str, body: dict[str, Any], redeliver: bool) -> Any:
    """moto's receive, plus the messages an earlier receive from the queue is delivering again."""
    answered = _forward(request, event_name)
    if answered is None or answered.status_code != 200 or not body:
        return answered
    queue = str(body.get("QueueUrl", ""))
    reply = json.loads(answered.content or b"{}")
    got: list[dict[str, Any]] = reply.get("Messages", [])
    room = int(body.get("MaxNumberOfMessages") or 1) - len(got)
    again = plan._take_pending(queue, room) if room > 0 else []
    if redeliver and got:
        plan._keep_for_later(queue, [dict(m) for m in got])
    if not again and not (redeliver and got):
        return answered
    reply["Messages"] = got + again
    return _response(request, 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(reply).encode())


@dataclass
class HttpTrouble:
    """A loopback HTTP fake's share of failing requests: `statuses` drawn at `rate` on the `paths` named, after
    `skip` requests and at most `limit` times, each with a Retry-After header when set (clients that honour it
    then wait that long)."""

    rate: float
    statuses: tuple[int, ...] = (429, 503)
    paths: tuple[str, ...] = ()  # empty: every path
    seed: int = 0
    skip: int = 0
    limit: int | None = None
    retry_after: str | None = "0"
    failed: Counter[str] = field(default_factory=Counter)  # "<path> <status>" → times
    _draw: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._draw = random.Random(self.seed)

    def status_for(self, path: str) -> int | None:
        """The status to answer this request with instead of serving it, or None."""
        if self.paths and path not in self.paths:
            return None
        with self._lock:
            self._seen += 1
            if self._seen <= self.skip or (self.limit is not None and sum(self.failed.values()) >= self.limit):
                return None
            if self._draw.random() >= self.rate:
                return None
            status = self._draw.choice(self.statuses)
            self.failed[f"{path} {status}"] += 1
            return status
