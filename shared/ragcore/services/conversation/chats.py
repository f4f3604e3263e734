"""Chat assistants and their sessions (message history, feedback)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.domain.chats import DEFAULT_SIMILARITY_THRESHOLD, default_llm_setting, default_prompt_config
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import ListQuery, MetadataStore
from ragcore.services.common import (
    body_for_get,
    bulk_outcome,
    duplicate_messages,
    page_items,
    rest_api_page,
    stamp_new,
    stamp_update,
)
from ragcore.services.system.conversation_stats import ConversationStats

KIND = kinds.CHAT
SESSION = kinds.SESSION
NAME_SCOPE = "chat-name"
LLM_KEYS = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens", "model_type")
RETRIEVAL_KEYS = ("similarity_threshold", "vector_similarity_weight", "top_n", "top_k", "rerank_id")


def _err(message: str, code: int = RetCode.DATA_ERROR) -> ApiError:
    return ApiError(code, message)


def _number(value: Any, name: str, *, lo: float, hi: float, integer: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise _err(f"`{name}` should be a {'integer' if integer else 'number'}", RetCode.ARGUMENT_ERROR)
    if not lo <= value <= hi:
        raise _err(f"`{name}` should be between {lo:g} and {hi:g}", RetCode.ARGUMENT_ERROR)
    return value


class ChatService:
    def __init__(self, store: MetadataStore, *, llm_ids: set[str], default_llm_id: str, rerank_available: bool,
                 background: Callable[[dict[str, Any]], None], stats: ConversationStats | None = None,
                 tenant_model: Callable[[str, str, str], bool] | None = None,
                 tenant_default: Callable[[str, str], str] | None = None,
                 shared: Callable[[str, str], dict[str, Any] | None] | None = None) -> None:
        self._shared = shared  # (tenant, dataset id) -> a team dataset the tenant's user may read (or None)
        self._tenant_model = tenant_model  # (tenant, type, name) -> whether the tenant configured that model
        self._tenant_default = tenant_default  # (tenant, type) -> the tenant's default model of that type, or ""
        self._background = background  # queues work about everything under a deleted item (its sessions)
        self._stats = stats  # /system/stats' daily counters
        self._store = store
        self._llm_ids = llm_ids
        self._default_llm = default_llm_id
        self._rerank = rerank_available

    # ---- assistants ---------------------------------------------------------------------------
    def get_owned(self, tenant: str, chat_id: str, missing: str | None = None) -> dict[str, Any]:
        """The tenant's chat; a missing or foreign one answers RAGFlow's words for the route (`missing`, a data
        error) or, by default, its "no authorization"."""
        item = self._store.get(KIND, tenant, chat_id) if isinstance(chat_id, str) else None
        if item is None:
            if missing is not None:
                raise _err(missing, RetCode.DATA_ERROR)
            raise _err("no authorization", RetCode.AUTHENTICATION_ERROR)
        return item

    def view(self, tenant: str, item: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in item.items() if not k.startswith("_")}
        names = []
        for ds_id in item.get("dataset_ids", []):
            ds = self._dataset(tenant, ds_id)
            if ds is not None:
                names.append(ds["name"])
        out["kb_names"] = names
        return out

    def _dataset(self, tenant: str, dataset_id: str) -> dict[str, Any] | None:
        """The tenant's dataset, or a team dataset of a team its user joined (RAGFlow's `accessible`)."""
        found = self._store.get(DATASET_KIND, tenant, dataset_id)
        if found is None and self._shared is not None:
            found = self._shared(tenant, dataset_id)
        return found

    def _datasets(self, tenant: str, dataset_ids: Any) -> list[str]:
        if dataset_ids is None:
            return []
        if not isinstance(dataset_ids, list):
            raise _err("`dataset_ids` should be a list.")
        models = set()
        wanted = [ds_id for ds_id in dataset_ids if ds_id]
        for ds_id in wanted:
            ds = self._dataset(tenant, ds_id) if isinstance(ds_id, str) else None
            if ds is None:
                raise _err(f"You don't own the dataset {ds_id}")
            if not ds.get("chunk_count"):  # RAGFlow refuses a dataset with nothing to retrieve yet
                raise _err(f"The dataset {ds_id} doesn't own parsed file")
            models.add(ds.get("embedding_model"))
        if len(models) > 1:
            raise _err("Datasets use different embedding models.")
        return list(dict.fromkeys(wanted))

    @staticmethod
    def _name(name: Any, *, required: bool) -> str:
        if not isinstance(name, str):
            raise _err("`name` is required" if name is None else "chat name must be a string")
        name = name.strip()
        if not name:
            raise _err("`name` is required" if required else "`name` cannot be empty")
        size = len(name.encode("utf-8"))
        if size > 255:
            raise _err(f"chat name length is {size} which is larger than 255")
        return name

    def _apply(self, tenant: str, item: dict[str, Any], payload: dict[str, Any], *, creating: bool, patch: bool = False) -> None:
        if payload.get("tenant_id") and not patch:
            raise _err("`tenant_id` must not be provided")
        if creating or ("name" in payload and not (patch and payload["name"] is None)):
            item["name"] = self._name(payload.get("name"), required=not patch)
        if "icon" in payload or "avatar" in payload:
            item["icon"] = payload.get("icon", payload.get("avatar")) or ""
        if "description" in payload:
            item["description"] = payload["description"]
        if "dataset_ids" in payload:
            item["dataset_ids"] = self._datasets(tenant, payload["dataset_ids"])
        if "llm_id" in payload and payload["llm_id"] is not None:
            llm_id = str(payload["llm_id"])
            self.check_llm(tenant, llm_id)
            item["llm_id"] = llm_id
        setting = payload.get("llm_setting", payload.get("llm"))
        if setting is not None:
            if not isinstance(setting, dict):
                raise _err("`llm_setting` should be an object.")
            merged = dict(item.get("llm_setting") or {})
            for key, value in setting.items():
                if key in ("temperature", "top_p", "presence_penalty", "frequency_penalty") and value is not None:
                    hi = 2.0 if key == "temperature" else 1.0
                    lo = -2.0 if key.endswith("penalty") else 0.0
                    merged[key] = _number(value, key, lo=lo, hi=max(hi, 2.0 if key.endswith("penalty") else hi))
                elif key == "max_tokens" and value is not None:
                    merged[key] = _number(value, key, lo=1, hi=1_000_000, integer=True)
                elif key == "model_name" and value:
                    item["llm_id"] = str(value)
                else:
                    merged[key] = value
            item["llm_setting"] = merged
        prompt = payload.get("prompt_config", payload.get("prompt"))
        if prompt is not None:
            if not isinstance(prompt, dict):
                raise _err("`prompt_config` should be an object.")
            merged_prompt = dict(item.get("prompt_config") or {})
            aliases = {"prompt": "system", "opener": "prologue", "show_quote": "quote", "variables": "parameters"}
            for key, value in prompt.items():
                target = aliases.get(key, key)
                if key in RETRIEVAL_KEYS or key == "keywords_similarity_weight":
                    payload = {**payload, key: value}
                    continue
                merged_prompt[target] = value
            self._check_prompt(merged_prompt)
            item["prompt_config"] = merged_prompt
        for key in RETRIEVAL_KEYS:
            if key in payload and payload[key] is not None:
                value = payload[key]
                if key == "similarity_threshold" or key == "vector_similarity_weight":
                    item[key] = _number(value, key, lo=0.0, hi=1.0)
                elif key in ("top_n", "top_k"):
                    item[key] = _number(value, key, lo=0, hi=2048 if key == "top_n" else 100_000, integer=True)
                elif key == "rerank_id":
                    if value and not self._rerank and not self._configured(tenant, "rerank", str(value)):
                        raise _err(f"`rerank_id` {value} doesn't exist")
                    item[key] = value or ""
        if payload.get("keywords_similarity_weight") is not None:
            item["vector_similarity_weight"] = 1 - float(_number(payload["keywords_similarity_weight"], "keywords_similarity_weight", lo=0.0, hi=1.0))

    def check_llm(self, tenant: str, llm_id: str, code: int = RetCode.DATA_ERROR) -> None:
        """A chat model the tenant can use (added under a provider, or one the deployment runs)."""
        if not self._configured(tenant, "chat", llm_id) and llm_id not in self._llm_ids \
                and llm_id.split("@")[0] not in {m.split("@")[0] for m in self._llm_ids}:
            raise _err(f"`llm_id` {llm_id} doesn't exist", code)

    def _configured(self, tenant: str, kind: str, name: str) -> bool:
        return bool(self._tenant_model and self._tenant_model(tenant, kind, name))

    def _check_prompt(self, prompt: dict[str, Any]) -> None:
        """RAGFlow only refuses a parameter key given twice; unused parameters are allowed."""
        params = prompt.get("parameters")
        if not isinstance(params, list):
            return
        seen: set[Any] = set()
        for p in params:
            key = p.get("key") if isinstance(p, dict) else None
            if key is None:
                continue
            if key in seen:
                raise _err(f"`parameters` contains duplicate key: {key}")
            seen.add(key)

    @staticmethod
    def _default_parameters(item: dict[str, Any]) -> None:
        """A chat over datasets whose system prompt has {knowledge} and no parameters gets the knowledge one."""
        prompt = item.get("prompt_config") or {}
        if item.get("dataset_ids") and not prompt.get("parameters") and "{knowledge}" in str(prompt.get("system") or ""):
            prompt["parameters"] = [{"key": "knowledge", "optional": False}]

    def create(self, tenant: str, payload: dict[str, Any]) -> dict[str, Any]:
        chat_id = new_id()
        item: dict[str, Any] = {
            "id": chat_id, "name": "", "icon": "", "description": "A helpful Assistant", "dataset_ids": [],
            "llm_id": (self._tenant_default and self._tenant_default(tenant, "chat")) or self._default_llm, "llm_setting": default_llm_setting(), "prompt_config": default_prompt_config(),
            "similarity_threshold": DEFAULT_SIMILARITY_THRESHOLD, "vector_similarity_weight": 0.3, "top_n": 6, "top_k": 1024, "rerank_id": "",
            "language": "English", "prompt_type": "simple", "status": "1", "tenant_id": tenant,
        }
        self._apply(tenant, item, payload, creating=True)
        self._default_parameters(item)
        if not self._store.claim(tenant, NAME_SCOPE, item["name"].lower(), chat_id):
            raise _err("duplicated chat name in creating chat")
        self._store.put(KIND, tenant, stamp_new(item))
        return self.view(tenant, item)

    def update(self, tenant: str, chat_id: str, payload: dict[str, Any], *, patch: bool = False) -> dict[str, Any]:
        """PUT (`patch` false) and PATCH differ only in how an empty name is worded and that PATCH ignores `tenant_id`."""
        item = copy.deepcopy(self.get_owned(tenant, chat_id))
        old_name = item["name"]
        self._apply(tenant, item, payload, creating=False, patch=patch)
        if item["name"].lower() != old_name.lower():
            if not self._store.claim(tenant, NAME_SCOPE, item["name"].lower(), chat_id):
                raise _err("duplicated chat name")
            self._store.release(tenant, NAME_SCOPE, old_name.lower(), chat_id)
        updated = self._store.update(KIND, tenant, chat_id, stamp_update({k: v for k, v in item.items() if k != "id"}))
        if updated is None:
            raise _err(f"You don't own the chat {chat_id}")
        return self.view(tenant, updated)

    def list_chats(self, tenant: str, params: dict[str, Any], owner_ids: list[str]) -> tuple[list[dict[str, Any]], int]:
        orderby = params.get("orderby") or "create_time"
        if orderby not in ("create_time", "update_time", "name"):
            raise _err(f"invalid orderby field: {orderby}", RetCode.ARGUMENT_ERROR)
        desc = str(params.get("desc", "true")).lower() not in ("false", "0")
        page, page_size = rest_api_page(params)
        if owner_ids and tenant not in owner_ids:
            return [], 0
        exact = {f: params[f] for f in ("id", "name") if params.get(f)}
        if exact:  # an exact id or name lookup ignores keywords, as in RAGFlow; it names at most one chat
            found = self._store.get(KIND, tenant, str(exact["id"])) if "id" in exact else None
            if "name" in exact:
                owner = self._store.owner(tenant, NAME_SCOPE, str(exact["name"]).lower())
                by_name = self._store.get(KIND, tenant, owner) if owner else None
                found = by_name if "id" not in exact or (by_name and found and by_name["id"] == found["id"]) else None
            items = [found] if found is not None and all(found[f] == v for f, v in exact.items()) else []
            return [self.view(tenant, it) for it in page_items(items, page, page_size)], len(items)
        query = ListQuery(KIND, tenant, order=str(orderby), desc=desc, name_contains=str(params.get("keywords") or ""))
        items = self._store.page(query, (page - 1) * page_size, page_size)
        return [self.view(tenant, it) for it in items], self._store.count(query)

    def delete(self, tenant: str, body: Any) -> tuple[dict[str, Any] | bool, str | None]:
        """RAGFlow's bulk delete: what can be deleted is, the rest is reported. Returns (data, message)."""
        payload = body_for_get(body)
        ids = payload.get("ids")
        if ids is not None and not isinstance(ids, list):
            raise _err("`ids` should be a list.", RetCode.ARGUMENT_ERROR)
        if not ids:
            if payload.get("delete_all") is True:
                ids = [it["id"] for batch in self._store.batches(KIND, tenant, "") for it in batch]
                if not ids:
                    return {}, None
            elif payload.get("chat_id"):  # the older body form: one chat by `chat_id`
                self._delete_one(tenant, self.get_owned(tenant, str(payload["chat_id"])))
                return True, None
            else:
                return {}, None
        unique, duplicates = duplicate_messages([str(i) for i in ids], "chat")
        errors: list[str] = []
        deleted = 0
        for chat_id in unique:
            item = self._store.get(KIND, tenant, chat_id)
            if item is None:
                errors.append(f"Chat({chat_id}) not found.")
                continue
            self._delete_one(tenant, item)
            deleted += 1
        return bulk_outcome("chats", deleted, errors + duplicates)

    def _delete_one(self, tenant: str, item: dict[str, Any]) -> None:
        # its sessions are unreachable once the chat is gone (every session read checks its chat)
        self._store.delete(KIND, tenant, item["id"])
        self._store.release(tenant, NAME_SCOPE, item["name"].lower(), item["id"])
        self._background({"type": "purge_children", "tenant": tenant, "kind": SESSION, "parent": item["id"]})

    # ---- sessions -----------------------------------------------------------------------------
    def session_view(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith("_")}

    def create_session(self, tenant: str, chat_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        chat = self.get_owned(tenant, chat_id)
        name = payload.get("name", "New session")
        if not isinstance(name, str) or not name.strip():
            raise _err("`name` can not be empty")
        prologue = (chat.get("prompt_config") or {}).get("prologue") or ""
        item = stamp_new({
            "id": new_id(), "chat_id": chat_id, "name": name.strip()[:255], "user_id": str(payload.get("user_id") or ""),
            "messages": [{"role": "assistant", "content": prologue}] if prologue else [], "reference": [],
        })
        self._store.put(SESSION, tenant, item, parent=chat_id)
        if self._stats is not None:
            self._stats.opened(tenant, "chat", item)
        return self.session_view(item)

    def channel_session(self, tenant: str, chat_id: str, session_id: str, name: str) -> dict[str, Any]:
        """The session of one end-user chat on a chat channel (RAGFlow's get_or_create_for_channel): its id is fixed
        by the channel, so every message continues it; created empty (no prologue) by the first."""
        found = self._store.get(SESSION, tenant, session_id)
        if found is not None:
            return found
        item = stamp_new({"id": session_id, "chat_id": chat_id, "name": name[:255], "user_id": "", "messages": [],
                          "reference": []})
        if not self._store.put(SESSION, tenant, item, parent=chat_id, if_absent=True):
            return self._store.get(SESSION, tenant, session_id) or item  # a concurrent first message made it
        if self._stats is not None:
            self._stats.opened(tenant, "chat", item)
        return item

    def get_session(self, tenant: str, chat_id: str, session_id: str) -> dict[str, Any]:
        self.get_owned(tenant, chat_id)
        item = self._store.get(SESSION, tenant, session_id) if isinstance(session_id, str) else None
        if item is None or item.get("chat_id") != chat_id:
            raise _err("Session not found!")
        return item

    def list_sessions(self, tenant: str, chat_id: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.get_owned(tenant, chat_id)
        page, page_size = rest_api_page(params)
        orderby = params.get("orderby") or "create_time"
        if orderby not in ("create_time", "update_time", "name"):
            raise _err(f"invalid orderby field: {orderby}", RetCode.ARGUMENT_ERROR)
        desc = str(params.get("desc", "true")).lower() not in ("false", "0")
        if params.get("id"):  # one session, looked up
            item = self._store.get(SESSION, tenant, str(params["id"]))
            items = [item] if item is not None and item.get("chat_id") == chat_id and all(
                str(item.get(f)) == str(params[f]) for f in ("name", "user_id") if params.get(f)) else []
            return [self.session_view(it) for it in page_items(items, page, page_size)]
        where = {f: [str(params[f])] for f in ("name", "user_id") if params.get(f)}
        query = ListQuery(SESSION, tenant, chat_id, order=str(orderby), desc=desc, where=where)
        return [self.session_view(it) for it in self._store.page(query, (page - 1) * page_size, page_size)]

    def update_session(self, tenant: str, chat_id: str, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.get_session(tenant, chat_id, session_id)
        # RAGFlow's update_session: the conversation's history is not the client's to rewrite; its owner and
        # chat (id, chat_id, dialog_id, user_id) are ignored, not errors
        if "message" in payload or "messages" in payload:
            raise _err("`messages` cannot be changed")
        if "reference" in payload:
            raise _err("`reference` cannot be changed")
        changes: dict[str, Any] = {}
        if "name" in payload:
            name = payload["name"]
            if not isinstance(name, str) or not name.strip():
                raise _err("`name` can not be empty")
            changes["name"] = name.strip()[:255]
        updated = self._store.update(SESSION, tenant, session_id, stamp_update(changes))
        assert updated is not None
        return self.session_view(updated)

    def delete_sessions(self, tenant: str, chat_id: str, body: Any) -> tuple[dict[str, Any] | bool, str | None]:
        """RAGFlow's answer: true when all went, a partial success listing what did not, an error when none did."""
        self.get_owned(tenant, chat_id)
        payload = body_for_get(body)
        ids = payload.get("ids")
        if ids is not None and not isinstance(ids, list):
            raise _err("`ids` should be a list.", RetCode.ARGUMENT_ERROR)
        if not ids:
            if payload.get("delete_all") is True and self._store.delete_under(SESSION, tenant, chat_id):
                return True, None
            return {}, None
        unique, duplicates = duplicate_messages([str(i) for i in ids], "session")
        errors: list[str] = []
        deleted = 0
        for sid in unique:
            item = self._store.get(SESSION, tenant, sid)
            if item is None or item.get("chat_id") != chat_id:
                errors.append(f"The chat doesn't own the session {sid}")
                continue
            self._store.delete(SESSION, tenant, sid)
            deleted += 1
        data, message = bulk_outcome("sessions", deleted, errors + duplicates)
        return (data if message else True), message

    def delete_message(self, tenant: str, chat_id: str, session_id: str, message_id: str) -> dict[str, Any]:
        """RAGFlow's delete: the question and answer sharing the id go, with the turn's reference; an id the session
        does not hold changes nothing and answers the session."""
        session = self.get_session(tenant, chat_id, session_id)
        before = session.get("messages", [])
        first = next((i for i, m in enumerate(before) if m.get("id") == message_id), None)
        if first is None:
            return self.session_view(session)
        messages = [m for m in before if m.get("id") != message_id]
        references = list(session.get("reference") or [])
        if 0 <= (first - 1) // 2 < len(references):
            references.pop((first - 1) // 2)
        updated = self._store.update(SESSION, tenant, session_id, stamp_update({"messages": messages, "reference": references}))
        assert updated is not None
        return self.session_view(updated)

    def set_feedback(self, tenant: str, chat_id: str, session_id: str, message_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        session = self.get_session(tenant, chat_id, session_id)
        thumbup = payload.get("thumbup")
        if not isinstance(thumbup, bool):
            raise _err("thumbup must be a boolean")
        messages = session.get("messages", [])
        for m in messages:
            if m.get("id") == message_id and m.get("role") == "assistant":
                if self._stats is not None:
                    self._stats.thumbed(tenant, "chat", session, int(thumbup) - int(m.get("thumbup") is True))
                m["thumbup"] = thumbup
                if payload.get("feedback") is not None:
                    m["feedback"] = str(payload["feedback"])
                break
        else:
            return self.session_view(session)  # RAGFlow answers the unchanged session
        updated = self._store.update(SESSION, tenant, session_id, stamp_update({"messages": messages}))
        assert updated is not None
        return self.session_view(updated)

    def append_turn(self, tenant: str, session_id: str, user: dict[str, Any], assistant: dict[str, Any], *,
                    tokens: int = 0, duration: float = 0.0) -> None:
        session = self._store.get(SESSION, tenant, session_id)
        if session is None:  # deleted while answering: nothing to keep
            return
        messages = session.get("messages", []) + [user, assistant]
        references = session.get("reference", []) + [assistant.get("reference") or {}]
        self._store.update(SESSION, tenant, session_id, stamp_update({"messages": messages, "reference": references}))
        if self._stats is not None:
            self._stats.answered(tenant, "chat", session, tokens=tokens, duration=duration)


def message_id() -> str:
    return str(uuid.uuid4())

