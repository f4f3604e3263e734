"""MetadataStore on one DynamoDB table: the key design, the list views and their counted trees are in table_schema.py.

Reads are bounded: an item is one GetItem, a list page one Query of the page (plus ≤ LEVELS rank-node reads for a
page past the first), a total the root of its view's tree. Writes that move an item in a view change the item and
its rank nodes in one transaction conditioned on the item's version. Every read and write is counted into
ragcore.usage, so the API layer can report the items each request read and wrote.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ragcore import usage
from ragcore.adapters import dynamodb_ranks as ranks
from ragcore.adapters.dynamodb_retry import (
    ATTEMPTS,
    CLIENT_CONFIG,
    Stale,
    back_off,
    busy,
    call,
    single,
    storage_error,
    transact,
)
from ragcore.adapters.table_schema import (
    NAME,
    PARTITION_KEY,
    POS_CREATE,
    POS_UPDATE,
    SORT_KEY,
    VIEW_A,
    VIEW_ALL,
    VIEW_B,
)
from ragcore.domain.kinds import fields_of, filter_value, name_key, position_of, slot_values
from ragcore.ports import Item, ListQuery, Tally

ADD_PER_UPDATE = 200  # "ADD #fNNN :vNNN, " is ≤ 17 characters: 200 of them stay under the 4 KB expression limit

_KEY_ATTRS = {PARTITION_KEY, SORT_KEY, VIEW_ALL, VIEW_A, VIEW_B, POS_CREATE, POS_UPDATE, NAME}
_VER = "~ver"
_PARENT = "~parent"
_HEAD = "~h"  # the item counts in its views' head nodes (ranks.HEAD): items written before heads existed lack it
_ORDER_CODES = {"create_time": "c", "update_time": "u"}
_GSI = {("c", VIEW_ALL): "by_create", ("u", VIEW_ALL): "by_update", ("c", VIEW_A): "by_a_create",
        ("u", VIEW_A): "by_a_update", ("c", VIEW_B): "by_b_create", ("u", VIEW_B): "by_b_update"}
_BATCH = 25  # items read or deleted per round trip
_MAX_ACTIONS = 100  # DynamoDB's limit of one TransactWriteItems


# The resource's client takes plain Python values (boto3 serializes them): actions below are written that way.


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
    return {k: _from_dynamo(v) for k, v in raw.items() if k not in _KEY_ATTRS and not k.startswith("~")}


def _heads(kind: str) -> bool:
    """Kinds whose items place themselves (chunks: positions from 0 per document) count in head nodes: most of
    their views never leave the first level-1 node's range."""
    return bool(fields_of(kind).position)


class _Placement:
    """Where an item sits: its collection, slot views and positions (what its list keys say)."""

    def __init__(self, kind: str, tenant: str, parent: str, a: str | None, b: str | None, c: int, u: int | None,
                 head: bool = False) -> None:
        self.kind, self.parent, self.a, self.b, self.c, self.u, self.head = kind, parent, a, b, c, u, head
        self.v0 = f"{tenant}#{kind}#{parent}"
        self.va = f"{self.v0}#a={a}" if a is not None else None
        self.vb = f"{self.v0}#b={b}" if b is not None else None

    @classmethod
    def of_raw(cls, kind: str, tenant: str, raw: dict[str, Any]) -> _Placement:
        a = raw.get("~a")
        b = raw.get("~b")
        u = raw.get(POS_UPDATE)
        return cls(kind, tenant, str(raw.get(_PARENT, "")), None if a is None else str(a), None if b is None else str(b),
                   int(raw[POS_CREATE]), None if u is None else int(u), bool(raw.get(_HEAD)))

    def members(self) -> list[ranks.Membership]:
        spec = fields_of(self.kind)
        orders = spec.orders
        out = []
        for name, view in (("all", self.v0), ("a", self.va), ("b", self.vb)):
            if view is None or name not in spec.counted:
                continue
            if "create_time" in orders:
                out.append(ranks.Membership("c", view, self.c, self.head))
            if "update_time" in orders and self.u is not None:
                out.append(ranks.Membership("u", view, self.u, self.head))
        return out

    def keys(self) -> dict[str, Any]:
        out: dict[str, Any] = {VIEW_ALL: self.v0, POS_CREATE: self.c, _PARENT: self.parent}
        if self.head:
            out[_HEAD] = 1
        if self.va is not None:
            out[VIEW_A], out["~a"] = self.va, self.a
        if self.vb is not None:
            out[VIEW_B], out["~b"] = self.vb, self.b
        if self.u is not None:
            out[POS_UPDATE] = self.u
        return out


