"""Two of moto's DynamoDB costs made proportional to the work, its semantics unchanged (installed by importing
tests.fakes), so tests at 10,000 items take seconds:

- TransactWriteItems: moto 5 deep-copies every table a transaction names, once per action, to roll back on
  failure (O(table size) per transaction). Here only the items the actions touch are saved for the rollback:
  still all or nothing, the same ConditionalCheckFailed reasons, one action per item.
- An item's 400 KB check: moto sums the sizes of all its attributes on every attribute it sets (quadratic in
  the attributes). Here the running size is kept, and the limit is checked the same way.
- A Query on a GSI: moto sorts and scans the whole table for the items of the partition asked for. Here the
  table's items are grouped by that index key once between two writes, and moto's Query runs on the group.
  The group is handed to moto by swapping the table's `all_items` for the query's duration, so those queries
  run one at a time (an RLock): two threads querying one table would otherwise swap it under each other
  (KeyError 'all_items').
- Replies carrying items: moto's generic response serializer walks every attribute of every item against the
  service model (most of a list request's time). moto's DynamoDB results are DynamoDB's JSON already, so they
  are written with json.dumps; anything json cannot write (binary values) still goes through the serializer.
"""

from __future__ import annotations

import copy
import json
import threading
import types
from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    # moto's module sees a `copy` whose deepcopy leaves whole tables alone (its update_item still copies items)
    models.copy = types.SimpleNamespace(deepcopy=deepcopy)  # type: ignore[attr-defined]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[str, dict[str, Any], Any]] = []
        for action in transact_items:
            _, op = next(iter(action.items()))
            table_name = op.get("TableName")
            if not table_name or table_name not in self.tables:
                continue
            table = self.tables[table_name]
            if "Key" in op:
                key = op["Key"]
            else:
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            current = self.get_item(table_name, key)
            saved.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, attrs in reversed(saved):
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _keep_item_sizes()
    _group_index_partitions()
    _plain_item_replies()
    _installed = True


def _plain_item_replies() -> None:
    from moto.dynamodb.responses import DynamoResult

    serialize = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        try:
            body = json.dumps(self.result)
        except (TypeError, ValueError):
            return serialize(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


_writes = [0]  # any write to any table: grouped partitions from before it are stale
_narrowing = threading.RLock()  # one narrowed query at a time: `all_items` is swapped on the shared table


def _group_index_partitions() -> None:
    import inspect

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    def counting(method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _narrowing:  # a write never lands between a narrowed query's version check and its read
                _writes[0] += 1
                try:
                    return method(*args, **kwargs)
                finally:
                    _writes[0] += 1

        return wrapper

    Table.put_item = counting(Table.put_item)  # type: ignore[method-assign]
    Table.delete_item = counting(Table.delete_item)  # type: ignore[method-assign]
    models.DynamoDBBackend.update_item = counting(models.DynamoDBBackend.update_item)  # type: ignore[method-assign]
    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        index_name = bound.arguments.get("index_name")
        conditions = bound.arguments.get("hash_key_conditions") or []
        if not index_name or len(conditions) != 1:
            return original(self, *args, **kwargs)
        with _narrowing:
            return narrowed(self, bound, args, kwargs)

    def narrowed(self: Any, bound: Any, args: Any, kwargs: Any) -> Any:
        attr, value = bound.arguments["hash_key_conditions"][0]
        cache = self.__dict__.setdefault("_partitions", {})
        if cache.get("version") != _writes[0]:
            cache.clear()
            cache["version"] = _writes[0]
        if attr not in cache:
            groups: dict[Any, list[Any]] = {}
            for item in original_all_items(self):
                key = item.attrs.get(attr) if hasattr(item, "attrs") else None
                if key is not None:
                    groups.setdefault(key, []).append(item)
            cache[attr] = groups
        group = cache[attr].get(value, [])
        self.__dict__["all_items"] = lambda: group
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.__dict__["all_items"]

    original_all_items = Table.all_items
    Table.query = query  # type: ignore[method-assign]


def _keep_item_sizes() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    def size_of(value: Any) -> int:
        return int(value.size()) if type(value) is dynamo_type.DynamoType else int(bytesize(str(value)))

    def setitem(self: Any, key: str, value: Any) -> None:
        cached = self.__dict__.get("_sized")
        if cached is None or cached[0] != len(self):  # first use, or attributes removed since: count them once
            cached = (len(self), sum(size_of(k) + size_of(v) for k, v in self.items()))
        current = cached[1]
        if current + bytesize(key) + size_of(value) > 405_000:  # moto's own limit
            raise ItemSizeTooLarge
        if key in self:
            current -= bytesize(key) + size_of(self[key])
        dict.__setitem__(self, key, value)
        self.__dict__["_sized"] = (len(self), current + bytesize(key) + size_of(value))

    dynamo_type.LimitedSizeDict.__setitem__ = setitem  # type: ignore[method-assign]
