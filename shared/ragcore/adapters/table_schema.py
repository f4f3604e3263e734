"""The DynamoDB single-table design: one place that the adapter, the tests and the CDK stack all read.

Base table (PK, SK) records:

| record | PK | SK | holds |
|---|---|---|---|
| item | `I#<tenant>#<kind>#<id>` | `I` | the item, its list keys (below), `~ver` (optimistic version) |
| sequence | `S#<tenant>#<kind>` | `S` | `n`: the last list position handed out for the kind |
| rank node | `R#<c or u>#<view>` | `<level>:<index>` | `c0`…`c127`: live items below each child (`0:0`: the head) |
| unique claim | `U#<tenant>#<scope>#<key>` | `U` | `owner` (dataset/document names…) |

Every item has its own partition key, so no tenant, dataset or document is a hot partition of the base table; a
get or a batch get by id is one read per item whatever the collection's size.

Lists. An item of a listed kind carries: `V0` = `<tenant>#<kind>#<parent>` (its collection), `VA`/`VB` = `V0` +
`#a=<value>` / `#b=<value>` (its collection narrowed to the kind's filter slot value, ragcore.domain.kinds), `VC`
= its creation position, `VU` = its last-update position (a fresh position whenever `update_time` changes), `VN`
= its lowercased name. The GSIs below hold each view in position order, so page 1 is one Query of `page_size`
items, in either direction.

Page N without reading N pages: each view keeps a counted tree over the position space (the rank nodes): a
level-l node covers LEAF·FANOUT^l positions and counts the view's live items under each of its FANOUT children;
the root (level LEVELS, index 0) sums to the view's total. Finding the item at rank r reads LEVELS nodes
top-down, then Queries the GSI from the start of the leaf found, skipping at most LEAF−1 items. A list page
reads ≤ page_size + LEVELS + LEAF − 1 items; its total is the root (one read). Every write that adds, removes
or moves an item in a view changes the item and the ≤ LEVELS nodes on its path in one TransactWriteItems with a
condition on the item's version, so counts are exact under retries, redeliveries and concurrent writers (a
conflicting writer retries with the item re-read). Kinds that place their own items (a document's chunks, from 0)
count positions below LEAF·FANOUT in the view's head node `0:0` alone (one node, not LEVELS); a reader adds the head
into the nodes above it, read with the root (dynamodb_ranks.HEAD).

Hot keys: a collection's view is one GSI partition and a tree's nodes one partition key, and concurrent writes to a
dataset share the whole path of each of its trees (positions are handed out in sequence) and the dataset item.
Transaction conflicts on those items, not partition throughput, bound a dataset's writes: roughly 37 transactions
per second at a 10 ms hold (docs/storage.md, "Hot items", models it and a 100,000-document burst); a tenant's
sequence item is updated once per batch of writes (a parse writes its chunks 32 at a time).
"""

from __future__ import annotations

# Bumped when the layout changes incompatibly: the stack then creates a new table (DynamoDB adds one GSI per
# update, and items of an older layout would not be found); the older table is retained, never deleted.
LAYOUT_VERSION = 2

PARTITION_KEY = "PK"
SORT_KEY = "SK"

VIEW_ALL = "V0"  # "<tenant>#<kind>#<parent>"
VIEW_A = "VA"  # VIEW_ALL + "#a=<value>"
VIEW_B = "VB"  # VIEW_ALL + "#b=<value>"
POS_CREATE = "VC"  # creation position (N)
POS_UPDATE = "VU"  # last-update position (N)
NAME = "VN"  # lowercased name (S), absent when empty

# (index name, partition attribute, sort attribute, projection)
INDEXES = (
    ("by_create", VIEW_ALL, POS_CREATE, "ALL"),
    ("by_update", VIEW_ALL, POS_UPDATE, "ALL"),
    ("by_a_create", VIEW_A, POS_CREATE, "ALL"),
    ("by_a_update", VIEW_A, POS_UPDATE, "ALL"),
    ("by_b_create", VIEW_B, POS_CREATE, "ALL"),
    ("by_b_update", VIEW_B, POS_UPDATE, "ALL"),
    ("by_name", VIEW_ALL, NAME, "KEYS_ONLY"),
)

# the counted trees: positions per leaf, children per node, node levels above the leaves
LEAF = 4
FANOUT = 128
LEVELS = 4
CAPACITY = LEAF * FANOUT**LEVELS  # positions per tenant and kind (~1.07 billion)

KEY_SCHEMA = [
    {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
    {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
]
_TYPES = {PARTITION_KEY: "S", SORT_KEY: "S", VIEW_ALL: "S", VIEW_A: "S", VIEW_B: "S", POS_CREATE: "N", POS_UPDATE: "N",
          NAME: "S"}
ATTRIBUTE_DEFINITIONS = [{"AttributeName": name, "AttributeType": kind} for name, kind in _TYPES.items()]
GLOBAL_SECONDARY_INDEXES = [
    {
        "IndexName": name,
        "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": projection},
    }
    for name, pk, sk, projection in INDEXES
]


def create_table_kwargs(table_name: str) -> dict[str, object]:
    """boto3 create_table arguments (tests under moto use exactly what the stack provisions)."""
    return {
        "TableName": table_name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        "BillingMode": "PAY_PER_REQUEST",
    }
