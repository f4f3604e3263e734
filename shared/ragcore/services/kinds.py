"""Store kinds that several services read: importing the name does not import the service that owns the kind
(the dataset service pulls in its pydantic request models, which a completion or retrieval never needs)."""

from __future__ import annotations

DATASET_KIND = "dataset"
