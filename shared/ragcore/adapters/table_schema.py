"""The DynamoDB single-table key schema: one place that the adapter, the tests and the CDK stack all read."""

from __future__ import annotations

PARTITION_KEY = "PK"  # "T#<tenant>"
SORT_KEY = "SK"  # "<KIND>#<id>", or "U#<scope>#<key>" for unique-name claims
GSI_PARENT = "gsi_parent"  # a parent's children of one kind, in creation order
GSI_PARENT_PK = "GPK"  # "T#<tenant>#<KIND>#<parent>"
GSI_PARENT_SK = "GSK"  # zero-padded creation sequence

KEY_SCHEMA = [
    {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
    {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
    {"AttributeName": SORT_KEY, "AttributeType": "S"},
    {"AttributeName": GSI_PARENT_PK, "AttributeType": "S"},
    {"AttributeName": GSI_PARENT_SK, "AttributeType": "S"},
]
GLOBAL_SECONDARY_INDEXES = [
    {
        "IndexName": GSI_PARENT,
        "KeySchema": [
            {"AttributeName": GSI_PARENT_PK, "KeyType": "HASH"},
            {"AttributeName": GSI_PARENT_SK, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
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
