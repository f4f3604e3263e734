"""The connector area's records, states and the rules on their credentials.

Kinds in the store (ragcore.domain.kinds): `connector` (a tenant's connectors), `connector_link` (a connector's
datasets, RAGFlow's Connector2Kb; under the connector), `sync_log` (a run of one connector into one dataset,
RAGFlow's SyncLogs; under the connector; it is also the run's checkpoint), `connector_item` (one source item synced
into one dataset: its document and fingerprint; under "<connector>:<dataset>") and `connector_due` (the due index,
in one partition of its own, ordered by due time).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ragcore.domain import kinds

CONNECTOR_KIND = kinds.CONNECTOR
LINK_KIND = kinds.CONNECTOR_LINK
LOG_KIND = kinds.SYNC_LOG
ITEM_KIND = kinds.CONNECTOR_ITEM
DUE_KIND = kinds.CONNECTOR_DUE
DUE_TENANT = "~connectors"  # the due index spans tenants: one partition, read a page at a time by due time
RUN_SCOPE = "connector-run"  # the claim one (connector, dataset) run holds while it runs


class Status:
    """RAGFlow's TaskStatus, as its connector and sync-log rows hold it."""

    UNSTART = "0"
    RUNNING = "1"
    CANCEL = "2"
    DONE = "3"
    FAIL = "4"
    SCHEDULE = "5"


# every source this server syncs, each with its protocol adapter (ragcore.adapters.sources); "website" is ours
BLOB_SOURCES = ("s3", "r2", "oci_storage", "google_cloud_storage")
SOURCES = (*BLOB_SOURCES, "webdav", "rss", "github", "confluence", "notion", "website")
# RAGFlow's FileSource values: POST /connectors/<source>/test checks an unsaved config of that kind
RAGFLOW_SOURCES = frozenset({
    "knowledgebase", "rss", "s3", "notion", "rest_api", "discord", "confluence", "gmail", "google_drive", "jira",
    "sharepoint", "slack", "teams", "webdav", "moodle", "dropbox", "box", "r2", "oci_storage", "google_cloud_storage",
    "airtable", "asana", "github", "gitlab", "imap", "bitbucket", "zendesk", "seafile", "mysql", "postgresql",
    "bigquery", "dingtalk_ai_table", "onedrive", "outlook", "salesforce", "azure_blob", "website",
})

DEFAULT_REFRESH_MIN = 5
DEFAULT_PRUNE_MIN = 5
DEFAULT_TIMEOUT_S = 60 * 29
MAX_LOGS = 100  # a (connector, dataset)'s newest runs kept, as RAGFlow keeps about a hundred
MAX_FAILURES_SHOWN = 50  # failing items listed in a run's log (all are counted)


def hex_of(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def document_id(dataset_id: str, connector_id: str, key: str) -> str:
    """A source item's document in a dataset: the same id for every run, rebuild and re-ingest (citations stay)."""
    return hex_of("doc", dataset_id, connector_id, key)


def item_id(dataset_id: str, connector_id: str, key: str) -> str:
    return hex_of("item", dataset_id, connector_id, key)


def items_parent(connector_id: str, dataset_id: str) -> str:
    return f"{connector_id}:{dataset_id}"


def due_key(due_ms: int, connector_id: str) -> str:
    """The due index orders by this (zero-padded, so text order is time order)."""
    return f"{max(due_ms, 0):016d}:{connector_id}"


def source_type(source: str, connector_id: str) -> str:
    """A connector's documents' `source_type`, as RAGFlow marks them."""
    return f"{source}/{connector_id}"


# ---- credentials ------------------------------------------------------------------------------------------------
SECRET_FIELD = "credentials"


def mask(value: str) -> str:
    """A credential as shown: enough of it to tell two apart, never enough to use."""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:3]}...{value[-4:]}"


def masked(value: Any) -> Any:
    """Every string inside a credentials value, masked (JSON text inside a string is masked as a whole)."""
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str):
        return mask(value)
    return value


def merged_secret(sent: Any, kept: Any) -> Any:
    """Credentials a client sends back: a value still equal to its masked form keeps the stored one (a client that
    edits a connector sends back what GET showed it)."""
    if isinstance(sent, dict) and isinstance(kept, dict):
        return {k: merged_secret(v, kept.get(k)) for k, v in sent.items()}
    if isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        return [merged_secret(s, k) for s, k in zip(sent, kept, strict=True)]
    if isinstance(sent, str) and isinstance(kept, str) and sent == mask(kept):
        return kept
    return sent


def split_config(config: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(config without its credentials, the credentials or None)."""
    rest = {k: v for k, v in config.items() if k != SECRET_FIELD}
    return rest, config.get(SECRET_FIELD)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
