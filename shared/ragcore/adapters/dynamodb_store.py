"""MetadataStore on one DynamoDB table (keys from table_schema.py).

Items live under their tenant's partition (PK "T#<tenant>", SK "<KIND>#<id>"); a GSI keyed by
"T#<tenant>#<KIND>#<parent>" lists a parent's children in creation order. Uniqueness (dataset names…)
is a conditional put of a "U#<scope>#<key>" item; counters use ADD so concurrent workers never lose
an increment.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ragcore.adapters.table_schema import GSI_PARENT, GSI_PARENT_PK, GSI_PARENT_SK, PARTITION_KEY, SORT_KEY
from ragcore.errors import StorageError
from ragcore.ports import Item

_KEYS = (PARTITION_KEY, SORT_KEY, GSI_PARENT_PK, GSI_PARENT_SK, "_parent", "_kind")


def _to_dynamo(value: Any) -> Any:
    """Floats become Decimals (DynamoDB has no float); everything else as JSON allows."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def _clean(raw: dict[str, Any]) -> Item:
    return {k: _from_dynamo(v) for k, v in raw.items() if k not in _KEYS}


def _storage_error(exc: ClientError) -> StorageError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"):
        return StorageError("The metadata table is throttling requests; try again shortly.")
    if code in ("AccessDeniedException", "UnrecognizedClientException"):
        return StorageError("The function is not allowed to use the metadata table.")
    if code == "ResourceNotFoundException":
        return StorageError("The metadata table does not exist.")
    return StorageError(f"The metadata table failed: {code or exc}")


