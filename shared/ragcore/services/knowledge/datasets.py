"""Datasets: create, list, get, update, delete — tenant-scoped, names unique case-insensitively."""

from __future__ import annotations

import builtins
import heapq
from collections.abc import Callable
from typing import Any

from pydantic_core import PydanticCustomError

from ragcore.domain import kinds
from ragcore.domain.datasets import (
    CreateDataset,
    ListDatasetsQuery,
    UpdateDataset,
    merge_parser_config,
    uuid_hex,
    with_model_defaults,
)
from ragcore.domain.kinds import DATASET as DATASET_KIND
from ragcore.domain.validation import parse_model
from ragcore.errors import ApiError, RetCode
from ragcore.ids import new_id
from ragcore.ports import ListQuery, MetadataStore
from ragcore.services.common import (
    check_no_duplicates,
    claim_free_name,
    page_items,
    public,
    stamp_new,
    stamp_update,
)
from ragcore.services.knowledge.chunks.term_stats import TERMSTATS_VERSION

KIND = DATASET_KIND
Items = list[dict[str, Any]]
TEAM_KIND = kinds.TEAM_DATASET  # the owner's index of its datasets with `permission: "team"` (ragcore.list_fields)
# how an item sorts in each list order: what merging the caller's datasets with its teams' compares
_ORDER_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "create_time": lambda it: int(it.get("create_time") or 0),
    "update_time": lambda it: int(it.get("update_time") or 0),
    "name": lambda it: str(it.get("name") or "").lower(),
}
NAME_SCOPE = "dataset-name"
RUN_STATES = {"0": "unstart_count", "1": "running_count", "2": "cancel_count", "3": "done_count", "4": "fail_count"}


def no_permission(tenant: str, dataset_id: str) -> ApiError:
    return ApiError(RetCode.DATA_ERROR, f"User '{tenant}' lacks permission for dataset '{dataset_id}'")


