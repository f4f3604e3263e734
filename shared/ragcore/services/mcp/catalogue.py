"""The tools our MCP endpoint offers: RAGFlow's three (`ragflow_retrieval`, `ragflow_list_datasets`,
`ragflow_list_chats`, with the names, properties, defaults and bounds of RAGFlow's MCP server, so a host set up for
it works unchanged) and ours (`metadata_condition` on retrieval, asking a chat assistant, a dataset's documents, a
document's chunks). Plain data: the descriptions a tenant sees get its first page of datasets and chats appended
(toolbox.py)."""

from __future__ import annotations

from typing import Any

RETRIEVAL = "ragflow_retrieval"
LIST_DATASETS = "ragflow_list_datasets"
LIST_CHATS = "ragflow_list_chats"
CHAT = "ragflow_chat"
LIST_DOCUMENTS = "ragflow_list_documents"
LIST_CHUNKS = "ragflow_list_chunks"


def _page(default_size: int, max_size: int, what: str) -> dict[str, Any]:
    return {
        "page": {"type": "integer", "description": "Page number", "default": 1, "minimum": 1},
        "page_size": {"type": "integer", "description": f"{what} per page", "default": default_size, "minimum": 1,
                      "maximum": max_size},
    }


_STRINGS = {"type": "array", "items": {"type": "string"}}
_METADATA_CONDITION = {
    "type": "object",
    "description": "Optional filter on the documents' metadata, as /api/v1/retrieval takes it: "
                   '{"logic": "and"|"or", "conditions": [{"name": key, "comparison_operator": "is"|"not is"|'
                   '"contains"|"not contains"|"in"|"not in"|"start with"|"end with"|"empty"|"not empty"|"="|"≠"|'
                   '">"|"<"|"≥"|"≤", "value": ...}]}.',
    "properties": {
        "logic": {"type": "string", "enum": ["and", "or"], "default": "and"},
        "conditions": {"type": "array", "items": {"type": "object"}},
    },
}

RETRIEVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "dataset_ids": {**_STRINGS, "description": "Optional array of dataset IDs to search. If not provided or empty, "
                                                   "all datasets will be searched."},
        "document_ids": {**_STRINGS, "description": "Optional array of document IDs to search within."},
        "question": {"type": "string", "description": "The question or query to search for."},
        "page": {"type": "integer", "description": "Page number for pagination", "default": 1, "minimum": 1},
        "page_size": {"type": "integer", "description": "Number of results to return per page (default: 10, max "
                                                         "recommended: 50 to avoid token limits)",
                      "default": 10, "minimum": 1, "maximum": 100},
        "similarity_threshold": {"type": "number", "description": "Minimum similarity threshold for results",
                                 "default": 0.2, "minimum": 0.0, "maximum": 1.0},
        "vector_similarity_weight": {"type": "number", "description": "Weight for vector similarity vs term similarity",
                                     "default": 0.3, "minimum": 0.0, "maximum": 1.0},
        "keyword": {"type": "boolean", "description": "Enable keyword-based search", "default": False},
        "top_k": {"type": "integer", "description": "Maximum results to consider before ranking", "default": 1024,
                  "minimum": 1, "maximum": 1024},
        "rerank_id": {"type": "string", "description": "Optional reranking model identifier"},
        "force_refresh": {"type": "boolean", "description": "Accepted for RAGFlow's hosts; dataset and document "
                                                            "metadata is always read fresh here.", "default": False},
        "metadata_condition": _METADATA_CONDITION,
    },
    "required": ["question"],
}

TOOLS: dict[str, dict[str, Any]] = {
    RETRIEVAL: {
        "description": "Retrieve relevant chunks from the RAGFlow retrieve interface based on the question. You can "
                       "optionally specify dataset_ids to search only specific datasets, or omit dataset_ids entirely "
                       "to search across ALL available datasets. You can also optionally specify document_ids to "
                       "search within specific documents, and metadata_condition to search only documents whose "
                       "metadata matches. Below is the list of available datasets, including their descriptions and "
                       "IDs:",
        "inputSchema": RETRIEVAL_SCHEMA,
    },
    LIST_DATASETS: {
        "description": "List all accessible datasets (knowledge bases) in RAGFlow. Returns dataset IDs, names, and "
                       "descriptions, one JSON object per line. Use this tool to discover which datasets are "
                       "available before performing retrieval.",
        "inputSchema": {"type": "object", "properties": _page(100, 1000, "Results")},
    },
    LIST_CHATS: {
        "description": "List all accessible chat assistants in RAGFlow. Returns chat assistant IDs, names, and "
                       "descriptions, one JSON object per line. Use this tool to discover available chat assistants "
                       "that can be used for conversations (ragflow_chat).",
        "inputSchema": {"type": "object", "properties": _page(30, 100, "Results")},
    },
    CHAT: {
        "description": "Ask a chat assistant a question. It searches its datasets and answers with citations; the "
                       "reply holds the answer, the cited chunks (reference) and the session id to pass on for a "
                       "follow-up question.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "chat_id": {"type": "string", "description": "The chat assistant's ID (see ragflow_list_chats)."},
                "question": {"type": "string", "description": "The question to ask."},
                "session_id": {"type": "string", "description": "Optional: continue this session (its earlier "
                                                                "messages are the conversation). Omit to start one."},
            },
            "required": ["chat_id", "question"],
        },
    },
    LIST_DOCUMENTS: {
        "description": "List a dataset's documents with their parse status (run: UNSTART, RUNNING, CANCEL, DONE, "
                       "FAIL), progress, chunk count and metadata.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "dataset_id": {"type": "string", "description": "The dataset's ID."},
                "keywords": {"type": "string", "description": "Optional: only documents whose name contains this."},
                "run": {"type": "string", "enum": ["UNSTART", "RUNNING", "CANCEL", "DONE", "FAIL"],
                        "description": "Optional: only documents in this parse status."},
                **_page(30, 100, "Documents"),
            },
            "required": ["dataset_id"],
        },
    },
    LIST_CHUNKS: {
        "description": "Read one document: its chunks in reading order, a page at a time, with the document's name "
                       "and parse status.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "dataset_id": {"type": "string", "description": "The dataset's ID."},
                "document_id": {"type": "string", "description": "The document's ID (see ragflow_list_documents)."},
                "keywords": {"type": "string", "description": "Optional: only chunks matching these keywords."},
                **_page(30, 100, "Chunks"),
            },
            "required": ["dataset_id", "document_id"],
        },
    },
}