class DynamoMetadataStore:
    def __init__(self, table_name: str, endpoint_url: str | None = None) -> None:
        self._resource = boto3.resource("dynamodb", endpoint_url=endpoint_url)
        self._table = self._resource.Table(table_name)
        self._name = table_name

    @staticmethod
    def _pk(tenant: str) -> str:
        return f"T#{tenant}"

    @staticmethod
    def _sk(kind: str, item_id: str) -> str:
        return f"{kind}#{item_id}"

    def put(self, kind: str, tenant: str, item: Item, *, parent: str = "", if_absent: bool = False) -> bool:
        record = _to_dynamo(item)
        record.update({
            PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, item["id"]), "_kind": kind, "_parent": parent,
            GSI_PARENT_PK: f"T#{tenant}#{kind}#{parent}",
        })
        try:
            existing = self._table.get_item(Key={PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, item["id"])},
                                            ProjectionExpression="#s", ExpressionAttributeNames={"#s": GSI_PARENT_SK})
            if "Item" in existing:
                if if_absent:
                    return False
                record[GSI_PARENT_SK] = existing["Item"][GSI_PARENT_SK]  # keep its place in creation order
            else:
                record[GSI_PARENT_SK] = f"{time.time_ns():020d}"
            kwargs: dict[str, Any] = {"Item": record}
            if if_absent:
                kwargs["ConditionExpression"] = "attribute_not_exists(#pk)"
                kwargs["ExpressionAttributeNames"] = {"#pk": PARTITION_KEY}
            self._table.put_item(**kwargs)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise _storage_error(exc) from exc

    def put_many(self, kind: str, tenant: str, items: list[Item], *, parent: str = "") -> None:
        if not items:
            return
        existing = {it["id"]: it for it in self._raw_many(kind, tenant, [i["id"] for i in items])}
        try:
            with self._table.batch_writer(overwrite_by_pkeys=[PARTITION_KEY, SORT_KEY]) as batch:
                for n, item in enumerate(items):
                    record = _to_dynamo(item)
                    old = existing.get(item["id"])
                    record.update({
                        PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, item["id"]), "_kind": kind, "_parent": parent,
                        GSI_PARENT_PK: f"T#{tenant}#{kind}#{parent}",
                        GSI_PARENT_SK: old[GSI_PARENT_SK] if old else f"{time.time_ns() + n:020d}",
                    })
                    batch.put_item(Item=record)
        except ClientError as exc:
            raise _storage_error(exc) from exc

    def _raw_many(self, kind: str, tenant: str, item_ids: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        ids = list(dict.fromkeys(item_ids))
        for start in range(0, len(ids), 100):
            keys = [{PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, i)} for i in ids[start : start + 100]]
            request: dict[str, Any] = {self._name: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(8):
                try:
                    got = self._resource.batch_get_item(RequestItems=request)
                except ClientError as exc:
                    raise _storage_error(exc) from exc
                for raw in got.get("Responses", {}).get(self._name, []):
                    raw["id"] = str(raw[SORT_KEY]).split("#", 1)[1]
                    out.append(raw)
                request = got.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
        return out

    def get(self, kind: str, tenant: str, item_id: str) -> Item | None:
        try:
            got = self._table.get_item(Key={PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, item_id)}, ConsistentRead=True)
        except ClientError as exc:
            raise _storage_error(exc) from exc
        return _clean(got["Item"]) if "Item" in got else None

    def get_many(self, kind: str, tenant: str, item_ids: list[str]) -> list[Item]:
        ids = list(dict.fromkeys(item_ids))
        found: dict[str, Item] = {}
        for start in range(0, len(ids), 100):
            keys = [{PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, i)} for i in ids[start : start + 100]]
            request: dict[str, Any] = {self._name: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(8):
                try:
                    got = self._resource.batch_get_item(RequestItems=request)
                except ClientError as exc:
                    raise _storage_error(exc) from exc
                for raw in got.get("Responses", {}).get(self._name, []):
                    item = _clean(raw)
                    found[item["id"]] = item
                request = got.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
        rank = {item_id: n for n, item_id in enumerate(ids)}
        return sorted(found.values(), key=lambda it: rank[it["id"]])

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        try:
            while True:
                page = self._table.query(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise _storage_error(exc) from exc

    def list(self, kind: str, tenant: str, parent: str | None = None) -> list[Item]:
        if parent is None:
            raw = self._query_all(
                KeyConditionExpression=Key(PARTITION_KEY).eq(self._pk(tenant)) & Key(SORT_KEY).begins_with(f"{kind}#"),
                ConsistentRead=True,
            )
        else:
            raw = self._query_all(IndexName=GSI_PARENT, KeyConditionExpression=Key(GSI_PARENT_PK).eq(f"T#{tenant}#{kind}#{parent}"))
        raw.sort(key=lambda r: str(r.get(GSI_PARENT_SK, "")))
        return [_clean(r) for r in raw]

    def update(self, kind: str, tenant: str, item_id: str, changes: Mapping[str, Any]) -> Item | None:
        if not changes:
            return self.get(kind, tenant, item_id)
        names = {f"#f{i}": k for i, k in enumerate(changes)}
        values = {f":v{i}": _to_dynamo(v) for i, v in enumerate(changes.values())}
        names["#pk"] = PARTITION_KEY
        expr = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes)))
        return self._update(kind, tenant, item_id, expr, names, values)

    def increment(self, kind: str, tenant: str, item_id: str, deltas: Mapping[str, int | float]) -> Item | None:
        if not deltas:
            return self.get(kind, tenant, item_id)
        names = {f"#f{i}": k for i, k in enumerate(deltas)}
        values = {f":v{i}": _to_dynamo(v) for i, v in enumerate(deltas.values())}
        names["#pk"] = PARTITION_KEY
        expr = "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(deltas)))
        return self._update(kind, tenant, item_id, expr, names, values)

    def _update(self, kind: str, tenant: str, item_id: str, expr: str, names: dict[str, str], values: dict[str, Any]) -> Item | None:
        try:
            got = self._table.update_item(
                Key={PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, item_id)},
                UpdateExpression=expr, ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                ConditionExpression="attribute_exists(#pk)", ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise _storage_error(exc) from exc
        return _clean(got["Attributes"])

    def delete(self, kind: str, tenant: str, item_id: str) -> bool:
        try:
            got = self._table.delete_item(Key={PARTITION_KEY: self._pk(tenant), SORT_KEY: self._sk(kind, item_id)}, ReturnValues="ALL_OLD")
        except ClientError as exc:
            raise _storage_error(exc) from exc
        return "Attributes" in got

    def delete_under(self, kind: str, tenant: str, parent: str) -> int:
        raw = self._query_all(IndexName=GSI_PARENT, KeyConditionExpression=Key(GSI_PARENT_PK).eq(f"T#{tenant}#{kind}#{parent}"),
                              ProjectionExpression="#pk, #sk", ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY})
        try:
            with self._table.batch_writer() as batch:
                for r in raw:
                    batch.delete_item(Key={PARTITION_KEY: r[PARTITION_KEY], SORT_KEY: r[SORT_KEY]})
        except ClientError as exc:
            raise _storage_error(exc) from exc
        return len(raw)

    def claim(self, tenant: str, scope: str, key: str, owner: str) -> bool:
        try:
            self._table.put_item(
                Item={PARTITION_KEY: self._pk(tenant), SORT_KEY: f"U#{scope}#{key}", "owner": owner},
                ConditionExpression="attribute_not_exists(#pk) OR #o = :o",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#o": "owner"}, ExpressionAttributeValues={":o": owner},
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise _storage_error(exc) from exc

    def release(self, tenant: str, scope: str, key: str, owner: str) -> None:
        try:
            self._table.delete_item(
                Key={PARTITION_KEY: self._pk(tenant), SORT_KEY: f"U#{scope}#{key}"},
                ConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues={":o": owner},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise _storage_error(exc) from exc
