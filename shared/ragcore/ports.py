"""The ports services depend on. Each has a local and an AWS adapter and one contract suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

Item = dict[str, Any]


@dataclass(frozen=True)
class ListQuery:
    """A parent's items of one kind, filtered and ordered by the store (never in Python over every item).

    `where` maps a field to the values it may take (any of them). A kind's slot fields (ragcore.domain.kinds) filter
    flatly, one at a time; other fields, `name_contains` and the creation-time bounds are evaluated in the store but
    read the whole collection on DynamoDB.
    """

    kind: str
    tenant: str
    parent: str = ""
    order: str = "create_time"  # "create_time" | "update_time" | "name" (ragcore.domain.kinds.ORDERS)
    desc: bool = True
    where: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    name_contains: str = ""  # case-insensitive substring of the kind's name field
    name_equals: str = ""  # the kind's name field, any case (an indexed lookup on both stores)
    created_from: int | None = None  # create_time bounds, ms, inclusive
    created_to: int | None = None


@dataclass(frozen=True)
class Tally:
    """Numbers added to another existing item in the same write as an item's (a dataset's document count with
    the document): both happen or neither. A tally whose item is gone is dropped, the write still made."""

    kind: str
    item_id: str
    deltas: Mapping[str, int | float]


class MetadataStore(Protocol):
    """Tenant-scoped items of a kind, each under a parent ("" for a tenant's top-level items).

    Reads of one request are bounded: get/get_many by id, `page` (offset paging whose cost is the page, not the
    offset), `count` (kept counts). `batches` walks a whole collection and is for background work only.
    """

    def put(self, kind: str, tenant: str, item: Item, *, parent: str = "", if_absent: bool = False,
            tally: Tally | None = None) -> bool:
        """Write the whole item (must hold "id"). With if_absent, return False instead of overwriting (and add
        no tally)."""
        ...

    def put_many(self, kind: str, tenant: str, items: list[Item], *, parent: str = "",
                 tally: Callable[[Item], Tally | None] | None = None) -> None:
        """Write many whole items under one parent (overwriting), in as few round trips as the store allows; each
        item's tally (its parent's counts) is added in the same write as the item."""
        ...

    def import_items(self, kind: str, tenant: str, items: list[Item], *, parent: str = "") -> None:
        """Bulk-write items that are not in the store yet (an import: restores, migrations, benchmarks) with the
        same result as put_many, faster; not for a collection others write to at the same time."""
        ...

    def get(self, kind: str, tenant: str, item_id: str) -> Item | None: ...

    def get_many(self, kind: str, tenant: str, item_ids: list[str]) -> list[Item]:
        """The existing items, in the order asked for, each once."""
        ...

    def page(self, query: ListQuery, offset: int, limit: int) -> list[Item]:
        """Items [offset, offset + limit) of the query's order."""
        ...

    def count(self, query: ListQuery) -> int: ...

    def batches(self, kind: str, tenant: str, parent: str, size: int = 500) -> Iterator[list[Item]]:
        """Every item under parent in creation order, a batch at a time (background work: it reads everything)."""
        ...

    def update(self, kind: str, tenant: str, item_id: str, changes: Mapping[str, Any]) -> Item | None:
        """Merge changes into an existing item; None when it does not exist (nothing is created)."""
        ...

    def update_many(self, kind: str, tenant: str, changes: Mapping[str, Mapping[str, Any]], *,
                    when: Callable[[Item], bool] | None = None,
                    tally: Callable[[Item], Tally | None] | None = None) -> dict[str, Item]:
        """update() of many items (item id → its changes) in as few writes as the store allows; the items that
        exist, as updated, by id. With `when`, an item is updated only if it holds for the item as stored at the
        write (atomically: a concurrent change makes it be asked again); with `tally`, each updated item's counts
        (of the item as updated) are added in the same write, so a count and its items never disagree."""
        ...

    def increment(self, kind: str, tenant: str, item_id: str, deltas: Mapping[str, int | float]) -> Item | None:
        """Atomically add numbers to fields of an existing item."""
        ...

    def increment_many(self, kind: str, tenant: str, deltas: Mapping[str, Mapping[str, int | float]], *,
                       parent: str = "") -> None:
        """Add numbers to fields of many items of an unlisted kind (counters), each atomically, in as few round
        trips as the store allows; an item that does not exist yet is created (under parent) with the deltas as
        its values."""
        ...

    def delete(self, kind: str, tenant: str, item_id: str, *, tally: Callable[[Item], Tally | None] | None = None) -> bool:
        """Delete the item; `tally` says, from the item as it is deleted, what to add elsewhere in the same write."""
        ...

    def delete_under(self, kind: str, tenant: str, parent: str) -> int:
        """Delete every item of the kind under parent; returns how many (background work: it reads everything)."""
        ...

    def claim(self, tenant: str, scope: str, key: str, owner: str) -> bool:
        """Reserve a unique key (e.g. a dataset name); False when another owner holds it."""
        ...

    def owner(self, tenant: str, scope: str, key: str) -> str | None:
        """Who holds a claimed key (finds an item by its unique name in one read)."""
        ...

    def release(self, tenant: str, scope: str, key: str, owner: str) -> None: ...


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]: ...

    def upload_url(self, key: str, expires_s: int, content_type: str) -> str:
        """A URL a client can PUT the bytes to directly (presigned on S3)."""
        ...


