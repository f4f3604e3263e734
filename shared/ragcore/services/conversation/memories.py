"""Memories: named stores of conversation messages (raw) and what is extracted from them (semantic, episodic,
procedural), searchable by meaning and keywords, with a size limit and forgetting.

Extraction uses the chat model when one is configured. Without one, a documented rule applies: every sentence
of the exchange that states something ("X is Y", numbers, names) is semantic; the exchange itself, time-stamped,
is episodic; sentences that instruct (steps, "first/then", imperatives like "use", "run", "click") are procedural.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import ChatModel, Embedder, IndexRecord, ListQuery, MetadataStore, VectorIndex
from ragcore.services.common import (
    REST_API_MAX_IDS,
    REST_API_MAX_PAGE_SIZE,
    claim_free_name,
    page_items,
    public,
    rest_api_page,
    stamp_new,
    stamp_update,
)
from ragcore.text.tokenize import sentences as split_sentences
from ragcore.text.tokenize import term_weights, tokenize

KIND = kinds.MEMORY
MESSAGE = kinds.MEMORY_MESSAGE
COUNTER = kinds.MEMORY_SEQUENCE
NAME_SCOPE = "memory-name"
TYPES = ("raw", "semantic", "episodic", "procedural")
DEFAULT_SIZE = 5 * 1024 * 1024
MAX_SIZE = 10 * 1024 * 1024
_PROCEDURAL = re.compile(r"^(first|then|next|finally|step \d+|to \w+|use|run|click|open|install|set|add|call)\b", re.I)
_STATEMENT = re.compile(r"\b(is|are|was|were|has|have|likes?|prefers?|lives?|works?)\b|\d", re.I)


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _err(message: str, code: int = RetCode.ARGUMENT_ERROR) -> ApiError:
    return ApiError(code, message)


def _model_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or "@" not in value or not all(p.strip() for p in value.rpartition("@")[::2]):
        raise _err(f"`{field}` must follow <model_name>@<provider> format.")
    if len(value) > 255:
        raise _err(f"`{field}` is longer than 255 characters.")
    return value


class MemoryService:
    def __init__(self, store: MetadataStore, index: VectorIndex, embedder_for: Callable[[str, str], Embedder],
                 chat_model: Callable[[str, str], ChatModel | None], *, background: Callable[[dict[str, Any]], None],
                 max_size: int = MAX_SIZE, model_usable: Callable[[str, str], bool] = lambda tenant, llm_id: True) -> None:
        self._model_usable = model_usable  # (tenant, llm_id) -> whether a memory may name that chat model
        self._background = background  # queues work about everything under a deleted memory
        self._max_size = max_size
        self._store = store
        self._index = index
        self._embedder_for = embedder_for
        self._chat = chat_model  # (tenant, llm_id) -> the memory's chat model, or None: extract without one

    def _chat_model_id(self, tenant: str, value: Any) -> str:
        llm_id = _model_id(value, "llm_id")
        if not self._model_usable(tenant, llm_id):
            raise _err(f"`llm_id` {llm_id} doesn't exist")
        return llm_id

    @staticmethod
    def _ns(tenant: str) -> str:
        return f"mem:{tenant}"  # memory vectors live apart from dataset chunks

    # ---- memories -----------------------------------------------------------------------------
    def get(self, tenant: str, memory_id: Any) -> dict[str, Any]:
        item = self._store.get(KIND, tenant, memory_id) if isinstance(memory_id, str) else None
        if item is None:
            raise ApiError(RetCode.NOT_FOUND, f"Memory '{memory_id}' not found.")
        return item

    def view(self, item: dict[str, Any]) -> dict[str, Any]:
        return public(item)

    def create(self, tenant: str, payload: dict[str, Any]) -> dict[str, Any]:
        name = _valid_name(payload.get("name"))
        types = payload.get("memory_type")
        if not isinstance(types, list) or not types:
            raise _err("`memory_type` is required: a list of raw, semantic, episodic, procedural.")
        unknown = {t for t in types if t not in TYPES}
        if unknown:
            raise _err(f"Memory type '{unknown}' is not supported.")
        memory_id = new_id()
        final = claim_free_name(self._store, tenant, NAME_SCOPE, name, memory_id)
        item = stamp_new({
            "id": memory_id, "name": final, "avatar": None, "tenant_id": tenant, "owner_name": "", "description": None,
            "memory_type": list(dict.fromkeys(["raw", *types])), "storage_type": "table",
            "embd_id": _model_id(payload.get("embd_id"), "embd_id"),
            "llm_id": self._chat_model_id(tenant, payload.get("llm_id")),
            "permissions": "me", "memory_size": DEFAULT_SIZE, "forgetting_policy": "FIFO", "temperature": 0.5,
            "system_prompt": "", "user_prompt": "",
        })
        self._store.put(KIND, tenant, item)
        return self.view(item)

    def update(self, tenant: str, memory_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        item = self.get(tenant, memory_id)
        changes: dict[str, Any] = {}
        if "name" in payload:
            name = _valid_name(payload["name"])
            if name.lower() != item["name"].lower():
                # RAGFlow renames into a taken name as it creates: with a "(n)" suffix.
                final = claim_free_name(self._store, tenant, NAME_SCOPE, name, memory_id)
                self._store.release(tenant, NAME_SCOPE, item["name"].lower(), memory_id)
                name = final
            changes["name"] = name
        for field in ("avatar", "description", "system_prompt", "user_prompt"):
            if field in payload:
                changes[field] = payload[field]
        if "permission" in payload or "permissions" in payload:
            value = payload.get("permission", payload.get("permissions"))
            if value not in ("me", "team"):
                raise _err("`permission` should be 'me' or 'team'.")
            changes["permissions"] = value
        if "llm_id" in payload:
            changes["llm_id"] = self._chat_model_id(tenant, payload["llm_id"])
        if "memory_size" in payload:
            size = payload["memory_size"]
            if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= self._max_size:
                raise _err(f"`memory_size` should be an integer between 1 and {self._max_size}.")
            changes["memory_size"] = size
        if "forgetting_policy" in payload and payload["forgetting_policy"] != "FIFO":
            raise _err("`forgetting_policy` supports only FIFO.")
        if "temperature" in payload:
            t = payload["temperature"]
            if not isinstance(t, int | float) or isinstance(t, bool) or not 0 <= t <= 1:
                raise _err("`temperature` should be in [0, 1].")
            changes["temperature"] = t
        updated = self._store.update(KIND, tenant, memory_id, stamp_update(changes))
        assert updated is not None
        if "memory_size" in changes:
            self._enforce_size(tenant, updated)
        return self.view(updated)

    def list_memories(self, tenant: str, params: dict[str, Any], types: list[str]) -> dict[str, Any]:
        page, size = rest_api_page(params)
        ids = _id_list(params, "ids")
        _id_list(params, "owner_ids")
        keywords = str(params.get("keywords") or "")
        if ids:
            # at most REST_API_MAX_IDS ids: read by id, newest first, then paged
            picked = [it for it in self._store.get_many(KIND, tenant, ids)
                      if (not types or set(types) & set(it.get("memory_type") or []))
                      and keywords.lower() in str(it.get("name", "")).lower()]
            picked.sort(key=lambda it: -int(it.get("create_time") or 0))
            return {"memory_list": [self.view(i) for i in page_items(picked, page, size)], "total_count": len(picked)}
        # a memory type filter reads the tenant's memories (a list field has no index; memories are few)
        query = ListQuery(KIND, tenant, where={"memory_type": types} if types else {}, name_contains=keywords)
        return {"memory_list": [self.view(i) for i in self._store.page(query, (page - 1) * size, size)],
                "total_count": self._store.count(query)}

    def delete(self, tenant: str, memory_id: str) -> None:
        item = self.get(tenant, memory_id)
        self._index.delete_dataset(self._ns(tenant), memory_id)
        self._store.delete(KIND, tenant, memory_id)
        self._store.release(tenant, NAME_SCOPE, item["name"].lower(), memory_id)
        # its messages are unreachable once it is gone (reads check the memory): removed in the background
        self._background({"type": "purge_children", "tenant": tenant, "kind": MESSAGE, "parent": memory_id})

    # ---- messages -----------------------------------------------------------------------------
    def add(self, tenant: str, payload: dict[str, Any]) -> str:
        ids = payload.get("memory_id")
        ids = [ids] if isinstance(ids, str) else ids
        if not isinstance(ids, list) or not ids:
            raise _err("`memory_id` is required.")
        user, agent = payload.get("user_input"), payload.get("agent_response")
        if not isinstance(user, str) or not isinstance(agent, str) or not (user.strip() or agent.strip()):
            raise _err("`user_input` and `agent_response` are required.")
        memories = [self.get(tenant, m) for m in ids]
        meta = {"agent_id": str(payload.get("agent_id") or ""), "session_id": str(payload.get("session_id") or ""),
                "user_id": str(payload.get("user_id") or "")}
        for memory in memories:
            raw = self._add_one(tenant, memory, "raw", f"User: {user}\nAgent: {agent}", meta, source_id=None)
            extracted = [self._add_one(tenant, memory, kind, text, meta, source_id=raw["message_id"])["id"]
                         for kind in memory["memory_type"] if kind != "raw" for text in self._extract(tenant, kind, user, agent, memory)]
            if extracted:  # the raw message names what came of it, so a listing reads them by id
                self._store.update(MESSAGE, tenant, raw["id"], {"_extracted": extracted})
            self._enforce_size(tenant, memory)
        return "All add to task."

    def _add_one(self, tenant: str, memory: dict[str, Any], kind: str, content: str, meta: dict[str, str],
                 source_id: int | None) -> dict[str, Any]:
        seq = self._store.increment(COUNTER, tenant, memory["id"], {"n": 1})
        if seq is None:
            self._store.put(COUNTER, tenant, {"id": memory["id"], "n": 0}, if_absent=True)
            seq = self._store.increment(COUNTER, tenant, memory["id"], {"n": 1})
        assert seq is not None
        message_id = int(seq["n"])
        vector = self._embedder_for(memory["embd_id"], tenant).embed([content])[0]
        row = {
            "id": f"{memory['id']}:{message_id}", "message_id": message_id, "memory_id": memory["id"], "message_type": kind,
            "content": content, **meta, "agent_name": "", "source_id": source_id if source_id is not None else "None",
            "status": True, "valid_at": _now(), "invalid_at": "None", "forget_at": "None", "created": time.time(),
            "size": len(content.encode()) + len(vector) * 8, "task": {"progress": 1.0, "progress_msg": "Stored."},
            "_listed": kind == "raw", "_kept": True,
        }
        self._store.put(MESSAGE, tenant, row, parent=memory["id"])
        self._store.increment(KIND, tenant, memory["id"], {"_size_total": row["size"]})
        record: IndexRecord = {"id": row["id"], "dataset_id": memory["id"], "document_id": row["session_id"] or "-",
                               "content": content, "vector": vector, "available": True}
        self._index.upsert(self._ns(tenant), [record])
        return row

    def _extract(self, tenant: str, kind: str, user: str, agent: str, memory: dict[str, Any]) -> list[str]:
        model = self._chat(tenant, str(memory.get("llm_id") or ""))
        if model is not None:
            prompt = {"semantic": "facts about the user or the world", "episodic": "events with when they happened",
                      "procedural": "skills, habits or steps to do things"}[kind]
            text, _ = model.complete([{"role": "system", "content": f"List the {prompt} stated in this exchange, one per line, "
                                       "or nothing."}, {"role": "user", "content": f"User: {user}\nAgent: {agent}"}],
                                     temperature=memory.get("temperature", 0.5))
            return [line.strip(" -*") for line in text.splitlines() if line.strip(" -*")]
        sentences = [s for s in split_sentences(f"{user}\n{agent}") if len(s) > 3]
        if kind == "semantic":
            return [s for s in sentences if _STATEMENT.search(s)]
        if kind == "procedural":
            return [s for s in sentences if _PROCEDURAL.match(s)]
        return [f"[{_now()}] The user said: {user.strip()} The agent answered: {agent.strip()}"]

    def _kept(self, tenant: str, memory_id: str, *, oldest_first: bool) -> Iterator[dict[str, Any]]:
        """The memory's messages not forgotten, page by page, as long as the caller reads."""
        query = ListQuery(MESSAGE, tenant, memory_id, desc=not oldest_first, where={"_kept": [True]})
        for start in range(0, 10**9, 50):
            page = self._store.page(query, start, 50)
            yield from page
            if len(page) < 50:
                return

    def _enforce_size(self, tenant: str, memory: dict[str, Any]) -> None:
        """FIFO forgetting: the oldest messages go until the memory fits its size limit (its kept size total)."""
        current = self._store.get(KIND, tenant, memory["id"]) or memory
        if "_size_total" not in current:  # a memory from before the total was kept: summed once
            kept = sum(int(r.get("size", 0)) for r in self._kept(tenant, memory["id"], oldest_first=True))
            current = self._store.update(KIND, tenant, memory["id"], {"_size_total": kept}) or current
        total = int(current.get("_size_total") or 0)
        limit = int(current.get("memory_size", DEFAULT_SIZE))
        if total <= limit:
            return
        doomed = []
        for row in self._kept(tenant, memory["id"], oldest_first=True):
            if total <= limit:
                break
            doomed.append(row)
            total -= int(row.get("size", 0))
        for row in doomed:
            self._forget_row(tenant, row)

    def _row(self, tenant: str, memory_id: str, message_id: Any) -> dict[str, Any]:
        self.get(tenant, memory_id)
        row = self._store.get(MESSAGE, tenant, f"{memory_id}:{message_id}")
        if row is None:
            raise ApiError(RetCode.NOT_FOUND, f"Message '{message_id}' not found in memory '{memory_id}'.")
        return row

    def _forget_row(self, tenant: str, row: dict[str, Any]) -> None:
        self._index.delete(self._ns(tenant), [row["id"]])
        if self._store.update(MESSAGE, tenant, row["id"], {"forget_at": _now(), "status": False, "_kept": False,
                                                           "_listed": False}) is not None:
            self._store.increment(KIND, tenant, row["memory_id"], {"_size_total": -int(row.get("size", 0))})

    def forget(self, tenant: str, memory_id: str, message_id: str) -> None:
        self._forget_row(tenant, self._row(tenant, memory_id, message_id))

    def set_status(self, tenant: str, memory_id: str, message_id: str, payload: dict[str, Any]) -> None:
        # RAGFlow's @validate_request("status") and its type check come before the message is looked up
        if "status" not in payload:
            raise ApiError(RetCode.ARGUMENT_ERROR, "required argument are missing: status; ")
        status = payload.get("status")
        if not isinstance(status, bool):
            raise ApiError(RetCode.ARGUMENT_ERROR, "Status must be a boolean.")
        row = self._row(tenant, memory_id, message_id)
        if row["forget_at"] != "None":
            raise _err("A forgotten message can't be enabled again.", RetCode.DATA_ERROR)
        self._store.update(MESSAGE, tenant, row["id"], {"status": status})
        self._index.set_available(self._ns(tenant), [row["id"]], status)

    def content(self, tenant: str, memory_id: str, message_id: str) -> dict[str, Any]:
        row = self._row(tenant, memory_id, message_id)
        out = {k: v for k, v in row.items() if k not in ("id", "created", "size") and not k.startswith("_")}
        # RAGFlow returns the stored embedding beside the text; forgotten messages have none left.
        out["content_embed"] = self._index.fetch_vectors(self._ns(tenant), [row["id"]]).get(row["id"], [])
        return out

    def _public(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in ("id", "created", "size", "content") and not k.startswith("_")}

    def list_messages(self, tenant: str, memory_id: str, params: dict[str, Any], agent_ids: list[str]) -> dict[str, Any]:
        """Raw messages, newest first, each with what was extracted from it. Unfiltered, the store pages and counts;
        a session or keyword filter reads the memory's messages (bounded by its size limit)."""
        page, size = rest_api_page({"page_size": 50, **params})
        if len(agent_ids) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"agent_id must contain at most {REST_API_MAX_IDS} IDs")
        self.get(tenant, memory_id)
        session, keywords = str(params.get("session_id") or ""), str(params.get("keywords") or "")
        query = ListQuery(MESSAGE, tenant, memory_id, where={"_listed": [True], **({"agent_id": agent_ids} if agent_ids else {})})
        if session or keywords:
            rows = [r for batch in self._store.batches(MESSAGE, tenant, memory_id) for r in batch
                    if r.get("_listed") and (not agent_ids or r["agent_id"] in agent_ids) and session in r["session_id"]
                    and (keywords in r["session_id"] or keywords.lower() in r["content"].lower())]
            rows.sort(key=lambda r: -r["message_id"])
            total, rows = len(rows), page_items(rows, page, size)
        else:
            total, rows = self._store.count(query), self._store.page(query, (page - 1) * size, size)
        extracted = {r["id"]: r for r in self._store.get_many(MESSAGE, tenant, [i for r in rows for i in r.get("_extracted", [])])}
        listed = [{**self._public(r), "extract": [self._public(extracted[i]) for i in r.get("_extracted", [])
                                                   if i in extracted and extracted[i]["forget_at"] == "None"]} for r in rows]
        return {"messages": {"message_list": listed, "total_count": total}, "storage_type": "table"}

    def recent(self, tenant: str, memory_ids: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
        if len(memory_ids) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"memory_id must contain at most {REST_API_MAX_IDS} IDs")
        limit = _bounded_int(params.get("limit"), 10)
        if not memory_ids:
            raise ApiError(RetCode.ARGUMENT_ERROR, "memory_ids is required.")
        rows: list[dict[str, Any]] = []
        for memory_id in memory_ids:
            self.get(tenant, memory_id)
            found = 0
            for r in self._kept(tenant, memory_id, oldest_first=False):  # newest first, until `limit` qualify
                if r["status"] and all(r[f] == params[f] for f in ("agent_id", "session_id") if params.get(f)):
                    rows.append(r)
                    found += 1
                    if found >= limit:
                        break
        rows.sort(key=lambda r: -r["created"])
        return [{**self._public(r), "content": r["content"]} for r in rows[:limit]]

    def search(self, tenant: str, memory_ids: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
        # RAGFlow's handler checks the ids and top_n (its page-size bound) first
        if len(memory_ids) > REST_API_MAX_IDS:
            raise ApiError(RetCode.ARGUMENT_ERROR, f"memory_id must contain at most {REST_API_MAX_IDS} IDs")
        top_n = _bounded_int(params.get("top_n"), 5)
        query = params.get("query")
        if not isinstance(query, str) or not query.strip():
            raise _err("`query` is required.")
        memories = [self.get(tenant, m) for m in memory_ids]
        if not memories:
            raise _err("`memory_id` is required.")
        threshold = float(params.get("similarity_threshold") or 0.2)
        keyword_weight = float(params.get("keywords_similarity_weight") or 0.7)
        weights = term_weights(query)
        found: list[tuple[float, dict[str, Any]]] = []
        for memory in memories:
            vector = self._embedder_for(memory["embd_id"], tenant).embed([query])[0]
            hits = {h["id"]: h["score"] for h in self._index.search_dense(self._ns(tenant), vector, 256, [memory["id"]])}
            for h in self._index.search_text(self._ns(tenant), query, 256, [memory["id"]]):
                hits.setdefault(h["id"], 0.0)
            rows = {r["id"]: r for r in self._store.get_many(MESSAGE, tenant, list(hits))}
            for rid, vscore in hits.items():
                row = rows.get(rid)
                if row is None or not row["status"] or row["forget_at"] != "None":
                    continue
                for field in ("agent_id", "session_id", "user_id"):
                    if params.get(field) and row[field] != params[field]:
                        break
                else:
                    present = set(tokenize(row["content"]))
                    tsim = sum(w for t, w in weights.items() if t in present)
                    score = keyword_weight * tsim + (1 - keyword_weight) * max(vscore, 0.0)
                    if score >= threshold:
                        found.append((score, {**self._public(row), "content": row["content"], "similarity": round(score, 6)}))
        found.sort(key=lambda pair: -pair[0])
        return [item for _, item in found[:top_n]]


def _id_list(params: dict[str, Any], name: str) -> list[str]:
    """A comma-separated id filter, at most REST_API_MAX_IDS ids (RAGFlow's validate_rest_api_ids)."""
    values = [v.strip() for v in str(params.get(name) or "").split(",") if v.strip()]
    if len(values) > REST_API_MAX_IDS:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"{name} must contain at most {REST_API_MAX_IDS} IDs")
    return values


def _bounded_int(value: Any, default: int) -> int:
    """RAGFlow's validate_rest_api_page_size(int(value)) for `limit` and `top_n`: int()'s own refusal, a value below 1
    means the default, over 100 is refused."""
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(RetCode.ARGUMENT_ERROR, f"invalid literal for int() with base 10: {value!r}") from None
    if number > REST_API_MAX_PAGE_SIZE:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"page_size must be less than or equal to {REST_API_MAX_PAGE_SIZE}")
    return number if number >= 1 else default


def _valid_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise _err("Memory name cannot be empty or whitespace.")
    if len(name) > 128:
        raise _err(f"Memory name '{name}' exceeds limit of 128.")
    return name.strip()
