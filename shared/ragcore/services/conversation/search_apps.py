"""Search apps: a saved retrieval + answer configuration over datasets, asked through /searches/{id}/completions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import ChatModel, ListQuery, MetadataStore
from ragcore.services.common import REST_API_MAX_IDS, claim_free_name, public, rest_api_page, stamp_new, stamp_update
from ragcore.services.ingestion.term_graph import build_mind_map

KIND = kinds.SEARCH_APP
NAME_SCOPE = "search-name"
NAME_LIMIT = 255
ANSWER_CHUNKS = 12  # RAGFlow's search answers from the top 12 chunks
DEFAULT_CONFIG: dict[str, Any] = {
    "kb_ids": [], "doc_ids": [], "similarity_threshold": 0.2, "vector_similarity_weight": 0.3, "use_kg": False,
    "rerank_id": "", "top_k": 1024, "summary": False, "chat_id": "",
    "llm_setting": {"temperature": 0.1, "top_p": 0.3, "frequency_penalty": 0.7, "presence_penalty": 0.4,
                    "temperature_enabled": True, "top_p_enabled": True, "frequency_penalty_enabled": True,
                    "presence_penalty_enabled": True},
    "chat_settingcross_languages": [], "highlight": False, "keyword": False, "web_search": False,
    "related_search": False, "query_mindmap": False,
}
LIST_FIELDS = ("id", "avatar", "tenant_id", "name", "description", "created_by", "status", "update_time", "create_time")


def _missing(body: dict[str, Any], *names: str) -> None:
    absent = [n for n in names if n not in body]
    if absent:
        # RAGFlow's @validate_request joins the names with commas
        raise ApiError(RetCode.ARGUMENT_ERROR, "required argument are missing: " + ",".join(absent) + "; ")


def _valid_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ApiError(RetCode.DATA_ERROR, "Search name must be string.")
    if not name.strip():
        raise ApiError(RetCode.DATA_ERROR, "Search name can't be empty.")
    if len(name.encode("utf-8")) > NAME_LIMIT:
        raise ApiError(RetCode.DATA_ERROR, f"Search name length is {len(name)} which is large than {NAME_LIMIT}.")
    return name.strip()


class SearchAppService:
    def __init__(self, store: MetadataStore, retrieve: Callable[..., dict[str, Any]], *,
                 model_usable: Callable[[str, str], bool] = lambda tenant, llm_id: True,
                 default_llm: Callable[[str], str] = lambda tenant: "",
                 shared: Callable[[str, str], dict[str, Any] | None] = lambda tenant, dataset_id: None,
                 named_chat_model: Callable[[str, str], ChatModel | None] = lambda tenant, llm_id: None) -> None:
        self._shared = shared  # (tenant, dataset id) -> a team dataset the tenant's user may read
        self._store = store
        self._retrieve = retrieve
        self._model_usable = model_usable  # (tenant, llm_id) -> whether search_config.chat_id may name it
        self._default_llm = default_llm  # tenant -> its default chat model ("" when it has none)
        self._named_chat_model = named_chat_model  # (tenant, llm_id or "" for its default) -> the model, None: ours

    def _check_config(self, tenant: str, config: dict[str, Any]) -> None:
        """search_config.chat_id is the chat model the app answers with: refused when saved if the tenant cannot
        use it, in the words RAGFlow answers a chat's unknown llm_id."""
        chat_id = config.get("chat_id")
        if chat_id in (None, ""):
            return
        if not isinstance(chat_id, str) or not self._model_usable(tenant, chat_id):
            raise ApiError(RetCode.DATA_ERROR, f"`chat_id` {chat_id} doesn't exist")

    def chat_llm_id(self, tenant: str, search_id: str) -> str:
        """The chat model an app of the tenant's names ("" for none, or an app that is not the tenant's: RAGFlow then
        answers with the default model)."""
        item = self._store.get(KIND, tenant, search_id) if search_id else None
        return str(((item or {}).get("search_config") or {}).get("chat_id") or "")

    def chat_model(self, tenant: str, search_id: str) -> ChatModel | None:
        """The model related questions of an app use: its search_config.chat_id (else the tenant's default)."""
        return self._named_chat_model(tenant, self.chat_llm_id(tenant, search_id) if search_id else "")

    def create(self, tenant: str, body: dict[str, Any]) -> str:
        _missing(body, "name")
        name = _valid_name(body["name"])
        search_id = new_id()
        final = claim_free_name(self._store, tenant, NAME_SCOPE, name, search_id)
        description = body.get("description") or ""
        sent = body.get("search_config")
        config = {**DEFAULT_CONFIG, **(sent if isinstance(sent, dict) else {})}
        try:
            self._check_config(tenant, config)
        except ApiError:
            self._store.release(tenant, NAME_SCOPE, final.lower(), search_id)
            raise
        item = stamp_new({
            "id": search_id, "avatar": body.get("avatar") or "", "tenant_id": tenant, "name": final,
            "description": description if isinstance(description, str) else str(description), "created_by": tenant,
            "search_config": config, "status": "1",
        })
        self._store.put(KIND, tenant, item)
        return search_id

    def list(self, tenant: str, params: dict[str, Any], owner_ids: list[str]) -> dict[str, Any]:
        orderby = params.get("orderby") if params.get("orderby") in ("create_time", "update_time", "name") else "create_time"
        desc = str(params.get("desc", "true")).lower() != "false"
        page, size = rest_api_page(params)  # RAGFlow's validate_rest_api_page*: 1 / 30 by default, at most 100
        if len(owner_ids) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"owner_ids must contain at most {REST_API_MAX_IDS} IDs")
        if owner_ids and tenant not in owner_ids:  # a tenant's apps all belong to it
            return {"search_apps": [], "total": 0}
        query = ListQuery(KIND, tenant, order=str(orderby), desc=desc, name_contains=str(params.get("keywords") or ""))
        total = self._store.count(query)
        items = self._store.page(query, (page - 1) * size, size)
        return {"search_apps": [{k: it.get(k) for k in LIST_FIELDS} for it in items], "total": total}

    def get(self, tenant: str, search_id: str) -> dict[str, Any]:
        item = self._store.get(KIND, tenant, search_id)
        if item is None:
            raise ApiError(RetCode.OPERATING_ERROR, "Has no permission for this operation.")
        return public(item)

    def update(self, tenant: str, search_id: str, body: dict[str, Any]) -> dict[str, Any]:
        _missing(body, "name", "search_config")
        name = _valid_name(body["name"])
        item = self._owned(tenant, search_id)
        config = body["search_config"]
        if not isinstance(config, dict):
            raise ApiError(RetCode.DATA_ERROR, "search_config must be a JSON object")
        self._check_config(tenant, {**(item.get("search_config") or {}), **config})
        if name.lower() != item["name"].lower():
            if not self._store.claim(tenant, NAME_SCOPE, name.lower(), search_id):
                raise ApiError(RetCode.DATA_ERROR, "Duplicated search name.")
            self._store.release(tenant, NAME_SCOPE, item["name"].lower(), search_id)
        changes: dict[str, Any] = {"name": name, "search_config": {**(item.get("search_config") or {}), **config}}
        for field in ("description", "avatar"):
            if field in body:
                changes[field] = body[field]
        updated = self._store.update(KIND, tenant, search_id, stamp_update(changes))
        return public(updated or item)

    def delete(self, tenant: str, search_id: str) -> None:
        item = self._owned(tenant, search_id)
        self._store.delete(KIND, tenant, search_id)
        self._store.release(tenant, NAME_SCOPE, item["name"].lower(), search_id)

    def answer_settings(self, tenant: str, search_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """What a completion of this app retrieves with, in a chat assistant's terms."""
        _missing(body, "question")
        item = self._owned(tenant, search_id)
        return self.settings_of(tenant, item.get("search_config") or {}, body.get("kb_ids"))

    def settings_of(self, tenant: str, config: dict[str, Any], kb_ids: Any) -> dict[str, Any]:
        """An app's settings (or none) over its datasets, or else the ones the request names."""
        kb_ids = config.get("kb_ids") or kb_ids or []
        if not isinstance(kb_ids, list) or not kb_ids:
            raise ApiError(RetCode.DATA_ERROR, "`kb_ids` is required.")
        for kb_id in kb_ids:
            if not isinstance(kb_id, str) or (self._store.get(DATASET_KIND, tenant, kb_id) is None
                                              and self._shared(tenant, kb_id) is None):
                raise ApiError(RetCode.DATA_ERROR, f"You don't own the dataset {kb_id}")
        return {
            "dataset_ids": kb_ids, "top_n": ANSWER_CHUNKS,
            "similarity_threshold": config.get("similarity_threshold", 0.2),
            "vector_similarity_weight": config.get("vector_similarity_weight", 0.3),
            "top_k": config.get("top_k", 1024), "rerank_id": config.get("rerank_id") or "",
            "llm_setting": config.get("llm_setting") or {}, "prompt_config": {"quote": True},
            # the app's chat model (search_config.chat_id), else the tenant's default, with the tenant's key
            "llm_id": str(config.get("chat_id") or "") or self._default_llm(tenant),
        }

    def mind_map(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /chat/mindmap: the question at the root, a branch per document it retrieves, their key terms.

        RAGFlow asks a chat model for this tree; here it is built from the retrieved chunks, so it needs none.
        """
        _missing(body, "question", "kb_ids")
        question, kb_ids = body["question"], body["kb_ids"]
        if not isinstance(question, str) or not question.strip():
            raise ApiError(RetCode.ARGUMENT_ERROR, "`question` is required.")
        config: dict[str, Any] = {}
        if body.get("search_id"):
            config = self._owned(tenant, str(body["search_id"])).get("search_config") or {}
        ids = list(dict.fromkeys([*(kb_ids if isinstance(kb_ids, list) else [kb_ids]), *(config.get("kb_ids") or [])]))
        if not ids:
            raise ApiError(RetCode.DATA_ERROR, "`kb_ids` is required.")
        found = self._retrieve(
            tenant, question=question, dataset_ids=[str(i) for i in ids], page=1, page_size=ANSWER_CHUNKS,
            similarity_threshold=float(config.get("similarity_threshold", 0.2)),
            vector_similarity_weight=float(config.get("vector_similarity_weight", 0.3)),
            top_k=int(config.get("top_k", 1024)),
        )
        by_doc: dict[str, list[str]] = {}
        for chunk in found["chunks"]:
            by_doc.setdefault(str(chunk.get("document_keyword", "")), []).append(str(chunk["content"]))
        return build_mind_map(question.strip(), list(by_doc.items())) or {"id": question.strip(), "children": []}

    def _owned(self, tenant: str, search_id: str) -> dict[str, Any]:
        item = self._store.get(KIND, tenant, search_id)
        if item is None:
            raise ApiError(RetCode.AUTHENTICATION_ERROR, "no authorization")
        return item
