"""moto's TransactWriteItems, with a snapshot of the touched items instead of the whole table.

moto 5 deep-copies every table a transaction names, once per action, to roll back on failure: a transaction
then costs O(table size), and a test with 10,000 items takes minutes. This keeps moto's own checks and writes
and only changes what is saved for the rollback (the items the actions touch), so the semantics are the same:
all or nothing, ConditionalCheckFailed reasons, one action per item. Installed by importing tests.fakes.
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
    _installed = True