class DynamoMetadataStore:
    def __init__(self, table_name: str, endpoint_url: str | None = None) -> None:
        self._resource = boto3.resource("dynamodb", endpoint_url=endpoint_url, config=CLIENT_CONFIG)
        self._client: Any = self._resource.meta.client
        self._table = self._resource.Table(table_name)
        self._name = table_name

    # ---- keys -----------------------------------------------------------------------------------
    @staticmethod
    def _key(kind: str, tenant: str, item_id: str) -> dict[str, str]:
        return {PARTITION_KEY: f"I#{tenant}#{kind}#{item_id}", SORT_KEY: "I"}

    @staticmethod
    def _tracked(kind: str) -> bool:
        return bool(fields_of(kind).orders)

    def _allocate(self, tenant: str, kind: str, n: int) -> int:
        """The first of n fresh list positions of the tenant's kind (positions only ever grow)."""
        if not self._tracked(kind):  # never listed deeply: creation time is position enough
            return time.time_ns() // 1000
        try:
            got = call(self._table.update_item,
                       Key={PARTITION_KEY: f"S#{tenant}#{kind}", SORT_KEY: "S"}, UpdateExpression="ADD #n :n",
                       ExpressionAttributeNames={"#n": "n"}, ExpressionAttributeValues={":n": n}, ReturnValues="UPDATED_NEW")
        except ClientError as exc:
            raise storage_error(exc) from exc
        usage.wrote(1)
        return int(str(got["Attributes"]["n"])) - n + 1

    def _record(self, kind: str, tenant: str, item: Item, place: _Placement, version: int) -> dict[str, Any]:
        record = _to_dynamo(item)
        record.update(self._key(kind, tenant, item["id"]))
        record.update(place.keys())
        record[_VER] = version
        lname = name_key(kind, item)
        if lname:
            record[NAME] = lname[:400]
        return record

    def _placement(self, kind: str, tenant: str, parent: str, item: Item, old: _Placement | None,
                   old_raw: dict[str, Any] | None, next_u: Callable[[], int] | None = None) -> _Placement:
        a, b = slot_values(kind, item)
        declared = position_of(kind, item)
        if old is None:
            c = self._allocate(tenant, kind, 1) if declared is None else declared
            return _Placement(kind, tenant, parent, a, b, c, c if "update_time" in fields_of(kind).orders else None,
                              _heads(kind))
        u = old.u
        moved = old_raw is not None and _from_dynamo(old_raw.get("update_time")) != item.get("update_time")
        if "update_time" in fields_of(kind).orders and (u is None or moved):
            u = next_u() if next_u is not None else self._allocate(tenant, kind, 1)
        return _Placement(kind, tenant, parent, a, b, old.c if declared is None else declared, u, old.head)

    # ---- low-level reads ------------------------------------------------------------------------
    def _raw(self, kind: str, tenant: str, item_id: str) -> dict[str, Any] | None:
        try:
            got = call(self._table.get_item, Key=self._key(kind, tenant, item_id), ConsistentRead=True)
        except ClientError as exc:
            raise storage_error(exc) from exc
        usage.read(1)
        return got.get("Item")

    def _raw_many(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {self._name: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            usage.read(len(keys[start : start + 100]))
            for attempt in range(ATTEMPTS):
                try:
                    got = call(self._resource.batch_get_item, RequestItems=request)
                except ClientError as exc:
                    raise storage_error(exc) from exc
                out.extend(got.get("Responses", {}).get(self._name, []))
                request = got.get("UnprocessedKeys") or {}
                if not request:
                    break
                back_off(attempt)
            else:  # a partial answer would read as items missing: the caller gets an error instead
                raise busy()
        return out

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Items of a Query, page after page, as long as the caller keeps reading (`Limit` sizes each page)."""
        while True:
            try:
                page = call(self._table.query, **kwargs)
            except ClientError as exc:
                raise storage_error(exc) from exc
            usage.read(int(page.get("ScannedCount", len(page.get("Items", [])))))
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ---- low-level writes -----------------------------------------------------------------------
    def _node_action(self, node: ranks.NodeKey, slots: dict[int, int]) -> dict[str, Any]:
        order, view, level, index = node
        return {"Update": {
            "TableName": self._name,
            "Key": {PARTITION_KEY: f"R#{order}#{view}", SORT_KEY: f"{level}:{index}"},
            "UpdateExpression": "ADD " + ", ".join(f"c{s} :d{s}" for s in slots),
            "ExpressionAttributeValues": {f":d{s}": d for s, d in slots.items()},
        }}

    def _tally_action(self, tenant: str, tally: Tally) -> dict[str, Any]:
        """Numbers added to an existing item (a parent's counts) inside another write's transaction."""
        names = {f"#t{i}": k for i, k in enumerate(tally.deltas)}
        values = {f":t{i}": _to_dynamo(v) for i, v in enumerate(tally.deltas.values())}
        return {"Update": {
            "TableName": self._name, "Key": self._key(tally.kind, tenant, tally.item_id),
            "UpdateExpression": "ADD " + ", ".join(f"#t{i} :t{i}" for i in range(len(names))),
            "ConditionExpression": "attribute_exists(#pk)", "ExpressionAttributeNames": {**names, "#pk": PARTITION_KEY},
            "ExpressionAttributeValues": values,
        }}

    def _write(self, actions: list[dict[str, Any]], moves: dict[ranks.NodeKey, dict[int, int]],
               tally: dict[str, Any] | list[dict[str, Any]] | None = None) -> None:
        """The item actions, their rank-node moves and tallies in one transaction (a lone item write without
        moves or tally: the plain call). Tallies whose item is gone are dropped and the rest written again."""
        tallies = [] if tally is None else tally if isinstance(tally, list) else [tally]
        if not moves and len(actions) == 1 and not tallies:
            self._single(actions[0])
            return
        whole = actions + [self._node_action(k, v) for k, v in moves.items()]
        try:
            transact(self._client, whole + tallies)
        except Stale as stale:
            if not tallies or not stale.failed or min(stale.failed) < len(whole):
                raise
            kept = [t for n, t in enumerate(tallies) if len(whole) + n not in stale.failed]
            transact(self._client, whole + kept)

    def _single(self, action: dict[str, Any]) -> None:
        """A lone item write (no rank node moves): the plain API call, same condition."""
        (verb, args), = action.items()
        fn: Callable[..., Any] = {"Put": self._client.put_item, "Update": self._client.update_item, "Delete": self._client.delete_item}[verb]
        single(fn, **args)

    def _retrying(self, step: Callable[[], Any]) -> Any:
        for _ in range(20):
            try:
                return step()
            except Stale:
                continue
        raise busy()

    def _put_action(self, record: dict[str, Any], old_version: int | None) -> dict[str, Any]:
        args: dict[str, Any] = {"TableName": self._name, "Item": record}
        if old_version is None:
            args.update(ConditionExpression="attribute_not_exists(#pk)", ExpressionAttributeNames={"#pk": PARTITION_KEY})
        else:
            args.update(ConditionExpression="#ver = :ver", ExpressionAttributeNames={"#ver": _VER},
                        ExpressionAttributeValues={":ver": old_version})
        return {"Put": args}

    # ---- items ----------------------------------------------------------------------------------
    def put(self, kind: str, tenant: str, item: Item, *, parent: str = "", if_absent: bool = False,
            tally: Tally | None = None) -> bool:
        def step() -> bool:
            raw = self._raw(kind, tenant, item["id"])
            if raw is not None and if_absent:
                return False
            old = _Placement.of_raw(kind, tenant, raw) if raw is not None and POS_CREATE in raw else None
            place = self._placement(kind, tenant, parent, item, old, raw)
            version = int(raw.get(_VER, 0)) if raw is not None else None
            moves = ranks.deltas(old.members() if old else [], place.members())
            self._write([self._put_action(self._record(kind, tenant, item, place, (version or 0) + 1), version)], moves,
                        self._tally_action(tenant, tally) if tally is not None else None)
            return True

        return bool(self._retrying(step))

    def put_many(self, kind: str, tenant: str, items: list[Item], *, parent: str = "",
                 tally: Callable[[Item], Tally | None] | None = None) -> None:
        for start in range(0, len(items), _BATCH):
            part = items[start : start + _BATCH]
            self._retrying(lambda part=part: self._put_batch(kind, tenant, part, parent, tally))  # type: ignore[misc]

    def _tallies(self, tenant: str, items: list[Item], tally: Callable[[Item], Tally | None] | None) -> list[dict[str, Any]]:
        """The items' tallies summed per counted item: one ADD each in the transaction that writes the items."""
        summed: dict[tuple[str, str], dict[str, int | float]] = {}
        for it in items:
            t = tally(it) if tally is not None else None
            if t is not None:
                acc = summed.setdefault((t.kind, t.item_id), {})
                for name, value in t.deltas.items():
                    acc[name] = acc.get(name, 0) + value
        return [self._tally_action(tenant, Tally(k, i, d)) for (k, i), d in summed.items()]

    def _put_batch(self, kind: str, tenant: str, items: list[Item], parent: str,
                   tally: Callable[[Item], Tally | None] | None = None) -> None:
        items = list({it["id"]: it for it in items}.values())
        raws = {r[PARTITION_KEY]: r for r in self._raw_many([self._key(kind, tenant, it["id"]) for it in items])}
        fresh = [it for it in items if self._key(kind, tenant, it["id"])[PARTITION_KEY] not in raws
                 and position_of(kind, it) is None]
        first = self._allocate(tenant, kind, len(fresh)) if fresh else 0
        positions = {it["id"]: first + n for n, it in enumerate(fresh)}
        tracked = "update_time" in fields_of(kind).orders
        writes: list[tuple[dict[str, Any], dict[ranks.NodeKey, dict[int, int]]]] = []
        for it in items:
            raw = raws.get(self._key(kind, tenant, it["id"])[PARTITION_KEY])
            if raw is None or POS_CREATE not in raw:
                a, b = slot_values(kind, it)
                declared = position_of(kind, it)
                c = declared if declared is not None else positions.get(it["id"]) or self._allocate(tenant, kind, 1)
                place, old, version = _Placement(kind, tenant, parent, a, b, c, c if tracked else None, _heads(kind)), None, None
            else:
                old = _Placement.of_raw(kind, tenant, raw)
                place = self._placement(kind, tenant, parent, it, old, raw)
                version = int(raw.get(_VER, 0))
            action = self._put_action(self._record(kind, tenant, it, place, (version or 0) + 1), version)
            writes.append((action, ranks.deltas(old.members() if old else [], place.members())))
        if not self._tracked(kind) and tally is None:
            for action, _ in writes:  # nothing to keep in step: plain writes
                self._single(action)
            return
        self._write_packed(tenant, [(action, delta, it) for (action, delta), it in zip(writes, items, strict=True)], tally)

    def _write_packed(self, tenant: str, writes: list[tuple[dict[str, Any], dict[ranks.NodeKey, dict[int, int]], Item]],
                      tally: Callable[[Item], Tally | None] | None) -> None:
        """Item writes (action, rank-node moves, item) in as many items per transaction as its 100 actions allow,
        their rank-node changes merged, and with them the counts they add (a count never drifts from its items)."""
        room = _MAX_ACTIONS - len(self._tallies(tenant, [item for _, _, item in writes], tally))
        actions: list[dict[str, Any]] = []
        moves: dict[ranks.NodeKey, dict[int, int]] = {}
        written: list[Item] = []
        for action, delta, item in writes:
            merged = {k: dict(v) for k, v in moves.items()}
            ranks.merge_into(merged, delta)
            if actions and len(actions) + 1 + len(merged) > room:
                self._write(actions, moves, self._tallies(tenant, written, tally))
                actions, merged, written = [], {k: dict(v) for k, v in delta.items()}, []
            actions.append(action)
            written.append(item)
            moves = merged
        if actions:
            self._write(actions, moves, self._tallies(tenant, written, tally))

    def import_items(self, kind: str, tenant: str, items: list[Item], *, parent: str = "") -> None:
        """Batch writes of the items and one ADD per rank node they touch: no reads, no transactions."""
        items = list({it["id"]: it for it in items}.values())
        if not items:
            return
        undeclared = [it for it in items if position_of(kind, it) is None]
        first = self._allocate(tenant, kind, len(undeclared)) if undeclared else 0
        positions = {it["id"]: first + n for n, it in enumerate(undeclared)}
        tracked = "update_time" in fields_of(kind).orders
        moves: dict[ranks.NodeKey, dict[int, int]] = {}
        records = []
        for it in items:
            a, b = slot_values(kind, it)
            declared = position_of(kind, it)
            c = declared if declared is not None else positions[it["id"]]
            place = _Placement(kind, tenant, parent, a, b, c, c if tracked else None, _heads(kind))
            records.append(self._record(kind, tenant, it, place, 1))
            ranks.merge_into(moves, ranks.deltas([], place.members()))
        for start in range(0, len(records), _BATCH):
            self._batch_put(records[start : start + _BATCH])
        for node, slots in moves.items():
            order, view, level, index = node
            fresh = {PARTITION_KEY: f"R#{order}#{view}", SORT_KEY: f"{level}:{index}", **{f"c{s}": d for s, d in slots.items()}}
            try:  # a node the import creates is written whole
                self._single({"Put": {"TableName": self._name, "Item": fresh, "ConditionExpression": "attribute_not_exists(#pk)",
                                      "ExpressionAttributeNames": {"#pk": PARTITION_KEY}}})
            except Stale:  # it exists: add to it, a few children at a time (emulators parse long expressions slowly)
                pairs = list(slots.items())
                for start in range(0, len(pairs), 16):
                    self._single(self._node_action(node, dict(pairs[start : start + 16])))

    def _batch_put(self, records: list[dict[str, Any]]) -> None:
        """≤ 25 whole items in BatchWriteItem calls, the ones DynamoDB left unprocessed sent again."""
        request: dict[str, Any] = {self._name: [{"PutRequest": {"Item": r}} for r in records]}
        for attempt in range(ATTEMPTS):
            try:
                got = call(self._resource.batch_write_item, RequestItems=request)
            except ClientError as exc:
                raise storage_error(exc) from exc
            request = got.get("UnprocessedItems") or {}
            if not request:
                usage.wrote(len(records))
                return
            back_off(attempt)
        raise busy()

    def get(self, kind: str, tenant: str, item_id: str) -> Item | None:
        raw = self._raw(kind, tenant, item_id)
        return _clean(raw) if raw is not None else None

    def get_many(self, kind: str, tenant: str, item_ids: list[str]) -> list[Item]:
        ids = list(dict.fromkeys(item_ids))
        found = {item["id"]: item for item in (_clean(r) for r in self._raw_many([self._key(kind, tenant, i) for i in ids]))}
        return [found[i] for i in ids if i in found]

    def update(self, kind: str, tenant: str, item_id: str, changes: Mapping[str, Any]) -> Item | None:
        if not changes:
            return self.get(kind, tenant, item_id)
        spec = fields_of(kind)
        indexed = set(spec.slots) | ({spec.name} if spec.name else set()) | {"update_time"}
        if not self._tracked(kind) or not indexed & set(changes):
            names = {f"#f{i}": k for i, k in enumerate(changes)}
            values = {f":v{i}": _to_dynamo(v) for i, v in enumerate(changes.values())}
            return self._plain_update(kind, tenant, item_id, "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
                                      names, values)
        return self._retrying(lambda: self._moving_update(kind, tenant, item_id, changes))  # type: ignore[no-any-return]

    def _moving_update(self, kind: str, tenant: str, item_id: str, changes: Mapping[str, Any]) -> Item | None:
        raw = self._raw(kind, tenant, item_id)
        if raw is None:
            return None
        action, delta, item = self._update_action(kind, tenant, raw, changes)
        self._write([action], delta)
        return item

    def _update_action(self, kind: str, tenant: str, raw: dict[str, Any], changes: Mapping[str, Any],
                       next_u: Callable[[], int] | None = None) -> tuple[dict[str, Any], dict[ranks.NodeKey, dict[int, int]], Item]:
        """An item's changes as one conditional Update (on its version), the rank-node moves it makes, the item."""
        item = _clean(raw)
        item.update(changes)
        old = _Placement.of_raw(kind, tenant, raw)
        place = self._placement(kind, tenant, old.parent, item, old, raw, next_u)
        version = int(raw.get(_VER, 0))
        sets = {**{k: _to_dynamo(v) for k, v in changes.items()}, **place.keys(), _VER: version + 1}
        lname = name_key(kind, item)
        removes = []
        if lname:
            sets[NAME] = lname[:400]
        elif NAME in raw:
            removes.append(NAME)
        names = {f"#f{i}": k for i, k in enumerate(sets)}
        values = {f":v{i}": v for i, v in enumerate(sets.values())}
        names["#ver"] = _VER
        values[":ver"] = version
        expr = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
        if removes:
            names["#rm"] = removes[0]
            expr += " REMOVE #rm"
        action = {"Update": {"TableName": self._name, "Key": self._key(kind, tenant, item["id"]),
                             "UpdateExpression": expr, "ConditionExpression": "#ver = :ver",
                             "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}
        return action, ranks.deltas(old.members(), place.members()), item

    def update_many(self, kind: str, tenant: str, changes: Mapping[str, Mapping[str, Any]], *,
                    when: Callable[[Item], bool] | None = None,
                    tally: Callable[[Item], Tally | None] | None = None) -> dict[str, Item]:
        spec = fields_of(kind)
        indexed = set(spec.slots) | ({spec.name} if spec.name else set()) | {"update_time"}
        plain = not self._tracked(kind) or not any(indexed & set(change) for change in changes.values())
        if plain and when is None and tally is None:
            found = {i: self.update(kind, tenant, i, change) for i, change in changes.items()}
            return {i: item for i, item in found.items() if item is not None}
        out: dict[str, Item] = {}
        ids = list(changes)
        for start in range(0, len(ids), _BATCH):
            part = {i: changes[i] for i in ids[start : start + _BATCH]}
            out.update(self._retrying(lambda part=part: self._update_batch(kind, tenant, part, when, tally)))  # type: ignore[misc]
        return out

    def _update_batch(self, kind: str, tenant: str, changes: Mapping[str, Mapping[str, Any]],
                      when: Callable[[Item], bool] | None = None,
                      tally: Callable[[Item], Tally | None] | None = None) -> dict[str, Item]:
        """The items' updates in as few transactions as 100 actions allow, their rank-node moves merged, their
        new update positions taken as one block (a batch of documents started together moves one path) and their
        tallies summed per transaction. Each update is conditional on the version read, so `when` holds at the
        write or the batch is read and decided again."""
        raws = {_clean(r)["id"]: r for r in self._raw_many([self._key(kind, tenant, i) for i in changes])}
        if when is not None:
            raws = {i: r for i, r in raws.items() if when(_clean(r))}
        moving = sum(1 for i in raws if "update_time" in changes[i]) if self._tracked(kind) else 0
        block = iter(range(self._allocate(tenant, kind, moving), 1 << 62)) if moving else None

        def next_u() -> int:
            return next(block) if block is not None else self._allocate(tenant, kind, 1)

        updated = [self._update_action(kind, tenant, raw, changes[item_id], next_u) for item_id, raw in raws.items()]
        self._write_packed(tenant, updated, tally)
        return {item["id"]: item for _, _, item in updated}

    def increment(self, kind: str, tenant: str, item_id: str, deltas: Mapping[str, int | float]) -> Item | None:
        if not deltas:
            return self.get(kind, tenant, item_id)
        pairs = list(deltas.items())
        found: Item | None = None
        # an update expression holds at most 4 KB: many counters (a bucket of term statistics) take several updates
        for start in range(0, len(pairs), ADD_PER_UPDATE):
            part = pairs[start : start + ADD_PER_UPDATE]
            names = {f"#f{i}": k for i, (k, _) in enumerate(part)}
            values = {f":v{i}": _to_dynamo(v) for i, (_, v) in enumerate(part)}
            found = self._plain_update(kind, tenant, item_id, "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(part))),
                                       names, values)
            if found is None:
                return None
        return found

    def increment_many(self, kind: str, tenant: str, deltas: Mapping[str, Mapping[str, int | float]], *,
                       parent: str = "") -> None:
        # one UpdateItem each (DynamoDB has no batched update); the first writer of a counter creates it, and a
        # writer that loses that race adds to what the winner created
        for item_id, changes in deltas.items():
            if self.increment(kind, tenant, item_id, changes) is None and not self.put(
                    kind, tenant, {"id": item_id, **changes}, parent=parent, if_absent=True):
                self.increment(kind, tenant, item_id, changes)

    def _plain_update(self, kind: str, tenant: str, item_id: str, expr: str, names: dict[str, str],
                      values: dict[str, Any]) -> Item | None:
        names = {**names, "#pk": PARTITION_KEY}
        try:
            got = single(self._table.update_item, Key=self._key(kind, tenant, item_id), UpdateExpression=expr,
                         ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                         ConditionExpression="attribute_exists(#pk)", ReturnValues="ALL_NEW")
        except Stale:
            return None
        return _clean(got["Attributes"])

    def delete(self, kind: str, tenant: str, item_id: str, *, tally: Callable[[Item], Tally | None] | None = None) -> bool:
        def step() -> bool:
            raw = self._raw(kind, tenant, item_id)
            if raw is None:
                return False
            counted = tally(_clean(raw)) if tally is not None else None
            self._delete_raws(kind, tenant, [raw], self._tally_action(tenant, counted) if counted is not None else None)
            return True

        return bool(self._retrying(step))

    def _delete_raws(self, kind: str, tenant: str, raws: list[dict[str, Any]], tally: dict[str, Any] | None = None) -> None:
        actions = []
        moves: dict[ranks.NodeKey, dict[int, int]] = {}
        for raw in raws:
            key = {PARTITION_KEY: raw[PARTITION_KEY], SORT_KEY: raw[SORT_KEY]}
            actions.append({"Delete": {"TableName": self._name, "Key": key, "ConditionExpression": "#ver = :ver",
                                       "ExpressionAttributeNames": {"#ver": _VER},
                                       "ExpressionAttributeValues": {":ver": int(raw.get(_VER, 0))}}})
            if POS_CREATE in raw:
                ranks.merge_into(moves, ranks.deltas(_Placement.of_raw(kind, tenant, raw).members(), []))
        if tally is not None:  # one item (delete): its tally goes in its transaction
            self._write(actions, moves, tally)
            return
        if not moves:
            for action in actions:
                with contextlib.suppress(Stale):  # gone already, or changed: a later pass finds it again
                    self._single(action)
            return
        if len(actions) + len(moves) > _MAX_ACTIONS and len(raws) > 1:
            half = len(raws) // 2
            self._delete_raws(kind, tenant, raws[:half])
            self._delete_raws(kind, tenant, raws[half:])
            return
        transact(self._client, actions + [self._node_action(k, v) for k, v in moves.items()])

    def delete_under(self, kind: str, tenant: str, parent: str) -> int:
        deleted = 0
        view = f"{tenant}#{kind}#{parent}"
        while True:
            batch = list(_take(self._query(IndexName="by_create", KeyConditionExpression=Key(VIEW_ALL).eq(view), Limit=_BATCH), _BATCH))
            if not batch:
                return deleted
            # the index may still show items just deleted: each is re-read before its conditional delete
            fresh = [r for r in self._raw_many([{PARTITION_KEY: r[PARTITION_KEY], SORT_KEY: r[SORT_KEY]} for r in batch])
                     if r.get(VIEW_ALL) == view]
            if not fresh:
                time.sleep(0.05)  # the index has not caught up yet
                continue
            try:
                self._delete_raws(kind, tenant, fresh)
                deleted += len(fresh)
            except Stale:
                for raw in fresh:
                    deleted += int(self.delete(kind, tenant, _clean(raw)["id"]))

    # ---- lists ----------------------------------------------------------------------------------
    def _views(self, query: ListQuery) -> tuple[str, list[str]] | None:
        """The GSI key attribute and the views a flat query reads (their union), or None when it is not flat."""
        spec = fields_of(query.kind)
        if query.name_contains or query.name_equals or query.created_from is not None or query.created_to is not None:
            return None
        if query.order not in spec.orders:
            return None
        base = f"{query.tenant}#{query.kind}#{query.parent}"
        if not query.where:
            return (VIEW_ALL, [base]) if "all" in spec.counted else None
        if len(query.where) != 1:
            return None
        name, values = next(iter(query.where.items()))
        if name not in spec.slots:
            return None
        slot = "a" if spec.slots.index(name) == 0 else "b"
        if slot not in spec.counted:
            return None
        wanted = list(dict.fromkeys(filter_value(v) for v in values))
        return (VIEW_A if slot == "a" else VIEW_B), [f"{base}#{slot}={v}" for v in wanted]

    def _reader(self, kind: str, order: str, views: list[str]) -> ranks.ReadLevel:
        """Each view's child counts at a node (views in order, {} where a node is missing), read once per node;
        for a kind whose items count in head nodes, the tree with its heads added (its root and heads read together)."""
        cache: dict[tuple[int, int], list[dict[int, int]]] = {}
        heads = _heads(kind)

        def fetch(*nodes: tuple[int, int]) -> None:
            keys = [{PARTITION_KEY: f"R#{order}#{v}", SORT_KEY: f"{level}:{index}"} for level, index in nodes for v in views]
            found = {(r[PARTITION_KEY], r[SORT_KEY]): r for r in self._raw_many(keys)}
            for level, index in nodes:
                cache[(level, index)] = [
                    {int(k[1:]): int(v) for k, v in found.get((f"R#{order}#{view}", f"{level}:{index}"), {}).items()
                     if k.startswith("c") and k[1:].isdigit() and int(v)}
                    for view in views]

        def read(level: int, index: int) -> list[dict[int, int]]:
            if (level, index) not in cache:
                fetch(*([(level, index), (0, 0)] if heads and (0, 0) not in cache else [(level, index)]))
            return cache[(level, index)]

        return ranks.head_read(read) if heads else read

    def count(self, query: ListQuery) -> int:
        plan = self._views(query)
        if plan is None:
            return len(self._named(query) if query.name_equals else self._everything(query))
        _, views = plan
        if not views:
            return 0
        return ranks.total(self._reader(query.kind, _ORDER_CODES[query.order], views))

    def page(self, query: ListQuery, offset: int, limit: int) -> list[Item]:
        if limit <= 0 or offset < 0:
            return []
        plan = self._views(query)
        if query.name_equals:
            return self._named(query)[offset : offset + limit]
        if plan is None:
            if query.order == "name" and not query.where and not query.name_contains and query.created_from is None \
                    and query.created_to is None:
                return self._name_page(query, offset, limit)
            everything = self._everything(query)
            return everything[offset : offset + limit]
        attr, views = plan
        if not views:
            return []
        order = _ORDER_CODES[query.order]
        pos_attr = POS_CREATE if order == "c" else POS_UPDATE
        index = _GSI[(order, attr)]
        if offset == 0:  # the first page needs no tree: read the views from the requested end
            return self._merged(index, attr, pos_attr, views, None, limit, 0, descending=query.desc)
        read = self._reader(query.kind, order, views)
        grand = ranks.total(read)
        if offset >= grand:
            return []
        if query.desc:
            start, n = grand - offset - limit, limit
            if start < 0:
                start, n = 0, limit + start
        else:
            start, n = offset, min(limit, grand - offset)
        found = ranks.locate(read, start)
        if found is None:
            return []
        leaf_start, skip, _ = found
        items = self._merged(index, attr, pos_attr, views, leaf_start, n, skip, descending=False)
        return items[::-1] if query.desc else items

    def _merged(self, index: str, attr: str, pos_attr: str, views: list[str], from_position: int | None, n: int,
                skip: int, *, descending: bool) -> list[Item]:
        """n items after `skip` of the views' union, in position order, starting at from_position (or an end)."""
        rows: list[dict[str, Any]] = []
        for view in views:
            cond: Any = Key(attr).eq(view)
            if from_position is not None:
                cond = cond & Key(pos_attr).gte(from_position)
            rows.extend(_take(self._query(IndexName=index, KeyConditionExpression=cond, ScanIndexForward=not descending,
                                          Limit=skip + n), skip + n))
        rows.sort(key=lambda r: int(r[pos_attr]), reverse=descending)
        return [_clean(r) for r in rows[skip : skip + n]]

    def _name_page(self, query: ListQuery, offset: int, limit: int) -> list[Item]:
        view = f"{query.tenant}#{query.kind}#{query.parent}"
        keys = list(_take(self._query(IndexName="by_name", KeyConditionExpression=Key(VIEW_ALL).eq(view),
                                      ScanIndexForward=not query.desc, Limit=min(offset + limit, 1000)), offset + limit))
        wanted = keys[offset : offset + limit]
        got = {r[PARTITION_KEY]: r for r in self._raw_many([{PARTITION_KEY: k[PARTITION_KEY], SORT_KEY: k[SORT_KEY]} for k in wanted])}
        return [_clean(got[k[PARTITION_KEY]]) for k in wanted if k[PARTITION_KEY] in got]

    def _named(self, query: ListQuery) -> list[Item]:
        """The items of one exact name (the name index finds them), the query's other conditions applied here."""
        view = f"{query.tenant}#{query.kind}#{query.parent}"
        keys = list(self._query(IndexName="by_name", KeyConditionExpression=Key(VIEW_ALL).eq(view) & Key(NAME).eq(
            query.name_equals.lower()[:400])))
        raws = [r for r in self._raw_many([{PARTITION_KEY: k[PARTITION_KEY], SORT_KEY: k[SORT_KEY]} for k in keys])
                if _matches(query, r)]
        raws.sort(key=lambda r: int(r.get(POS_CREATE, 0)), reverse=query.desc)
        return [_clean(r) for r in raws]

    def _everything(self, query: ListQuery) -> list[Item]:
        """A query no view answers alone (several filters, a name substring, a time range): the collection (or
        its one-slot views) read in full, filtered and ordered here. Its cost is the collection's size."""
        spec = fields_of(query.kind)
        base = f"{query.tenant}#{query.kind}#{query.parent}"
        sources: list[tuple[str, str]] = [("by_create", base)]
        for name, values in query.where.items():
            if name in spec.slots:
                slot = "a" if spec.slots.index(name) == 0 else "b"
                attr = VIEW_A if slot == "a" else VIEW_B
                sources = [("by_a_create" if attr == VIEW_A else "by_b_create", f"{base}#{slot}={filter_value(v)}")
                           for v in dict.fromkeys(values)]
                break
        rows: list[dict[str, Any]] = []
        for index, view in sources:
            attr = VIEW_ALL if index == "by_create" else (VIEW_A if index == "by_a_create" else VIEW_B)
            rows.extend(self._query(IndexName=index, KeyConditionExpression=Key(attr).eq(view)))
        kept = [r for r in rows if _matches(query, r)]
        if query.order == "update_time":
            kept.sort(key=lambda r: (int(_from_dynamo(r.get("update_time")) or 0), int(r.get(POS_CREATE, 0))), reverse=query.desc)
        elif query.order == "name":
            kept.sort(key=lambda r: (str(r.get(NAME, "")), int(r.get(POS_CREATE, 0))), reverse=query.desc)
        else:
            kept.sort(key=lambda r: int(r.get(POS_CREATE, 0)), reverse=query.desc)
        return [_clean(r) for r in kept]

    def batches(self, kind: str, tenant: str, parent: str, size: int = 500) -> Iterator[list[Item]]:
        batch: list[Item] = []
        view = f"{tenant}#{kind}#{parent}"
        for raw in self._query(IndexName="by_create", KeyConditionExpression=Key(VIEW_ALL).eq(view), Limit=size):
            batch.append(_clean(raw))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    # ---- unique keys ----------------------------------------------------------------------------
    def claim(self, tenant: str, scope: str, key: str, owner: str) -> bool:
        try:
            single(self._table.put_item, Item={PARTITION_KEY: f"U#{tenant}#{scope}#{key}", SORT_KEY: "U", "owner": owner},
                   ConditionExpression="attribute_not_exists(#pk) OR #o = :o",
                   ExpressionAttributeNames={"#pk": PARTITION_KEY, "#o": "owner"}, ExpressionAttributeValues={":o": owner})
            return True
        except Stale:
            return False

    def owner(self, tenant: str, scope: str, key: str) -> str | None:
        try:
            got = call(self._table.get_item, Key={PARTITION_KEY: f"U#{tenant}#{scope}#{key}", SORT_KEY: "U"}, ConsistentRead=True)
        except ClientError as exc:
            raise storage_error(exc) from exc
        usage.read(1)
        return str(got["Item"]["owner"]) if "Item" in got else None

    def release(self, tenant: str, scope: str, key: str, owner: str) -> None:
        with contextlib.suppress(Stale):  # held by another owner, or gone: nothing of ours to release
            single(self._table.delete_item, Key={PARTITION_KEY: f"U#{tenant}#{scope}#{key}", SORT_KEY: "U"},
                   ConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues={":o": owner})


def _take(rows: Iterator[dict[str, Any]], n: int) -> Iterator[dict[str, Any]]:
    if n <= 0:
        return
    for count, row in enumerate(rows, 1):
        yield row
        if count >= n:
            return


def _values(raw: Any) -> list[str]:
    value = _from_dynamo(raw)
    return [filter_value(v) for v in value] if isinstance(value, list) else [filter_value(value)]


def _matches(query: ListQuery, raw: dict[str, Any]) -> bool:
    slots = fields_of(query.kind).slots
    for name, wanted in query.where.items():
        if name in slots:  # a slot compares its stored value (a missing field is "")
            have = [str(raw.get("~a" if slots.index(name) == 0 else "~b", ""))]
        elif name in raw:
            have = _values(raw[name])
        else:
            return False
        if not set(have) & {filter_value(v) for v in wanted}:
            return False
    if query.name_contains and query.name_contains.lower() not in name_key(query.kind, _clean(raw)):
        return False
    created = int(_from_dynamo(raw.get("create_time")) or 0)
    if query.created_from is not None and created < query.created_from:
        return False
    return not (query.created_to is not None and created > query.created_to)
