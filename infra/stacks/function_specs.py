"""What each Lambda is: entry point, size, layers and the data it may touch. Plain data (no CDK import), so
bench/package_size.py and the tests read the same table the stack builds from.

Grants follow the code, not guesses (least privilege): every function reads and writes the metadata table
(API keys, rows) and reads the provider secret (the container loads it on first use); beyond that:
- documents: uploads, downloads, deletes and presigned upload URLs (bucket read/write) and queues parse tasks;
- files: the file manager's blobs and the documents it links into datasets (bucket read/write);
- datasets: deleting a dataset purges its documents' blobs (bucket delete only) and queues GraphRAG/RAPTOR/mind-map
  builds (send); its embedding check embeds sampled chunks with the candidate model;
- provider keys (KMS Encrypt/Decrypt/GenerateDataKey on the provider-key KMS key, and its id in the environment):
  only the functions that call tenants' model providers or store/show their keys — system (the provider routes),
  datasets (it checks embedding models), chunks, retrieval, chats, completions, agents, memories, searches (they
  check or call a named model), ingest and stream; documents and files never touch a provider key;
- ingest: reads dropped and uploaded files, writes/deletes the documents it creates from the drop folder, and
  fans a document's "plan" task out into "parse" tasks on the same queue (send); it also runs the dataset-level
  index builds, and invokes the OCR function for images and scanned pages;
- ocr: nothing at all (page pictures in, text boxes out): no table, secret, bucket or queue;
- connectors: seals and reads connectors' source credentials with the provider-key cipher (KMS) and queues sync
  runs (send); connectors-tick, called every minute by an EventBridge rule, reads a page of the due index and queues
  the due runs (send). The runs themselves (source listing, documents) are steps on the task queue, run by ingest,
  which reaches the sources over the internet through the connector guard.
- mcp: the MCP endpoint's tools read datasets, search (embedding the question) and ask chat assistants (tenants'
  models, so provider keys); the mcp_api routes reach MCP servers over the internet through the MCP guard.
- chat_channels: seals and reads channels' bot credentials with the provider-key cipher (KMS) and queues each
  accepted webhook delivery's answer (send); ingest answers it (the chat model, the platform's API over the internet
  through the channel guard).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

BucketAccess = Literal["none", "delete", "read_write"]

API_TIMEOUT_S = 29  # an HTTP API integration gives up after 30 s
INGEST_TIMEOUT_S = 900


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # construct ids, POWERTOOLS_SERVICE_NAME
    handler: str
    memory_mb: int
    timeout_s: int
    layers: tuple[str, ...] = ("core",)  # built by layers/build.py
    bucket: BucketAccess = "none"
    sends_tasks: bool = False
    embeds: bool = False  # embeds text (queries or chunks): needs the local model when datasets use it
    provider_keys: bool = False  # reads or writes tenants' provider API keys: may use the provider-key KMS key
    # may start from a SnapStart snapshot when the deployment turns it on (-c snap_start=true); off by default, as
    # every API function imports in about the time of a bare FastAPI app (bench/package_size.py) and snapshots
    # bill per month whether used or not
    snap_start: bool = False
    stateless: bool = False  # touches no table, secret, bucket or queue (the OCR function)
    invokes_ocr: bool = False  # calls the OCR function synchronously


def _api(module: str, memory_mb: int, **kwargs: object) -> FunctionSpec:
    return FunctionSpec(
        name=module, handler=f"functions.{module}.handler.handler", memory_mb=memory_mb, timeout_s=API_TIMEOUT_S,
        **kwargs,  # type: ignore[arg-type]
    )


# Memory buys CPU on Lambda (1,769 MB = one vCPU): 1 GB where a request embeds, scores or moves file bytes.
API_FUNCTIONS: dict[str, FunctionSpec] = {
    # embeds and provider keys: /embedding/check tries a candidate model on sampled chunks
    "datasets": _api("datasets", 1024, bucket="delete", sends_tasks=True, embeds=True, provider_keys=True),
    # health, status, accounts (a password's hash: 1 GB of CPU), the model providers' routes (their keys), task stops
    "system": _api("system", 1024, provider_keys=True),
    "documents": _api("documents", 1024, bucket="read_write", sends_tasks=True),
    "chunks": _api("chunks", 1024, embeds=True, provider_keys=True),
    "retrieval": _api("retrieval", 1024, embeds=True, provider_keys=True),
    "chats": _api("chats", 512, snap_start=True, provider_keys=True),
    "completions": _api("completions", 1024, embeds=True, snap_start=True, provider_keys=True),
    "agents": _api("agents", 1024, embeds=True, snap_start=True, provider_keys=True),
    "files": _api("files", 1024, bucket="read_write"),
    "memories": _api("memories", 1024, embeds=True, provider_keys=True),
    # search-app records (their chat model is checked when saved); their answers stream from "completions"
    "searches": _api("searches", 512, provider_keys=True),
    "connectors": _api("connectors", 512, sends_tasks=True, provider_keys=True),
    # a webhook checks a signature and queues the answer: little memory, a quick acknowledgement
    "chat_channels": _api("chat_channels", 512, sends_tasks=True, provider_keys=True),
    # the MCP endpoint's tools search (the question embedded) and ask chat assistants (their models); the mcp_api
    # routes list an MCP server's tools over the internet
    "mcp": _api("mcp", 1024, embeds=True, provider_keys=True),
}
# Parsing and embedding are CPU-bound: ~1.7 vCPU; up to 15 minutes for a batch of page-range tasks.
INGEST = FunctionSpec(
    name="ingest", handler="functions.ingest.handler.handler", memory_mb=3008, timeout_s=INGEST_TIMEOUT_S,
    layers=("core", "parsers", "embed"), bucket="read_write", sends_tasks=True, embeds=True, provider_keys=True,
    invokes_ocr=True,
)
# OCR (PP-OCRv4) and DeepDOC's layout model, both on onnxruntime, for one page picture per call: their own bundle,
# since the ingest function's is ~250 MB of the 250 MB allowed. 2 vCPUs (3,538 MB) for onnxruntime's threads.
OCR = FunctionSpec(
    name="ocr", handler="functions.ocr.handler.handler", memory_mb=3538, timeout_s=120, layers=("ocr", "layout"),
    stateless=True,
)
# uvicorn under the Lambda Web Adapter; run.sh is written into the app bundle by layers/build.py.
# Long answers stream for minutes; a function URL allows up to 15.
STREAM = FunctionSpec(name="stream", handler="run.sh", memory_mb=1024, timeout_s=300, embeds=True,
                      provider_keys=True)


# the connector scheduler's tick (EventBridge, every minute): a page of the due index, the due runs queued
CONNECTOR_TICK = FunctionSpec(name="connectors-tick", handler="functions.connectors.handler.tick", memory_mb=256,
                              timeout_s=API_TIMEOUT_S, sends_tasks=True)


def api_function(module: str) -> FunctionSpec:
    """A module's spec; one not sized yet gets the defaults (table + secret only, 1 GB)."""
    return API_FUNCTIONS.get(module) or _api(module, 1024)


def with_local_embedder(spec: FunctionSpec, local_embedder: bool) -> FunctionSpec:
    """Functions that embed get the local-model layer when the deployment embeds with the builtin model."""
    if local_embedder and spec.embeds and "embed" not in spec.layers:
        return replace(spec, layers=(*spec.layers, "embed"))
    return spec


def deployed_functions(modules: list[str], *, local_embedder: bool) -> list[FunctionSpec]:
    specs = [api_function(m) for m in modules] + [INGEST, OCR, STREAM, CONNECTOR_TICK]
    return [with_local_embedder(s, local_embedder) for s in specs]
