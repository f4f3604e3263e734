"""Which fields of each kind the store indexes for listing: its filter slots and its name field.

A list filters flatly (its cost is its page, whatever the collection's size) on at most one slot field at a time,
and orders by creation, last update or name. Filters on other fields, substring ("keywords") filters and
creation-time ranges are evaluated inside the store too, but read the whole collection on DynamoDB (SQL on
SQLite): services use them only on collections that are small by nature (a tenant's memories, a memory's messages)
or where RAGFlow's own cost is the same (a name substring). Both adapters read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ORDERS = ("create_time", "update_time", "name")


@dataclass(frozen=True)
class ListFields:
    slots: tuple[str, ...] = ()  # at most two scalar fields, each an indexed equality filter ("a", then "b")
    name: str = "name"  # the field `order="name"` and `name_contains` use (case-insensitively); "" for none
    lists: tuple[str, ...] = ()  # list-valued fields a `where` may name: an item matches when any element does
    # orders whose deep pages are flat (DynamoDB keeps a counted tree per order and view); () for kinds never
    # listed, which then cost one plain write each
    orders: tuple[str, ...] = ("create_time", "update_time")
    # a whole-number field that places the item in creation order instead of its arrival (unique under its parent,
    # below 2^30): a document's chunks are listed in reading order however its parse tasks interleave
    position: str = ""


KINDS: dict[str, ListFields] = {
    "document": ListFields(slots=("run", "suffix")),
    "chunk": ListFields(slots=("available", "_run"), name="", orders=("create_time",), position="order"),
    # a slot per name would give most sessions a view (and its counted trees) of their own: names filter by scan
    "session": ListFields(slots=("user_id",)),
    "agent": ListFields(name="title"),
    "agent_session": ListFields(slots=("user_id",)),
    "agent_version": ListFields(slots=("release",), name="title"),
    "file": ListFields(slots=("type",)),
    "memory": ListFields(lists=("memory_type",)),
    # a tenant's datasets with `permission: "team"` (id, name, times): what its team members list beside their own
    "team_dataset": ListFields(),
    "memmsg": ListFields(slots=("_listed", "_kept"), name="", orders=("create_time",)),
    "ingestion_log": ListFields(slots=("_scope", "operation_status"), name="document_name"),
    "index_task": ListFields(slots=("_index_type",)),
    # commits of a workspace folder or dataset (never updated: creation order serves both orders), a commit's
    # changes in the order the request gave them, a file's versions
    "file_commit": ListFields(name="", orders=("create_time",)),
    "file_commit_item": ListFields(name="", orders=("create_time",), position="position"),
    "file_version": ListFields(name="", orders=("create_time",)),
    "metavalue": ListFields(slots=("key",), name="", orders=("create_time",)),
    # accounts: a tenant's API keys and its team (listed oldest first), a user's teams
    "apitoken": ListFields(name="", orders=("create_time",)),
    "member": ListFields(name="", orders=("create_time",)),
    "membership": ListFields(name="", orders=("create_time",)),
    # model providers: a tenant's providers, a provider's instances (found by name), an instance's models
    "model_provider": ListFields(name="", orders=("create_time",)),
    "model_instance": ListFields(name="instance_name", orders=("create_time",)),
    "tenant_model": ListFields(name="", orders=("create_time",)),
    # read by id only
    "model_defaults": ListFields(name="", orders=()),
    "user": ListFields(name="", orders=()),
    "access_token": ListFields(name="", orders=()),
    "login_failures": ListFields(name="", orders=()),
    "beta": ListFields(name="", orders=()),
    "agent_trace": ListFields(name="", orders=()),
    "webhook_rate": ListFields(name="", orders=()),
    "webhook_log": ListFields(name="", orders=("create_time",)),
    "memseq": ListFields(name="", orders=()),
    "upload-token": ListFields(name="", orders=()),
    "tenant": ListFields(name="", orders=()),
    "dataset_graph": ListFields(name="", orders=()),
    "file2doc": ListFields(name="", orders=()),
    "file_count": ListFields(name="", orders=()),
    "termstats": ListFields(name="", orders=()),
    "langfuse": ListFields(name="", orders=()),
    # connectors (ragcore.services.connectors): a tenant's connectors, a connector's dataset links and runs (newest
    # first), a link's synced items (walked in creation order by the prune), and the due index: one partition
    # ordered by its `due` key (zero-padded due time), whose first page is what the scheduler reads
    "connector": ListFields(orders=("create_time",)),
    "connector_link": ListFields(name="", orders=("create_time",)),
    "sync_log": ListFields(name="", orders=("create_time",)),
    "connector_item": ListFields(name="", orders=("create_time",)),
    "connector_due": ListFields(name="due", orders=()),
    "oauth_state": ListFields(name="", orders=()),
    "oauth_result": ListFields(name="", orders=()),
}

DEFAULT = ListFields()


def fields_of(kind: str) -> ListFields:
    return KINDS.get(kind, DEFAULT)


def filter_value(value: Any) -> str:
    """The one string form a filter value is stored and compared in (booleans as "1"/"0", null as "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def slot_values(kind: str, item: dict[str, Any]) -> tuple[str | None, str | None]:
    """The item's values in the kind's slots (None where the kind has no such slot)."""
    slots = fields_of(kind).slots
    a = filter_value(item.get(slots[0])) if len(slots) > 0 else None
    b = filter_value(item.get(slots[1])) if len(slots) > 1 else None
    return a, b


def position_of(kind: str, item: dict[str, Any]) -> int | None:
    """The item's declared position (None when the kind places items by arrival)."""
    field = fields_of(kind).position
    return int(item.get(field) or 0) if field else None


def name_key(kind: str, item: dict[str, Any]) -> str:
    """The lowercased name the kind orders and searches by ("" when it has none)."""
    field = fields_of(kind).name
    value = item.get(field) if field else None
    return str(value).lower() if value is not None else ""