# ---- retrieval side ---------------------------------------------------------------------------------


class IndexRecord(TypedDict, total=False):
    """One chunk as the search index holds it (namespace = tenant)."""

    id: str  # chunk id, "<document_id>#<n>"-free: 32-hex or any string unique per tenant
    dataset_id: str
    document_id: str
    content: str  # the text full-text search matches (content + keywords + questions)
    terms: list[str]  # content_terms(content), when the writer has them already (saves tokenizing twice)
    vector: list[float]
    available: bool
    document_available: bool  # the document is switched on (default true)
    meta: dict[str, list[str]]  # the document's metadata, each value in ragcore.text.meta_values' form


class Hit(TypedDict):
    id: str
    score: float


@dataclass(frozen=True)
class MetaClause:
    """Documents with a value of `key` among `values` (negate: with none of them, or no value at all)."""

    key: str
    values: tuple[str, ...]
    negate: bool = False


@dataclass(frozen=True)
class MetaFilter:
    """Clauses over documents' metadata, all of them ("and") or any ("or"): the index applies it itself."""

    logic: str
    clauses: tuple[MetaClause, ...]


class VectorIndex(Protocol):
    """Dense vectors + full text per tenant. Local: numpy + SQLite FTS5. AWS: Pinecone dense + sparse.

    Searches return only available chunks of switched-on documents within the scope (datasets, optionally
    documents and a metadata filter), so a question reads its candidates and nothing else.
    """

    def upsert(self, tenant: str, records: list[IndexRecord]) -> None: ...

    def delete(self, tenant: str, ids: list[str]) -> None: ...

    def delete_document(self, tenant: str, document_id: str) -> None: ...

    def delete_dataset(self, tenant: str, dataset_id: str) -> None: ...

    def set_available(self, tenant: str, ids: list[str], available: bool) -> None: ...

    def set_document_available(self, tenant: str, document_id: str, available: bool) -> None:
        """Switch every chunk of a document out of (or back into) search; the chunks' own flags are kept."""
        ...

    def set_document_meta(self, tenant: str, document_id: str, meta: dict[str, list[str]]) -> None:
        """Replace a document's metadata (as IndexRecord.meta) on all of its chunks."""
        ...

    def search_dense(
        self, tenant: str, vector: list[float], top_k: int, dataset_ids: list[str], document_ids: list[str] | None = None,
        meta: MetaFilter | None = None,
    ) -> list[Hit]:
        """Cosine similarity (vectors are L2-normalised), best first."""
        ...

    def search_text(
        self, tenant: str, text: str, top_k: int, dataset_ids: list[str], document_ids: list[str] | None = None,
        meta: MetaFilter | None = None, weights: Mapping[str, float] | None = None,
    ) -> list[Hit]:
        """Keyword (BM25-like) candidates, best first. `weights`: each query term's importance (its idf in the
        searched datasets), for an index without term statistics of its own (Pinecone's sparse side)."""
        ...

    def fetch_vectors(self, tenant: str, ids: list[str]) -> dict[str, list[float]]: ...

    def count(self, tenant: str, dataset_id: str | None = None) -> int: ...


class Embedder(Protocol):
    model_name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]:
        """L2-normalised vectors, one per text, in order."""
        ...


class ChatUsage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatModel(Protocol):
    model_name: str

    def complete(self, messages: list[dict[str, str]], **options: Any) -> tuple[str, ChatUsage]: ...

    def stream(self, messages: list[dict[str, str]], **options: Any) -> Iterator[str]:
        """Text deltas as the model produces them."""
        ...


