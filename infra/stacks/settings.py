"""Per-function sizing and the environment every function shares."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSize:
    memory_mb: int
    timeout_s: int


# Parsing and embedding are CPU-bound (Lambda CPU grows with memory); API calls are short.
SIZES = {
    "datasets": FunctionSize(512, 29),
    "documents": FunctionSize(1024, 29),
    "chunks": FunctionSize(1024, 29),
    "retrieval": FunctionSize(1024, 29),
    "chats": FunctionSize(512, 29),
    "completions": FunctionSize(1024, 29),
    "agents": FunctionSize(1024, 29),
    "files": FunctionSize(1024, 29),
    "memories": FunctionSize(1024, 29),
    "stream": FunctionSize(1024, 300),
    "ingest": FunctionSize(3008, 900),
}
# Which functions write blobs or queue parse tasks (least privilege: the others can't).
USES_BUCKET = {"documents", "files", "ingest", "datasets", "chunks"}
SENDS_TASKS = {"documents", "datasets", "files", "ingest"}
LWA_LAYER = "arn:aws:lambda:{region}:753240598075:layer:LambdaAdapterLayerArm64:25"
