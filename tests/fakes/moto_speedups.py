"""Two of moto's DynamoDB costs made proportional to the work, its semantics unchanged (installed by importing
tests.fakes), so tests at 10,000 items take seconds:

- TransactWriteItems: moto 5 deep-copies every table a transaction names, once per action, to roll back on
  failure (O(table size) per transaction). Here only the items the actions touch are saved for the rollback:
  still all or nothing, the same ConditionalCheckFailed reasons, one action per item.
- An item's 400 KB check: moto sums the sizes of all its attributes on every attribute it sets (quadratic in
  the attributes). Here the running size is kept, and the limit is checked the same way.
"""

from __future__ import annotations

import copy
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
    _installed = True


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