class DatasetService:
    def __init__(
        self,
        store: MetadataStore,
        *,
        default_embedding_model: str,
        known_embedding_models: Callable[[], set[str]],
        model_problem: Callable[[str, str, str], str] | None = None,
        default_llm: Callable[[str], str] | None = None,
        purge: Callable[[str, str], None] | None = None,
        run_counts: Callable[[str, str], dict[str, int]] | None = None,
        shared: Callable[[str, str], dict[str, Any] | None] | None = None,
        chat_model_usable: Callable[[str, str], bool] | None = None,
        team_owners: Callable[[str], list[str]] | None = None,
        link_connectors: Callable[..., list[dict[str, Any]]] | None = None,
        connectors_of: Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    ) -> None:
        # the `connectors` field: (tenant, dataset id, refs, previous refs, apply=) links the dataset to connectors
        # (apply=False only checks them); connectors_of shows the links as RAGFlow's GET does
        self._link_connectors = link_connectors
        self._connectors_of = connectors_of
        # tenant -> the tenants whose team its user joined: their team datasets are listed with its own
        self._team_owners = team_owners
        # (tenant, llm_id) -> whether parser_config.raptor.llm_id may name that chat model
        self._chat_model_usable = chat_model_usable
        self._store = store
        self._default_embedding_model = default_embedding_model
        self._known_models = known_embedding_models
        self._default_llm = default_llm  # the tenant's default chat model, copied into new parser configs
        self._model_problem = model_problem  # (tenant, type, name) -> why the tenant cannot use it, "" when it can
        self._purge = purge
        self._run_counts = run_counts
        # a dataset another tenant shares with this tenant's user by `permission: "team"` (None: not shared)
        self._shared = shared

    # ---- reads -----------------------------------------------------------------
    def get_owned(self, tenant: str, dataset_id: str) -> dict[str, Any]:
        item = self._store.get(KIND, tenant, dataset_id) if isinstance(dataset_id, str) else None
        if item is None:
            raise no_permission(tenant, str(dataset_id))
        return item

    def find(self, tenant: str, dataset_id: str) -> dict[str, Any] | None:
        return self._store.get(KIND, tenant, dataset_id)

    def find_by_name(self, tenant: str, name: str) -> dict[str, Any] | None:
        """The dataset a name (any case) belongs to: its unique-name claim says which."""
        owner = self._store.owner(tenant, NAME_SCOPE, name.strip().lower())
        return self._store.get(KIND, tenant, owner) if owner else None

    def _exactly_named(self, tenant: str, name: str) -> dict[str, Any] | None:
        found = self.find_by_name(tenant, name)
        return found if found is not None and found["name"] == name else None

    def list(self, tenant: str, query: ListDatasetsQuery) -> tuple[list[dict[str, Any]], int]:
        if query.id and query.ids:
            raise ApiError(RetCode.DATA_ERROR, f"Should not provide both 'id':{query.id} and 'ids'{query.ids}")
        ext = query.ext if isinstance(query.ext, dict) else {}
        keywords = str(ext.get("keywords") or "")
        parser_id = str(ext.get("parser_id") or "")
        if query.id is not None or query.name:
            # an id or an exact name names at most one dataset: looked up, not listed
            items: list[dict[str, Any]] = []
            if query.id is not None:
                wanted_id = query.id
                found = self.find(tenant, wanted_id)
                if found is None and self._shared is not None:
                    found = self._shared(tenant, wanted_id)
                if found is None:
                    raise no_permission(tenant, query.id)
                items = [found]
            if query.name:
                named = self._exactly_named(tenant, query.name)
                if query.id is None and named is None:
                    raise no_permission(tenant, query.name)
                items = [it for it in items if it["name"] == query.name] if query.id is not None else [named] if named else []
                if query.id is not None and not items and named is None:
                    raise no_permission(tenant, query.name)
            items = _filtered(items, keywords, parser_id)
            total = len(items)
            items = page_items(items, query.page, query.page_size)
        elif query.ids:
            # at most REST_API_MAX_IDS ids: read by id, then ordered and paged; unknown or foreign ids are left out
            # (RAGFlow logs them and lists the rest)
            found_many = _filtered(self._store.get_many(KIND, tenant, query.ids), keywords, parser_id)
            found_many.sort(key=lambda it: (it.get(query.orderby) or 0, it["id"]), reverse=query.desc)
            total = len(found_many)
            items = page_items(found_many, query.page, query.page_size)
        else:
            if keywords or parser_id:  # filtered in the store, over the caller's own datasets
                listing = ListQuery(KIND, tenant, order=query.orderby, desc=query.desc,
                                    where={"chunk_method": [parser_id]} if parser_id else {}, name_contains=keywords)
                total = self._store.count(listing)
                items = self._store.page(listing, (query.page - 1) * query.page_size, query.page_size)
            else:  # the caller's datasets and its teams' shared ones, merged in order
                items, total = self._listed(tenant, query.orderby, query.desc, (query.page - 1) * query.page_size,
                                            query.page_size)
        out = [self.view(tenant, it) for it in items]
        if query.include_parsing_status:
            # RAGFlow's get_parsing_status_by_kb_ids: each dataset's documents counted by run state
            for view in out:
                owner = str(view.get("tenant_id") or tenant)  # a team dataset's documents are its owner's
                counts = self._run_counts(owner, view["id"]) if self._run_counts else {}
                view["parsing_status"] = {name: int(counts.get(name, 0)) for name in RUN_STATES.values()}
        return out, total

    def get(self, tenant: str, dataset_id: str) -> dict[str, Any]:
        """GET /datasets/{id}: the dataset with its documents' total size and its connectors, as RAGFlow answers."""
        item = self.get_owned(tenant, dataset_id)
        refs = list(item.get("connectors") or [])
        shown = self._connectors_of(tenant, refs) if self._connectors_of is not None else refs
        return {**self.view(tenant, item), "size": max(int(item.get("_size_total") or 0), 0), "connectors": shown}

    def count(self, tenant: str) -> int:
        """The tenant's datasets (a kept count)."""
        return self._store.count(ListQuery(KIND, tenant))

    def view(self, tenant: str, item: dict[str, Any]) -> dict[str, Any]:
        return public(item)

    # ---- team datasets -------------------------------------------------------------------------------------------
    def _sync_team_index(self, tenant: str, item: dict[str, Any], *, was_team: bool) -> None:
        """Keep the owner's index of team datasets (what members list) in step with the dataset's permission,
        name and update time."""
        if item.get("permission") == "team":
            self._store.put(TEAM_KIND, tenant, {k: item.get(k) for k in ("id", "name", "create_time", "update_time")})
        elif was_team:
            self._store.delete(TEAM_KIND, tenant, item["id"])

    def _listed(self, tenant: str, order: str, desc: bool, offset: int, limit: int) -> tuple[Items, int]:
        """The tenant's datasets and the team datasets of the teams its user joined, in one order (RAGFlow lists
        both). Each source pages and counts in the store; with shared datasets, a page reads at most offset + limit
        entries of each team that shares some, then the chosen team datasets by id."""
        own = ListQuery(KIND, tenant, order=order, desc=desc)
        shared: builtins.list[ListQuery] = []
        for owner in self._team_owners(tenant) if self._team_owners else []:
            team = ListQuery(TEAM_KIND, owner, order=order, desc=desc)
            if self._store.count(team):
                shared.append(team)
        total = self._store.count(own)
        if not shared:
            return self._store.page(own, offset, limit), total
        total += sum(self._store.count(q) for q in shared)
        key = _ORDER_KEYS.get(order, _ORDER_KEYS["create_time"])
        streams = [[(it, own.tenant) for it in self._store.page(own, 0, offset + limit)]]
        streams += [[(it, q.tenant) for it in self._store.page(q, 0, offset + limit)] for q in shared]
        chosen = list(heapq.merge(*streams, key=lambda pair: key(pair[0]), reverse=desc))[offset : offset + limit]
        wanted: dict[str, builtins.list[str]] = {}
        for entry, owner in chosen:
            if owner != tenant:
                wanted.setdefault(owner, []).append(entry["id"])
        found = {(owner, d["id"]): d for owner, ids in wanted.items() for d in self._store.get_many(KIND, owner, ids)
                 if d.get("permission") == "team"}
        items = [entry if owner == tenant else found.get((owner, entry["id"])) for entry, owner in chosen]
        return [it for it in items if it is not None], total

    def _check_raptor_model(self, tenant: str, parser_config: dict[str, Any]) -> None:
        """RAPTOR summarises with the chat model parser_config.raptor.llm_id names: one the tenant cannot use is
        refused when saved, as a chat's llm_id is, not when a build runs."""
        raptor = parser_config.get("raptor")
        llm_id = raptor.get("llm_id") if isinstance(raptor, dict) else None
        if llm_id in (None, ""):
            return
        if not isinstance(llm_id, str) or (self._chat_model_usable and not self._chat_model_usable(tenant, llm_id)):
            raise ApiError(RetCode.DATA_ERROR, f"`llm_id` {llm_id} doesn't exist")

    # ---- writes ----------------------------------------------------------------
    def create(self, tenant: str, req: CreateDataset, sent_parser_config: dict[str, Any] | None = None, *,
               connectors: Any = None) -> dict[str, Any]:
        """A new dataset; `sent_parser_config` is the parser_config as the client sent it (its keys are echoed);
        `connectors` (as sent) links it to connectors at once (RAGFlow's web client links by update)."""
        refs = connectors if self._link_connectors is not None else None
        if refs is not None and self._link_connectors is not None:
            self._link_connectors(tenant, "", refs, [], apply=False)
        embedding_model = req.embedding_model or self._default_embedding_model
        self.check_model(tenant, embedding_model)
        chunk_method = req.chunk_method or "naive"
        given = req.parser_config.model_dump(exclude_none=True) if req.parser_config else None
        # parser_config: fields the client did not send are not echoed as null
        if req.parser_config is not None:
            given = _only_sent(sent_parser_config or {}, given or {})
        if given:
            given = with_model_defaults(given)
        parser_config = merge_parser_config(chunk_method, given)
        self._check_raptor_model(tenant, parser_config)
        dataset_id = new_id()
        name = claim_free_name(self._store, tenant, NAME_SCOPE, req.name, dataset_id)
        item = stamp_new(
            {
                "id": dataset_id,
                "name": name,
                "avatar": req.avatar,
                "description": req.description,
                "embedding_model": embedding_model,
                "permission": req.permission,
                "chunk_method": chunk_method,
                "parser_config": {**parser_config, "llm_id": self._default_llm(tenant) if self._default_llm else ""},
                "pagerank": 0,
                "language": "English",
                "similarity_threshold": 0.2,
                "vector_similarity_weight": 0.3,
                "status": "1",
                "tenant_id": tenant,
                "created_by": tenant,
                "chunk_count": 0,
                "document_count": 0,
                "token_num": 0,
                "pipeline_id": req.pipeline_id,
                "parse_type": req.parse_type,
                "connectors": [],
                "_termstats": TERMSTATS_VERSION,  # its keyword statistics are kept from its first chunk on
            }
        )
        try:
            self._store.put(KIND, tenant, item)
        except Exception:
            self._store.release(tenant, NAME_SCOPE, name.lower(), dataset_id)
            raise
        self._sync_team_index(tenant, item, was_team=False)
        if refs is not None and self._link_connectors is not None:
            linked = self._link_connectors(tenant, dataset_id, refs, [], apply=True)
            item = self._store.update(KIND, tenant, dataset_id, {"connectors": linked}) or item
            return {**self.view(tenant, item), "connectors": refs}
        return self.view(tenant, item)

    def update(self, tenant: str, dataset_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        dataset_id = _uuid_field("dataset_id", dataset_id, dataset_id)
        req = parse_model(UpdateDataset, payload)
        current = self.get_owned(tenant, dataset_id)
        if not payload:
            raise ApiError(RetCode.DATA_ERROR, "no properties were modified")
        sent = req.model_dump(exclude_unset=True)
        changes: dict[str, Any] = {}
        if sent.get("pagerank") is not None:
            changes["pagerank"] = sent["pagerank"]
        if sent.get("language"):
            changes["language"] = sent["language"]
        refs = sent.get("connectors")
        if refs is not None and self._link_connectors is not None:  # checked before anything changes
            changes["connectors"] = self._link_connectors(tenant, dataset_id, refs, [], apply=False)
        elif refs is not None:
            changes["connectors"] = refs
        for field in ("avatar", "description"):
            if field in sent:
                changes[field] = sent[field]
        if "permission" in sent and sent["permission"] is not None:
            changes["permission"] = sent["permission"]
        if "embedding_model" in sent:
            model = sent["embedding_model"] or self._default_embedding_model
            if model != current["embedding_model"]:
                self.check_model(tenant, model)
                if current.get("chunk_count", 0) > 0:
                    raise ApiError(
                        RetCode.DATA_ERROR, "When chunk_num (1) > 0, embedding_model must remain unchanged."
                    )
            changes["embedding_model"] = model
        chunk_method = current["chunk_method"]
        if sent.get("chunk_method") is not None:
            chunk_method = sent["chunk_method"]
            changes["chunk_method"] = chunk_method
        # RAGFlow's update: a parser_config is merged into the stored one; a new chunk method without one takes that
        # method's defaults; an empty or null parser_config changes nothing
        given = _only_sent(payload.get("parser_config") or {}, sent.get("parser_config") or {})
        if given:
            changes["parser_config"] = merge_parser_config(chunk_method, given, current.get("parser_config") or {})
            self._check_raptor_model(tenant, changes["parser_config"])
        elif chunk_method != current["chunk_method"]:
            changes["parser_config"] = merge_parser_config(chunk_method, None)
        new_name = sent.get("name")
        old_key = current["name"].lower()
        if new_name is not None and new_name.lower() != old_key:
            if not self._store.claim(tenant, NAME_SCOPE, new_name.lower(), dataset_id):
                raise ApiError(RetCode.DATA_ERROR, f"Dataset name '{new_name}' already exists")
            changes["name"] = new_name
        elif new_name is not None:
            changes["name"] = new_name
        updated = self._store.update(KIND, tenant, dataset_id, stamp_update(changes))
        if updated is None:
            raise no_permission(tenant, dataset_id)
        if "name" in changes and changes["name"].lower() != old_key:
            self._store.release(tenant, NAME_SCOPE, old_key, dataset_id)
        self._sync_team_index(tenant, updated, was_team=current.get("permission") == "team")
        if refs is not None and self._link_connectors is not None:
            self._link_connectors(tenant, dataset_id, refs, list(current.get("connectors") or []), apply=True)
            return {**self.view(tenant, updated), "connectors": refs}
        return self.view(tenant, updated)

    def delete(self, tenant: str, payload: dict[str, Any]) -> dict[str, int]:
        unknown = set(payload) - {"ids", "delete_all"}
        if unknown:
            field = sorted(unknown)[0]
            raise ApiError(
                RetCode.ARGUMENT_ERROR,
                f"Field: <{field}> - Message: <Extra inputs are not permitted> - Value: <{payload[field]}>",
            )
        raw_ids = payload.get("ids")
        if raw_ids is not None and not isinstance(raw_ids, list):
            raise ApiError(RetCode.ARGUMENT_ERROR, f"Field: <ids> - Message: <Input should be a valid list> - Value: <{raw_ids}>")
        ids = None if raw_ids is None else [_uuid_field("ids", i, raw_ids) for i in raw_ids]
        if ids:
            check_no_duplicates(ids)
        delete_all = payload.get("delete_all", False)
        if not isinstance(delete_all, bool):
            raise ApiError(RetCode.ARGUMENT_ERROR, f"Field: <delete_all> - Message: <Input should be a valid boolean> - Value: <{delete_all}>")
        if not ids:
            if not delete_all:
                return {"success_count": 0}
            targets = [it for batch in self._store.batches(KIND, tenant, "") for it in batch]
        else:
            found = {it["id"]: it for it in self._store.get_many(KIND, tenant, ids)}
            missing = [i for i in ids if i not in found]
            if missing:
                raise ApiError(RetCode.DATA_ERROR, f"User '{tenant}' lacks permission for datasets: '{', '.join(missing)}'")
            targets = [found[i] for i in ids]
        for item in targets:
            self._delete_one(tenant, item)
        return {"success_count": len(targets)}

    def _delete_one(self, tenant: str, item: dict[str, Any]) -> None:
        # the row goes first so nothing new lands in it; then its documents, chunks, vectors and blobs
        self._store.delete(KIND, tenant, item["id"])
        self._store.release(tenant, NAME_SCOPE, item["name"].lower(), item["id"])
        if item.get("permission") == "team":
            self._store.delete(TEAM_KIND, tenant, item["id"])
        if self._purge is not None:
            self._purge(tenant, item["id"])

    # ---- helpers ---------------------------------------------------------------
    def check_model(self, tenant: str, model: str) -> None:
        """RAGFlow's verify_embedding_availability: the tenant's provider, instance and model must exist; the
        reason is its LookupError text ("Provider X not found for model m@X.", …)."""
        if model in self._known_models():
            return
        problem = self._model_problem(tenant, "embedding", model) if self._model_problem else f"Model {model} not found for model embedding"
        if problem:
            raise ApiError(RetCode.DATA_ERROR, problem)


def _uuid_field(field: str, value: Any, shown: Any) -> str:
    """RAGFlow's validate_uuid1_hex inside its request model: any UUID spelling, else its pydantic-style refusal."""
    try:
        return uuid_hex(value)
    except PydanticCustomError:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"Field: <{field}> - Message: <Invalid UUID format> - Value: <{shown}>") from None


def _filtered(items: list[dict[str, Any]], keywords: str, parser_id: str) -> list[dict[str, Any]]:
    """RAGFlow's `ext` filters: a name substring (any case) and a chunk method."""
    return [it for it in items if (not keywords or keywords.lower() in str(it.get("name", "")).lower())
            and (not parser_id or it.get("chunk_method") == parser_id)]


def _only_sent(raw: dict[str, Any], parsed: dict[str, Any]) -> dict[str, Any]:
    """Keep the validated values of the keys the client actually sent (nested one level)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in parsed and value is None:
            out[key] = None
            continue
        pv = parsed.get(key, value)
        if isinstance(value, dict) and isinstance(pv, dict):
            out[key] = {k: pv.get(k, v) for k, v in value.items()}
        else:
            out[key] = pv
    return out
