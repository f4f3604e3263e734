"""What our MCP endpoint's tools do for a tenant: the tool list (descriptions with the tenant's first page of
datasets and chats, never more: a host lists tools often) and each tool's call, answered as RAGFlow's MCP server
answers it (one text block holding JSON, or JSON lines for the lists).

A call's arguments are checked against the tool's input schema first; a refusal of the API underneath (an unknown
or foreign id, a bad value) becomes a ToolFailed with the API's own message, which the host shows as the tool's
error. Another tenant's ids answer exactly like unknown ones, as the API does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from jsonschema import Draft202012Validator

from ragcore.domain.datasets import ListDatasetsQuery
from ragcore.domain.documents import RUN_CODES
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.kinds import DOCUMENT as DOC_KIND
from ragcore.errors import ApiError, ProviderError
from ragcore.ports import MetadataStore
from ragcore.services.conversation.chats import ChatService
from ragcore.services.conversation.completion import CompletionService, new_message_id
from ragcore.services.knowledge.chunk_editing import ChunkService
from ragcore.services.knowledge.datasets import DatasetService
from ragcore.services.knowledge.documents import DocumentService
from ragcore.services.mcp import catalogue
from ragcore.services.retrieval.service import RetrievalService

T = TypeVar("T")
DESCRIBED = 30  # datasets (and chats) named in tools/list: one page, whatever the tenant holds
REST_MAX_PAGE = 100  # /datasets' largest page (RAGFlow's server clamps its list to it too)
SEARCHED_DATASETS = 1000  # a retrieval without dataset_ids searches at most this many of the caller's datasets
DOC_FIELDS = ("name", "location", "type", "size", "chunk_count", "create_date", "update_date", "token_count",
              "thumbnail", "dataset_id", "meta_fields")
LISTED_DOC_FIELDS = ("id", "name", "run", "progress", "progress_msg", "chunk_count", "token_count", "size", "type",
                     "create_date", "update_date", "meta_fields")
CHUNK_FIELDS = ("id", "content", "important_keywords", "questions", "available", "positions", "image_id")


class UnknownTool(Exception):
    """A tools/call naming no tool of ours (a protocol error, not a tool's failure)."""


class ToolFailed(Exception):
    """A tool's call refused or failed: the message is what the host shows."""


@dataclass(frozen=True)
class ToolboxDeps:
    store: MetadataStore
    datasets: DatasetService
    documents: DocumentService
    chunks: ChunkService
    chats: ChatService
    completion: CompletionService
    retrieval: RetrievalService
    # (tenant, dataset id, read(owner)) -> the read as the caller, or as a team dataset's owner
    read_shared: Callable[[str, str, Callable[[str], Any]], Any]
    # (tenant, dataset id) -> a team dataset the tenant's user may read, or None
    team_dataset: Callable[[str, str], dict[str, Any] | None]


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _lines(rows: list[dict[str, Any]]) -> str:
    return "\n".join(_text(r) for r in rows)


class McpToolbox:
    def __init__(self, deps: ToolboxDeps) -> None:
        self._d = deps
        self._validators = {name: Draft202012Validator(spec["inputSchema"]) for name, spec in catalogue.TOOLS.items()}
        self._calls: dict[str, Callable[[str, dict[str, Any]], str]] = {
            catalogue.RETRIEVAL: self._retrieval, catalogue.LIST_DATASETS: self._list_datasets,
            catalogue.LIST_CHATS: self._list_chats, catalogue.CHAT: self._chat,
            catalogue.LIST_DOCUMENTS: self._list_documents, catalogue.LIST_CHUNKS: self._list_chunks,
        }

    # ---- tools/list ---------------------------------------------------------------------------------
    def tools(self, tenant: str) -> list[dict[str, Any]]:
        """Every tool with its input schema; the descriptions name one page of the tenant's datasets and chats."""
        datasets, total = self._d.datasets.list(tenant, ListDatasetsQuery(page=1, page_size=DESCRIBED))
        chats, chat_total = self._d.chats.list_chats(tenant, {"page": 1, "page_size": DESCRIBED}, [])
        dataset_text = "\n" + _lines([_dataset_line(d) for d in datasets]) + _more(len(datasets), total, catalogue.LIST_DATASETS)
        chat_text = "\n" + _lines([_chat_line(c) for c in chats]) + _more(len(chats), chat_total, catalogue.LIST_CHATS)
        appended = {catalogue.RETRIEVAL: dataset_text, catalogue.LIST_DATASETS: dataset_text,
                    catalogue.LIST_CHATS: chat_text, catalogue.CHAT: chat_text}
        return [{"name": name, "description": spec["description"] + appended.get(name, ""),
                 "inputSchema": spec["inputSchema"]} for name, spec in catalogue.TOOLS.items()]

    # ---- tools/call ---------------------------------------------------------------------------------
    def call(self, tenant: str, name: str, arguments: dict[str, Any] | None) -> str:
        run = self._calls.get(name)
        if run is None:
            raise UnknownTool(f"Unknown tool: {name}")
        args = dict(arguments or {})
        errors = sorted(self._validators[name].iter_errors(args), key=lambda e: list(e.absolute_path))
        if errors:
            where = ".".join(str(p) for p in errors[0].absolute_path)
            raise ToolFailed(f"Invalid arguments for {name}: {where + ': ' if where else ''}{errors[0].message}")
        try:
            return run(tenant, args)
        except ApiError as exc:
            raise ToolFailed(exc.message) from exc
        except ProviderError as exc:
            raise ToolFailed(str(exc)) from exc

    def _retrieval(self, tenant: str, args: dict[str, Any]) -> str:
        question = str(args["question"])
        dataset_ids = list(dict.fromkeys(args.get("dataset_ids") or []))
        if not dataset_ids:  # RAGFlow's server: every dataset the caller can search
            dataset_ids = self._all_dataset_ids(tenant)
            if not dataset_ids:
                raise ToolFailed("No accessible datasets found.")
        page, page_size = int(args.get("page", 1)), int(args.get("page_size", 10))
        threshold = float(args.get("similarity_threshold", 0.2))
        weight = float(args.get("vector_similarity_weight", 0.3))
        keyword = bool(args.get("keyword", False))
        payload = {"question": question, "dataset_ids": dataset_ids, "document_ids": args.get("document_ids") or [],
                   "page": page, "page_size": page_size, "similarity_threshold": threshold,
                   "vector_similarity_weight": weight, "top_k": int(args.get("top_k", 1024)),
                   "rerank_id": args.get("rerank_id"), "keyword": keyword,
                   "metadata_condition": args.get("metadata_condition")}
        found = self._d.retrieval.retrieve_request(tenant, payload)  # /api/v1/retrieval's own checks and search
        chunks = list(found.get("chunks") or [])
        datasets = self._datasets_by_id(tenant, sorted({str(c.get("dataset_id") or c.get("kb_id")) for c in chunks}))
        documents = self._documents_by_id(tenant, datasets, chunks)
        total = int(found.get("total", len(chunks)))
        reply = {
            "chunks": [_with_names(c, datasets, documents) for c in chunks],
            "pagination": {"page": page, "page_size": page_size, "total_chunks": total,
                           "total_pages": (total + page_size - 1) // page_size},
            "query_info": {"question": question, "similarity_threshold": threshold, "vector_weight": weight,
                           "keyword_search": keyword, "dataset_count": len(dataset_ids)},
        }
        return _text(reply)

    def _list_datasets(self, tenant: str, args: dict[str, Any]) -> str:
        size = min(int(args.get("page_size", 100)), REST_MAX_PAGE)
        datasets, _ = self._d.datasets.list(tenant, ListDatasetsQuery(page=int(args.get("page", 1)), page_size=size))
        return _lines([_dataset_line(d) for d in datasets])

    def _list_chats(self, tenant: str, args: dict[str, Any]) -> str:
        chats, _ = self._d.chats.list_chats(tenant, {"page": args.get("page", 1), "page_size": args.get("page_size", 30)}, [])
        return _lines([_chat_line(c) for c in chats])

    def _chat(self, tenant: str, args: dict[str, Any]) -> str:
        chats, completion = self._d.chats, self._d.completion
        chat = chats.get_owned(tenant, str(args["chat_id"]))
        question, session_id = str(args["question"]), str(args.get("session_id") or "")
        if session_id:
            session = chats.get_session(tenant, chat["id"], session_id)
            history = [{"role": m["role"], "content": m["content"]} for m in session.get("messages", [])
                       if m.get("role") in ("user", "assistant") and m.get("id")]
        else:
            history = []
            session_id = chats.create_session(tenant, chat["id"], {"name": question[:255] or "New session"})["id"]
        turn = completion.prepare(tenant, chat, question, history)
        answer, _ = completion.complete(turn)
        msg_id = new_message_id()
        completion.remember(tenant, session_id, turn, answer, msg_id)
        return _text({"answer": answer, "reference": turn.reference, "session_id": session_id, "chat_id": chat["id"],
                      "id": msg_id})

    def _list_documents(self, tenant: str, args: dict[str, Any]) -> str:
        dataset_id = str(args["dataset_id"])
        params: dict[str, Any] = {"page": args.get("page", 1), "page_size": args.get("page_size", 30),
                                  "keywords": args.get("keywords") or ""}
        multi = {"run": [args["run"]] if args.get("run") else []}
        docs, total = self._d.read_shared(tenant, dataset_id, lambda owner: self._d.documents.list(owner, dataset_id, params, multi))
        page, size = int(params["page"]), int(params["page_size"])
        return _text({"documents": [{k: d.get(k) for k in LISTED_DOC_FIELDS} for d in docs],
                      "pagination": {"page": page, "page_size": size, "total": total, "total_pages": (total + size - 1) // size}})

    def _list_chunks(self, tenant: str, args: dict[str, Any]) -> str:
        dataset_id, document_id = str(args["dataset_id"]), str(args["document_id"])
        params: dict[str, Any] = {"page": args.get("page", 1), "page_size": args.get("page_size", 30),
                                  "keywords": args.get("keywords") or ""}
        found = self._d.read_shared(tenant, dataset_id, lambda owner: self._d.chunks.list(owner, dataset_id, document_id, params))
        doc = dict(found.get("doc") or {})
        doc["run"] = RUN_CODES.get(str(doc.get("run")), doc.get("run"))  # the chunk list's code, as its name
        page, size, total = int(params["page"]), int(params["page_size"]), int(found.get("total", 0))
        return _text({"document": {k: doc.get(k) for k in ("id", "name", "run", "progress", "chunk_count", "meta_fields")},
                      "chunks": [{k: c.get(k) for k in CHUNK_FIELDS if k in c} for c in found.get("chunks") or []],
                      "pagination": {"page": page, "page_size": size, "total": total, "total_pages": (total + size - 1) // size}})

    # ---- reads --------------------------------------------------------------------------------------
    def _all_dataset_ids(self, tenant: str) -> list[str]:
        ids: list[str] = []
        for page in range(1, SEARCHED_DATASETS // REST_MAX_PAGE + 1):
            rows, total = self._d.datasets.list(tenant, ListDatasetsQuery(page=page, page_size=REST_MAX_PAGE))
            ids += [str(r["id"]) for r in rows]
            if not rows or len(ids) >= total:
                break
        return list(dict.fromkeys(ids))

    def _datasets_by_id(self, tenant: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        found = {d["id"]: d for d in self._d.store.get_many(DATASET_KIND, tenant, ids)}
        for missing in (i for i in ids if i not in found):
            shared = self._d.team_dataset(tenant, missing)
            if shared is not None:
                found[missing] = shared
        return found

    def _documents_by_id(self, tenant: str, datasets: dict[str, dict[str, Any]], chunks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The page's documents, each read as its dataset's owner (a team dataset's documents are its owner's)."""
        by_owner: dict[str, set[str]] = {}
        for c in chunks:
            owner = str((datasets.get(str(c.get("dataset_id"))) or {}).get("tenant_id") or tenant)
            by_owner.setdefault(owner, set()).add(str(c["document_id"]))
        return {d["id"]: d for owner, ids in by_owner.items() for d in self._d.store.get_many(DOC_KIND, owner, sorted(ids))}


def _more(shown: int, total: int, tool: str) -> str:
    return f"\n({shown} of {total} shown; call {tool} with page=2 and up for the rest.)" if total > shown else ""


def _dataset_line(d: dict[str, Any]) -> dict[str, Any]:
    return {"description": d.get("description") or "", "id": d["id"], "name": d.get("name", "")}


def _chat_line(c: dict[str, Any]) -> dict[str, Any]:
    return {"id": c["id"], "name": c.get("name", ""), "description": c.get("description") or ""}


def _with_names(chunk: dict[str, Any], datasets: dict[str, dict[str, Any]], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """RAGFlow's server's per-chunk fields: every /retrieval field, the dataset's name, the document's name and,
    for a document still there, its metadata."""
    out = dict(chunk)
    dataset = datasets.get(str(chunk.get("dataset_id") or chunk.get("kb_id")))
    out["dataset_name"] = dataset.get("name", "Unknown") if dataset else "Unknown"
    out["document_name"] = chunk.get("document_keyword", "")
    doc = documents.get(str(chunk.get("document_id")))
    if doc is not None:
        out["document_metadata"] = {"document_id": doc["id"], **{k: _doc_field(doc, k) for k in DOC_FIELDS}}
    return out


def _doc_field(doc: dict[str, Any], key: str) -> Any:
    value = doc.get(key)
    if key == "meta_fields":
        return dict(value or {})
    if key in ("location", "type", "create_date", "update_date", "thumbnail"):
        return value if value is not None else ""
    return value
