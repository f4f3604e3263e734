"""The embeddable bots (RAGFlow's bot_api): a chat, an agent or a search app published in a web page and called
with the tenant's beta token. Each answer comes from the same services as the API-key routes; this holds only what
the bot routes add: their access rules and messages, and how a search app's settings fill in a request."""

from __future__ import annotations

from typing import Any

from ragcore.errors import ApiError, RetCode, require_arguments
from ragcore.services.agents.service import AgentService
from ragcore.services.conversation.chats import ChatService
from ragcore.services.conversation.search_apps import SearchAppService
from ragcore.services.retrieval.service import RetrievalService

NO_CHATBOT = "Authentication error: no access to this chatbot!"
MAX_PAGE_SIZE = 100  # RAGFlow's REST_API_MAX_PAGE_SIZE


def _page_number(value: Any, default: int) -> int:
    """RAGFlow's validate_rest_api_page(_size): a bad or non-positive value is the default."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


def _number(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool):
        raise ApiError(RetCode.ARGUMENT_ERROR, f"`{name}` should be a number.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ApiError(RetCode.ARGUMENT_ERROR, f"`{name}` should be a number.") from None


class BotService:
    def __init__(self, chats: ChatService, agents: AgentService, search_apps: SearchAppService,
                 retrieval: RetrievalService) -> None:
        self._chats = chats
        self._agents = agents
        self._search_apps = search_apps
        self._retrieval = retrieval

    # ---- chatbots -----------------------------------------------------------------------------------------------
    def chatbot(self, tenant: str, dialog_id: str) -> dict[str, Any]:
        """The tenant's chat, valid (status "1"); anything else is RAGFlow's one refusal."""
        chat = self._chats.get_owned(tenant, dialog_id, NO_CHATBOT)
        if str(chat.get("status", "1")) != "1":
            raise ApiError(RetCode.DATA_ERROR, NO_CHATBOT)
        return chat

    def chatbot_info(self, tenant: str, dialog_id: str) -> dict[str, Any]:
        chat = self.chatbot(tenant, dialog_id)
        prompt = chat.get("prompt_config") or {}
        # no web search provider is offered here, so a page never shows the web-search switch
        return {"title": chat.get("name", ""), "avatar": chat.get("icon", ""), "prologue": prompt.get("prologue", ""),
                "has_tavily_key": False, "has_web_search_provider": False, "llm_id": chat.get("llm_id") or ""}

    def chatbot_session(self, tenant: str, chat: dict[str, Any], session_id: str) -> dict[str, Any]:
        """A session of this chat; an unknown one, or another chat's, is the same refusal as an unknown chat."""
        try:
            return self._chats.get_session(tenant, chat["id"], session_id)
        except ApiError:
            raise ApiError(RetCode.DATA_ERROR, NO_CHATBOT) from None

    def open_chatbot_session(self, tenant: str, chat: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """A visitor's first call: a new session that holds the chat's prologue, and the frame that shows it."""
        session = self._chats.create_session(tenant, chat["id"], {"name": "New session", "user_id": body.get("user_id") or ""})
        prologue = (chat.get("prompt_config") or {}).get("prologue", "")
        return {"answer": prologue, "reference": {}, "audio_binary": None, "id": None, "session_id": session["id"]}

    @staticmethod
    def chatbot_settings(chat: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The chat as this turn answers: a bot answers without citations unless the page asks (`quote`)."""
        prompt = {**(chat.get("prompt_config") or {}), "quote": bool(body.get("quote", False))}
        return {**chat, "prompt_config": prompt}

    # ---- agentbots ----------------------------------------------------------------------------------------------
    def agent(self, tenant: str, agent_id: str) -> dict[str, Any]:
        item = self._agents.find(tenant, agent_id)
        if item is None:
            raise ApiError(RetCode.DATA_ERROR, f"Can't find agent by ID: {agent_id}")
        return item

    def agent_inputs(self, tenant: str, agent_id: str) -> dict[str, Any]:
        agent = self.agent(tenant, agent_id)
        components = (agent.get("dsl") or {}).get("components") or {}
        begin = components.get("begin") or next(
            (c for c in components.values() if isinstance(c, dict) and (c.get("obj") or {}).get("component_name") == "Begin"), {})
        params = (begin.get("obj") or {}).get("params") or {} if isinstance(begin, dict) else {}
        return {"title": agent.get("title", ""), "avatar": agent.get("avatar"), "inputs": params.get("inputs") or {},
                "prologue": params.get("prologue", "Hi! I'm your smart assistant. What can I do for you?"),
                "mode": params.get("mode", "conversational")}

    def agent_log(self, tenant: str, agent_id: str, message_id: str) -> dict[str, Any]:
        self.agent(tenant, agent_id)
        return self._agents.trace(tenant, agent_id, message_id)

    # ---- searchbots ---------------------------------------------------------------------------------------------
    def search_config(self, tenant: str, search_id: Any) -> dict[str, Any]:
        """A search app's settings when the tenant has it, else none (RAGFlow then answers with the defaults)."""
        if not search_id or not isinstance(search_id, str):
            return {}
        try:
            return dict(self._search_apps.get(tenant, search_id).get("search_config") or {})
        except ApiError:
            return {}

    def ask_settings(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "question", "kb_ids")
        if not isinstance(body["question"], str) or not body["question"].strip():
            raise ApiError(RetCode.ARGUMENT_ERROR, "`question` is required.")
        config = self.search_config(tenant, body.get("search_id"))
        return self._search_apps.settings_of(tenant, config, body.get("kb_ids"))

    def search_detail(self, tenant: str, search_id: str | None) -> dict[str, Any]:
        if not search_id:
            raise ApiError(RetCode.ARGUMENT_ERROR, "required argument are missing: search_id; ")
        try:
            return self._search_apps.get(tenant, search_id)
        except ApiError as exc:
            raise ApiError(exc.code, exc.message, data=False) from None

    def retrieval_test(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        """RAGFlow's embedded retrieval test: its defaults (threshold 0.0), a search app's settings for what the
        request leaves out, only the tenant's own datasets."""
        require_arguments(body, "kb_id", "question")
        page = _page_number(body.get("page"), 1)
        size = _page_number(body.get("size"), 30)
        if size > MAX_PAGE_SIZE:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
        question = body["question"]
        if not isinstance(question, str):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`question` should be a string.")
        kb_ids = [body["kb_id"]] if isinstance(body["kb_id"], str) else body["kb_id"]
        if not kb_ids:
            raise ApiError(RetCode.DATA_ERROR, "Please specify dataset firstly.", data=False)
        if not isinstance(kb_ids, list) or not all(isinstance(k, str) for k in kb_ids):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`kb_id` should be a string or a list of strings.")
        threshold = _number(body, "similarity_threshold", 0.0)
        weight = _number(body, "vector_similarity_weight", 0.3)
        top_k = int(_number(body, "top_k", 1024))
        if top_k <= 0:
            raise ApiError(RetCode.DATA_ERROR, "`top_k` must be greater than 0")
        rerank_id = body.get("rerank_id") or ""
        doc_ids = body.get("doc_ids") or []
        if not isinstance(doc_ids, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`doc_ids` should be a list.")
        meta_filter = body.get("meta_data_filter") or {}
        if body.get("search_id"):
            config = self.search_config(tenant, body["search_id"])
            meta_filter = config.get("meta_data_filter") or {}
            # the app's settings fill in only what the request leaves out (or sends empty), as in RAGFlow
            threshold = threshold if body.get("similarity_threshold") else float(config.get("similarity_threshold", threshold))
            weight = weight if body.get("vector_similarity_weight") else float(config.get("vector_similarity_weight", weight))
            top_k = top_k if body.get("top_k") else int(config.get("top_k", top_k))
            rerank_id = rerank_id if body.get("rerank_id") else str(config.get("rerank_id") or "")
        if not self._retrieval.owns_datasets(tenant, kb_ids):
            raise ApiError(RetCode.OPERATING_ERROR, "Only owner of dataset authorized for this operation.", data=False)
        manual = meta_filter.get("manual") if isinstance(meta_filter, dict) and meta_filter.get("method", "manual") == "manual" else None
        found = self._retrieval.retrieve(
            tenant, question=question, dataset_ids=list(dict.fromkeys(kb_ids)), document_ids=[str(d) for d in doc_ids] or None,
            page=page, page_size=size, similarity_threshold=threshold, vector_similarity_weight=weight,
            top_k=min(top_k, 2048), rerank_id=rerank_id or None, keyword=bool(body.get("keyword", False)),
            highlight=str(body.get("highlight", False)).strip().lower() in ("true", "1"),
            metadata_condition={"logic": meta_filter.get("logic", "and"), "conditions": manual}
            if isinstance(manual, list) and manual else None,
        )
        return {**found, "labels": {}, "total": len(found["chunks"])}

    def mind_map(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        require_arguments(body, "question", "kb_ids")
        if body.get("search_id") and not self.search_config(tenant, body["search_id"]):
            body = {k: v for k, v in body.items() if k != "search_id"}  # an app the tenant lacks adds nothing
        return self._search_apps.mind_map(tenant, body)
