"""The kinds of item the metadata store holds: one name each, and which fields of each the store indexes for
listing (its filter slots and its name field).

A list filters flatly (its cost is its page, whatever the collection's size) on at most one slot field at a time,
and orders by creation, last update or name. Filters on other fields, substring ("keywords") filters and
creation-time ranges are evaluated inside the store too, but read the whole collection on DynamoDB (SQL on
SQLite): services use them only on collections that are small by nature (a tenant's memories, a memory's messages)
or where RAGFlow's own cost is the same (a name substring). Both adapters read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ---- every kind of item the metadata store holds (one name each) ----
DATASET = "dataset"  # a dataset (knowledge base)
TEAM_DATASET = "team_dataset"  # the owner's index of its datasets shared with its team
DOCUMENT = "document"  # a document of a dataset
PARSE_MARK = "parse_mark"  # a parse task's counts taken into its document ("<doc>:<run>:<task>") or a run's into its dataset ("<doc>:<run>:done"), parent = document
CHUNK = "chunk"  # a chunk of a document
METAVALUE = "metavalue"  # a distinct metadata value of a dataset, with its document count
TERMSTATS = "termstats"  # a dataset's keyword statistics (BM25)
INGESTION_LOG = "ingestion_log"  # a parse or index run of a document or dataset
INDEX_TASK = "index_task"  # a GraphRAG / RAPTOR / mind map run, parent = dataset
DATASET_GRAPH = "dataset_graph"  # a built graph or mind map, id = "<dataset_id>:<index_type>"
UPLOAD_TOKEN = "upload-token"  # a presigned upload's token
INBOX = "inbox"  # a drop-folder file and the document it became
CHAT = "chat"  # a chat assistant
SESSION = "session"  # a chat assistant's session
SEARCH_APP = "search_app"  # a search app
MEMORY = "memory"  # a memory
MEMORY_MESSAGE = "memmsg"  # a memory's message
MEMORY_SEQUENCE = "memseq"  # a memory's message counter
AGENT = "agent"  # an agent (canvas)
AGENT_SESSION = "agent_session"  # an agent's session
AGENT_VERSION = "agent_version"  # a saved version of an agent's DSL
AGENT_TRACE = "agent_trace"  # an agent run's trace
WEBHOOK_LOG = "webhook_log"  # an agent webhook's test-call events
WEBHOOK_RATE = "webhook_rate"  # an agent webhook's rate-limit window
FILE = "file"  # a file or folder of the file manager
FILE_COUNT = "file_count"  # a tenant's file and folder count (its quota)
FILE2DOC = "file2doc"  # a file's link to the document it became
FILE_COMMIT = "file_commit"  # a commit of a workspace folder or dataset
FILE_COMMIT_ITEM = "file_commit_item"  # a commit's change
FILE_VERSION = "file_version"  # a file's version
TENANT = "tenant"  # a tenant
API_KEY = "apikey"  # an API key's hash, under the key index
API_TOKEN = "apitoken"  # a tenant's view of its keys (no secret)
BETA = "beta"  # a beta token of the embeddable bots
USER = "user"  # a registered user
ACCESS_TOKEN = "access_token"  # a login session's token
LOGIN_FAILURES = "login_failures"  # failed logins of an account or address
MEMBER = "member"  # a team's member
MEMBERSHIP = "membership"  # a user's team
MODEL_PROVIDER = "model_provider"  # a tenant's model provider
MODEL_INSTANCE = "model_instance"  # a provider's instance (key, base URL)
TENANT_MODEL = "tenant_model"  # an instance's model
MODEL_DEFAULTS = "model_defaults"  # a tenant's default models
CONVERSATION_STATS = "conversation_stats"  # a day's conversation counters of a source
LANGFUSE = "langfuse"  # a tenant's Langfuse keys
CONNECTOR = "connector"  # a connector (a source a dataset is kept in step with)
CONNECTOR_LINK = "connector_link"  # a connector's link to a dataset, parent = connector
SYNC_LOG = "sync_log"  # a connector's sync run, parent = connector
CONNECTOR_ITEM = "connector_item"  # a source item a link synced and the document it became
CONNECTOR_DUE = "connector_due"  # the scheduler's due index: one entry per scheduled connector
OAUTH_STATE = "oauth_state"  # a connector OAuth web flow waiting for its callback
OAUTH_RESULT = "oauth_result"  # a connector OAuth web flow's credentials, until fetched
CHAT_CHANNEL = "chat_channel"  # a chat channel: a bot on a messaging platform bound to a chat assistant
CHANNEL_STATE = "channel_state"  # a chat channel's runtime: webhook state, last delivery, reply and error
CHANNEL_DELIVERY = "channel_delivery"  # a webhook delivery a channel accepted (claimed once), parent = channel
MCP_SERVER = "mcp_server"  # an MCP server a tenant's agents may call tools of (RAGFlow's mcp_api)
AIMLAPI_AUTHORIZATION = "aimlapi_authorization"  # an AI/ML API device sign-in waiting for the user's consent

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
    # the views whose deep pages are flat on DynamoDB ("all": the whole collection, "a"/"b": narrowed to a slot
    # value), each a counted tree that every write of an item in it updates; a list of a view left out reads its
    # collection. Kinds always listed through one slot count only that view (a write costs a third of the nodes)
    counted: tuple[str, ...] = ("all", "a", "b")


KINDS: dict[str, ListFields] = {
    DOCUMENT: ListFields(slots=("run", "suffix")),
    # a document's chunks are always listed within its current run (slot b; with `available` too, a scan)
    CHUNK: ListFields(slots=("available", "_run"), name="", orders=("create_time",), position="order", counted=("b",)),
    # a slot per name would give most sessions a view (and its counted trees) of their own: names filter by scan
    SESSION: ListFields(slots=("user_id",)),
    AGENT: ListFields(name="title"),
    AGENT_SESSION: ListFields(slots=("user_id",)),
    AGENT_VERSION: ListFields(slots=("release",), name="title"),
    FILE: ListFields(slots=("type",)),
    MEMORY: ListFields(lists=("memory_type",)),
    # a tenant's datasets with `permission: "team"` (id, name, times): what its team members list beside their own
    TEAM_DATASET: ListFields(),
    MEMORY_MESSAGE: ListFields(slots=("_listed", "_kept"), name="", orders=("create_time",)),
    # never updated after it is written (a rerun's DSL aside): creation order serves update order, and a log item
    # costs three counted trees instead of six
    # and always listed by scope (file / dataset logs; with a status too, a scan)
    INGESTION_LOG: ListFields(slots=("_scope", "operation_status"), name="document_name", orders=("create_time",),
                              counted=("a",)),
    INDEX_TASK: ListFields(slots=("_index_type",)),
    # commits of a workspace folder or dataset (never updated: creation order serves both orders), a commit's
    # changes in the order the request gave them, a file's versions
    FILE_COMMIT: ListFields(name="", orders=("create_time",)),
    FILE_COMMIT_ITEM: ListFields(name="", orders=("create_time",), position="position"),
    FILE_VERSION: ListFields(name="", orders=("create_time",)),
    METAVALUE: ListFields(slots=("key",), name="", orders=("create_time",)),
    # accounts: a tenant's API keys and its team (listed oldest first), a user's teams
    API_TOKEN: ListFields(name="", orders=("create_time",)),
    MEMBER: ListFields(name="", orders=("create_time",)),
    MEMBERSHIP: ListFields(name="", orders=("create_time",)),
    # model providers: a tenant's providers, a provider's instances (found by name), an instance's models
    MODEL_PROVIDER: ListFields(name="", orders=("create_time",)),
    MODEL_INSTANCE: ListFields(name="instance_name", orders=("create_time",)),
    TENANT_MODEL: ListFields(name="", orders=("create_time",)),
    # read by id only
    MODEL_DEFAULTS: ListFields(name="", orders=()),
    USER: ListFields(name="", orders=()),
    ACCESS_TOKEN: ListFields(name="", orders=()),
    LOGIN_FAILURES: ListFields(name="", orders=()),
    BETA: ListFields(name="", orders=()),
    AGENT_TRACE: ListFields(name="", orders=()),
    WEBHOOK_RATE: ListFields(name="", orders=()),
    WEBHOOK_LOG: ListFields(name="", orders=("create_time",)),
    MEMORY_SEQUENCE: ListFields(name="", orders=()),
    UPLOAD_TOKEN: ListFields(name="", orders=()),
    PARSE_MARK: ListFields(name="", orders=()),
    TENANT: ListFields(name="", orders=()),
    DATASET_GRAPH: ListFields(name="", orders=()),
    FILE2DOC: ListFields(name="", orders=()),
    FILE_COUNT: ListFields(name="", orders=()),
    TERMSTATS: ListFields(name="", orders=()),
    LANGFUSE: ListFields(name="", orders=()),
    # connectors (ragcore.services.connectors): a tenant's connectors, a connector's dataset links and runs (newest
    # first), a link's synced items (walked in creation order by the prune), and the due index: one partition
    # ordered by its `due` key (zero-padded due time), whose first page is what the scheduler reads
    CONNECTOR: ListFields(orders=("create_time",)),
    CONNECTOR_LINK: ListFields(name="", orders=("create_time",)),
    SYNC_LOG: ListFields(name="", orders=("create_time",)),
    CONNECTOR_ITEM: ListFields(name="", orders=("create_time",)),
    CONNECTOR_DUE: ListFields(name="due", orders=()),
    OAUTH_STATE: ListFields(name="", orders=()),
    OAUTH_RESULT: ListFields(name="", orders=()),
    # chat channels (ragcore.services.channels): a tenant's channels (newest first, as RAGFlow lists them), each
    # one's runtime (read by id), its accepted deliveries (claimed by id, removed with the channel)
    CHAT_CHANNEL: ListFields(orders=("create_time",)),
    CHANNEL_STATE: ListFields(name="", orders=()),
    CHANNEL_DELIVERY: ListFields(name="", orders=("create_time",)),
    AIMLAPI_AUTHORIZATION: ListFields(name="", orders=()),
    # MCP servers (ragcore.services.mcp): a tenant's servers, listed by creation or update time, searched by name
    MCP_SERVER: ListFields(),
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
