"""Agents (canvas DSLs) and their sessions: create, list, get, update, delete, with RAGFlow's messages.

Another tenant's agent answers exactly like one that does not exist (RAGFlow's permission wording, which it uses
for both). A session keeps the DSL it started with and the conversation; each run's trace is stored by message id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import ListQuery, MetadataStore
from ragcore.services.agents.engine.debug import reset_dsl
from ragcore.services.agents.engine.dsl import DslError
from ragcore.services.agents.engine.validate import validate
from ragcore.services.agents.versions import VERSION, AgentVersions, version_title
from ragcore.services.common import REST_API_MAX_IDS, page_items, rest_api_page, stamp_new, stamp_update
from ragcore.services.system.conversation_stats import ConversationStats

KIND = kinds.AGENT
SESSION = kinds.AGENT_SESSION
TRACE = kinds.AGENT_TRACE
TITLE_SCOPE = "agent_title"
# agent id → its tenant, for the one route without an API key (the webhook); claimed on each save
WEBHOOK_LOG = kinds.WEBHOOK_LOG  # test webhook calls' events (services/agent_webhooks.py)
WEBHOOK_RATE = kinds.WEBHOOK_RATE
OWNERS_TENANT = "_agents"
OWNER_SCOPE = "agent_owner"
NO_ACCESS = "Make sure you have permission to access the agent."
NOT_OWNER = "Only the owner of the agent is authorized for this operation."
DEFAULT_PROLOGUE = "Hi! I'm your assistant. What can I do for you?"


def _err(message: str, code: int = RetCode.DATA_ERROR) -> ApiError:
    return ApiError(code, message)


def _flag(value: Any, default: bool = True) -> bool:
    return default if value is None else str(value).lower() not in ("false", "0")


def prologue(dsl: dict[str, Any]) -> str:
    begin = next((c for c in (dsl.get("components") or {}).values()
                  if isinstance(c, dict) and (c.get("obj") or {}).get("component_name") == "Begin"), None)
    params = ((begin or {}).get("obj") or {}).get("params") or {}
    if params.get("enablePrologue") is False:
        return ""
    return str(params.get("prologue") or DEFAULT_PROLOGUE)


class AgentService:
    def __init__(self, store: MetadataStore, background: Callable[[dict[str, Any]], None],
                 stats: ConversationStats | None = None) -> None:
        self._store = store
        self._background = background  # queues work about everything under a deleted agent
        self._stats = stats  # /system/stats' daily counters
        self.versions = AgentVersions(store)

    # ---- agents ----------------------------------------------------------------------------
    def _checked_dsl(self, dsl: Any) -> dict[str, Any]:
        try:
            return validate(dsl).model_dump(mode="json", exclude_none=True)
        except DslError as exc:
            raise _err(str(exc), RetCode.ARGUMENT_ERROR) from exc

    def _title(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _err("`title` should be a string.", RetCode.ARGUMENT_ERROR)
        title = value.strip()
        if not title:
            raise _err("`title` can not be empty.", RetCode.ARGUMENT_ERROR)
        if len(title) > 255:
            raise _err("`title` is longer than 255 characters.", RetCode.ARGUMENT_ERROR)
        return title

    def create(self, tenant: str, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("dsl") is None:
            raise _err("No DSL data in request.", RetCode.ARGUMENT_ERROR)
        dsl = self._checked_dsl(payload["dsl"])
        if payload.get("title") is None:
            raise _err("No title in request.", RetCode.ARGUMENT_ERROR)
        title = self._title(payload["title"])
        description = payload.get("description")
        if description is not None and not isinstance(description, str):
            raise _err("`description` should be a string.", RetCode.ARGUMENT_ERROR)
        agent_id = new_id()
        if not self._store.claim(tenant, TITLE_SCOPE, title.lower(), agent_id):
            raise _err(f"{title} already exists.")
        item = stamp_new({
            "id": agent_id, "title": title, "description": description, "dsl": dsl, "avatar": payload.get("avatar"),
            "canvas_type": payload.get("canvas_type") or "", "canvas_category": "agent_canvas", "user_id": tenant,
            "permission": "me", "release": bool(payload.get("release")), "tags": "",
        })
        self._store.put(KIND, tenant, item)
        self._store.claim(OWNERS_TENANT, OWNER_SCOPE, agent_id, tenant)
        self.versions.save(tenant, agent_id, dsl, version_title(self._owner_name(tenant), title), item["release"])
        return item

    def _owner_name(self, tenant: str) -> str:
        record = self._store.get("tenant", tenant, tenant)
        return str((record or {}).get("name") or tenant)

    def find_anywhere(self, agent_id: str) -> tuple[str, dict[str, Any]] | None:
        tenant = self._store.owner(OWNERS_TENANT, OWNER_SCOPE, agent_id) if agent_id else None
        agent = self.find(tenant, agent_id) if tenant else None
        return (tenant, agent) if tenant and agent else None

    def find(self, tenant: str, agent_id: str) -> dict[str, Any] | None:
        return self._store.get(KIND, tenant, agent_id) if isinstance(agent_id, str) else None

    def get_owned(self, tenant: str, agent_id: str, message: str = NO_ACCESS) -> dict[str, Any]:
        item = self.find(tenant, agent_id)
        if item is None:
            raise _err(message, RetCode.OPERATING_ERROR)
        return item

    def get(self, tenant: str, agent_id: str) -> dict[str, Any]:
        item = self.find(tenant, agent_id)
        if item is None:
            raise _err("canvas not found.")
        return {**item, "last_publish_time": self.versions.last_published(tenant, agent_id)}

    def list_agents(self, tenant: str, params: dict[str, Any]) -> dict[str, Any]:
        orderby = params.get("orderby") if params.get("orderby") in ("create_time", "update_time") else "create_time"
        # RAGFlow's list_agents: owner_ids first (at most 100, each an owner the caller may query), then the page
        owner_ids = [i for i in str(params.get("owner_ids") or "").strip().split(",") if i]
        if len(owner_ids) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"owner_ids must contain at most {REST_API_MAX_IDS} IDs")
        if set(owner_ids) - {tenant}:
            raise ApiError(RetCode.OPERATING_ERROR, "Only authorized owner_ids can be queried.", data=False)
        page, size = rest_api_page(params)
        title = params.get("title") or params.get("name")
        if params.get("id") or title:  # an id or a title names at most one agent (titles are unique, any case)
            found = self.find(tenant, str(params["id"])) if params.get("id") else None
            if title:
                owner = self._store.owner(tenant, TITLE_SCOPE, str(title).lower())
                named = self.find(tenant, owner) if owner else None
                found = named if not params.get("id") or (named and found and named["id"] == found["id"]) else None
            keywords = str(params.get("keywords") or "").lower()
            items = [found] if found is not None and keywords in found["title"].lower() else []
            return {"canvas": page_items(items, page, size), "total": len(items)}
        query = ListQuery(KIND, tenant, order=str(orderby), desc=_flag(params.get("desc")),
                          name_contains=str(params.get("keywords") or ""))
        return {"canvas": self._store.page(query, (page - 1) * size, size), "total": self._store.count(query)}

    def update(self, tenant: str, agent_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        current = self.get_owned(tenant, agent_id)
        changes: dict[str, Any] = {}
        if payload.get("dsl") is not None:
            changes["dsl"] = self._checked_dsl(payload["dsl"])
        if payload.get("description") is not None:
            if not isinstance(payload["description"], str):
                raise _err("`description` should be a string.", RetCode.ARGUMENT_ERROR)
            changes["description"] = payload["description"]
        for key in ("avatar", "canvas_type"):
            if payload.get(key) is not None:
                changes[key] = payload[key]
        changes["release"] = bool(payload.get("release"))  # RAGFlow writes it on every save, false when absent
        if payload.get("title") is not None:
            title = self._title(payload["title"])
            if title.lower() != current["title"].lower():
                if not self._store.claim(tenant, TITLE_SCOPE, title.lower(), agent_id):
                    raise _err(f"{title} already exists.")
                self._store.release(tenant, TITLE_SCOPE, current["title"].lower(), agent_id)
            changes["title"] = title
        updated = self._store.update(KIND, tenant, agent_id, stamp_update(changes))
        if updated is None:
            raise _err(NO_ACCESS, RetCode.OPERATING_ERROR)
        self._store.claim(OWNERS_TENANT, OWNER_SCOPE, agent_id, tenant)  # agents saved before the index existed
        if "dsl" in changes:
            self.versions.save(tenant, agent_id, changes["dsl"], version_title(self._owner_name(tenant), updated["title"]),
                               changes["release"])
        return {"update_time": updated["update_time"]}

    def reset(self, tenant: str, agent_id: str) -> dict[str, Any]:
        """The DSL as before any run (RAGFlow's Canvas.reset), saved without a new version, and returned."""
        dsl = reset_dsl(self.get_owned(tenant, agent_id)["dsl"])
        if self._store.update(KIND, tenant, agent_id, stamp_update({"dsl": dsl})) is None:
            raise _err(NO_ACCESS, RetCode.OPERATING_ERROR)
        return dsl

    def set_tags(self, tenant: str, agent_id: str, tags: Any) -> None:
        """RAGFlow's normalisation: a list or a comma-separated string; no commas inside a tag, each cut to 64
        characters, duplicates (any case) dropped, the joined value kept within 512 characters."""
        if self.find(tenant, agent_id) is None:
            raise ApiError(RetCode.OPERATING_ERROR, "Agent not found or no permission.", data=False)
        if isinstance(tags, (list, tuple)):
            cleaned = [str(t).replace(",", " ").strip() for t in tags if t and str(t).strip()]
        else:
            cleaned = [t.strip() for t in str(tags or "").split(",") if t.strip()]
        kept: list[str] = []
        for tag in (t[:64] for t in cleaned):
            if tag.lower() in {k.lower() for k in kept}:
                continue
            if len(",".join([*kept, tag])) > 512:
                break
            kept.append(tag)
        if self._store.update(KIND, tenant, agent_id, {"tags": ",".join(kept)}) is None:
            raise ApiError(RetCode.OPERATING_ERROR, "Agent not found or no permission.", data=False)

    def delete(self, tenant: str, agent_id: str) -> None:
        agent = self.get_owned(tenant, agent_id, NOT_OWNER)
        # its sessions and traces are unreachable once it is gone (reads check the agent): purged in the background
        self._store.delete(KIND, tenant, agent_id)
        self._store.release(tenant, TITLE_SCOPE, agent["title"].lower(), agent_id)
        self._store.release(OWNERS_TENANT, OWNER_SCOPE, agent_id, tenant)
        for kind in (SESSION, TRACE, VERSION, WEBHOOK_LOG, WEBHOOK_RATE):
            self._background({"type": "purge_children", "tenant": tenant, "kind": kind, "parent": agent_id})

    # ---- sessions --------------------------------------------------------------------------
    def session_view(self, item: dict[str, Any], with_dsl: bool = True) -> dict[str, Any]:
        view = {k: v for k, v in item.items() if not k.startswith("_")}
        if not with_dsl:
            view.pop("dsl", None)
        return view

    def create_session(self, tenant: str, agent_id: str, payload: dict[str, Any], user_id: str = "") -> dict[str, Any]:
        agent = self.get_owned(tenant, agent_id)
        name = payload.get("name", "")
        inputs = {k: v for k, v in payload.items() if k not in ("name", "user_id", "release")}
        opening = prologue(agent["dsl"])
        item = stamp_new({
            "id": new_id(), "agent_id": agent_id, "name": str(name or "")[:255], "source": "agent",
            "user_id": str(payload.get("user_id") or user_id or ""), "dsl": agent["dsl"],
            "message": [{"role": "assistant", "content": opening}] if opening else [], "reference": [],
            "_inputs": inputs,
        })
        self._store.put(SESSION, tenant, item, parent=agent_id)
        if self._stats is not None:
            self._stats.opened(tenant, "agent", item)
        return self.session_view(item)

    def get_session(self, tenant: str, agent_id: str, session_id: str) -> dict[str, Any]:
        self.get_owned(tenant, agent_id)
        item = self._store.get(SESSION, tenant, session_id) if isinstance(session_id, str) else None
        if item is None or item.get("agent_id") != agent_id:
            raise _err("Session not found!")
        return item

    def find_session(self, tenant: str, session_id: str) -> dict[str, Any] | None:
        return self._store.get(SESSION, tenant, session_id) if isinstance(session_id, str) else None

    def list_sessions(self, tenant: str, agent_id: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        self.get_owned(tenant, agent_id)
        orderby = params.get("orderby") if params.get("orderby") in ("create_time", "update_time") else "update_time"
        page, size = rest_api_page(params)  # RAGFlow: 1 / 30 by default, a page_size over 100 refused
        with_dsl = _flag(params.get("dsl"))
        if params.get("id"):  # one session, looked up
            item = self.find_session(tenant, str(params["id"]))
            items = [item] if item is not None and item.get("agent_id") == agent_id and (
                not params.get("user_id") or str(item.get("user_id")) == str(params["user_id"])) else []
            return [self.session_view(s, with_dsl) for s in page_items(items, page, size)], len(items)
        where = {"user_id": [str(params["user_id"])]} if params.get("user_id") else {}
        query = ListQuery(SESSION, tenant, agent_id, order=str(orderby), desc=_flag(params.get("desc")), where=where)
        return [self.session_view(s, with_dsl) for s in self._store.page(query, (page - 1) * size, size)], self._store.count(query)

    def delete_session(self, tenant: str, agent_id: str, session_id: str) -> None:
        self.get_session(tenant, agent_id, session_id)
        self._store.delete(SESSION, tenant, session_id)

    def delete_sessions(self, tenant: str, agent_id: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        self.get_owned(tenant, agent_id)
        ids = payload.get("ids")
        if ids is not None and not isinstance(ids, list):
            raise _err("`ids` should be a list.", RetCode.ARGUMENT_ERROR)
        if not ids:
            if payload.get("delete_all") is True:
                self._store.delete_under(SESSION, tenant, agent_id)
            return None
        unique = list(dict.fromkeys(str(i) for i in ids))
        dupes = [f"Duplicate session ids: {i}" for i in unique if [str(x) for x in ids].count(i) > 1]
        errors, found = [], []
        for sid in unique:
            item = self._store.get(SESSION, tenant, sid)
            if item is None or item.get("agent_id") != agent_id:
                errors.append(f"The agent doesn't own the session {sid}")
            else:
                found.append(sid)
        for sid in found:
            self._store.delete(SESSION, tenant, sid)
        problems = errors or dupes
        if problems and not found:
            raise _err("; ".join(problems))
        if problems:
            return {"success_count": len(found), "errors": problems}
        return None

    def record_turn(self, tenant: str, session_id: str, user: dict[str, Any], assistant: dict[str, Any],
                    reference: dict[str, Any], *, tokens: int = 0, duration: float = 0.0) -> None:
        session = self._store.get(SESSION, tenant, session_id)
        if session is None:
            return  # deleted while the answer streamed: nothing to keep
        messages = [*session.get("message", []), user, assistant]
        self._store.update(SESSION, tenant, session_id, stamp_update({
            "message": messages, "reference": [*session.get("reference", []), reference],
        }))
        if self._stats is not None:
            self._stats.answered(tenant, "agent", session, tokens=tokens, duration=duration)

    # ---- traces ----------------------------------------------------------------------------
    def save_trace(self, tenant: str, agent_id: str, message_id: str, trace: list[dict[str, Any]]) -> None:
        self._store.put(TRACE, tenant, {"id": message_id, "agent_id": agent_id, "trace": trace}, parent=agent_id)

    def trace(self, tenant: str, agent_id: str, message_id: str) -> dict[str, Any]:
        self.get_owned(tenant, agent_id)
        item = self._store.get(TRACE, tenant, message_id)
        if item is None or item.get("agent_id") != agent_id:
            return {}
        return {"message_id": message_id, "trace": item["trace"]}