@dataclass(frozen=True)
class ToolCall:
    """A function the model asked to call: its call id, name and arguments (JSON text, as the model wrote it)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolTurn:
    """A model's answer when offered tools: its text, and the calls it asked for (none: the text is final)."""

    text: str
    calls: tuple[ToolCall, ...] = ()


class ToolCallingChatModel(Protocol):
    """A chat model that can call functions (OpenAI's `tools`): what an agent's LLM component needs to use MCP
    servers' tools. The extractive answerer has no such method."""

    def complete_with_tools(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], **options: Any) -> ToolTurn:
        """One turn: `messages` may hold earlier assistant tool calls and "tool" results."""
        ...


class Reranker(Protocol):
    def rerank(self, query: str, texts: list[str]) -> list[float]:
        """A relevance score in [0, 1] per text, in order."""
        ...


class SpeechModel(Protocol):
    """Text to speech (a tenant's TTS model)."""

    def speak(self, text: str) -> Iterator[bytes]:
        """The audio of `text`, in pieces as the provider sends them."""
        ...


class Transcriber(Protocol):
    """Speech to text (a tenant's ASR model)."""

    def transcribe(self, filename: str, audio: bytes) -> str: ...


class JobQueue(Protocol):
    """Parse tasks. Local: a worker pool in the serving process. AWS: SQS → the ingest Lambda."""

    def submit(self, task: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class HttpReply:
    """An outbound HTTP call's answer (agent Invoke components, Langfuse, MCP servers)."""

    status: int
    text: str


# (method, url, headers, body, timeout) -> the reply; refuses targets the deployment does not allow
HttpFetch = Callable[[str, str, dict[str, str], bytes | None, float], HttpReply]


@dataclass(frozen=True)
class McpEndpoint:
    """Where an MCP server answers: its URL, transport ("streamable-http" or the older "sse") and request headers."""

    url: str
    server_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class McpToolResult:
    text: str  # the call's text content (an error's message when is_error)
    is_error: bool = False


class McpUnreachable(Exception):
    """An MCP server could not be reached or refused the session (its URL refused by the guard, a connection or
    protocol failure, a timeout): the message says which, never a credential."""


class McpClient(Protocol):
    """An MCP client session per call: initialize, then list the tools or call one (the SDK's client on loopback-
    and private-address-guarded HTTP)."""

    def refusal(self, url: str) -> str | None:
        """Why a URL would be refused before any request (not http(s), no host, a private or loopback address the
        deployment does not allow), or None."""
        ...

    def list_tools(self, endpoint: McpEndpoint, timeout_s: float) -> list[dict[str, Any]]:
        """The server's tools as MCP describes them (name, description, inputSchema, …)."""
        ...

    def call_tool(self, endpoint: McpEndpoint, name: str, arguments: dict[str, Any], timeout_s: float) -> McpToolResult:
        ...


class Cipher(Protocol):
    """Seals tenants' secrets (provider keys) at rest."""

    def encrypt(self, text: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


BUILTIN_FACTORY = "Builtin"  # the provider name of the models this deployment ships (the local embedder)


@dataclass(frozen=True)
class ModelConfig:
    """What calls one model: the factory (provider) and the tenant's key and base URL for it."""

    factory: str
    instance: str
    model_name: str
    model_type: str
    api_key: str
    base_url: str
    max_tokens: int = 8192
    region: str = ""

    @property
    def builtin(self) -> bool:
        return self.factory == BUILTIN_FACTORY


class ModelFactory(Protocol):
    """Builds model clients: the deployment's own models (settings) and the ones a tenant's provider config names."""

    def embedding_models(self) -> set[str]: ...  # model@factory names the deployment embeds with itself

    def embedder_for(self, model_id: str) -> Embedder: ...  # one of embedding_models()

    def embedder_of(self, config: ModelConfig) -> Embedder: ...

    def chat_model_of(self, config: ModelConfig) -> ChatModel: ...

    def reranker_of(self, config: ModelConfig) -> Reranker: ...

    def is_provider(self, factory: str) -> bool: ...  # a factory of the provider catalogue

    @property
    def deployment_chat_model(self) -> ChatModel | None: ...  # LLM_BASE_URL's model; None: answers are extractive

    @property
    def deployment_reranker(self) -> Reranker | None: ...  # RERANK_BASE_URL's model, if any
