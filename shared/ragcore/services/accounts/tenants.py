"""Tenants and their API keys. Keys are stored as SHA-256 hashes and shown once.

Each key is one item in the deployment-wide index (hash -> tenant, what a request resolves) and, for keys made
since tokens are managed over HTTP, one item under its tenant (what `/system/tokens` pages through).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ragcore.domain import kinds
from ragcore.ids import new_id, now_ms
from ragcore.ports import ListQuery, MetadataStore

KEYS = "_keys"  # pseudo-tenant that holds the key index (hash -> tenant)
KIND_KEY = kinds.API_KEY
KIND_TENANT = kinds.TENANT
KIND_TOKEN = kinds.API_TOKEN  # a tenant's view of its keys (no secret: the key id, the key's first characters, beta)
BETAS = "_betas"  # pseudo-tenant of the beta-token index (hash -> tenant), for the embeddable bots' routes
KIND_BETA = kinds.BETA


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    tenant_id: str
    key: str
    key_id: str
    beta: str = ""
    create_time: int = 0


MASK = "..."  # a listed key: its first characters, MASK, its key id (which revokes it)


def masked(item: dict[str, object]) -> str:
    return f"{item['prefix']}{MASK}{item['id']}"


class TenantService:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def create_tenant(self, name: str = "default", *, tenant_id: str | None = None, owner: str = "") -> str:
        tenant_id = tenant_id or new_id()
        item = {"id": tenant_id, "name": name, "create_time": now_ms()}
        if owner:
            item["owner"] = owner
        self._store.put(KIND_TENANT, tenant_id, item)
        return tenant_id

    def get_tenant(self, tenant_id: str) -> dict[str, object] | None:
        return self._store.get(KIND_TENANT, tenant_id, tenant_id)

    def delete_tenant(self, tenant_id: str) -> None:
        self._store.delete(KIND_TENANT, tenant_id, tenant_id)

    def tenant_exists(self, tenant_id: str) -> bool:
        return self._store.get(KIND_TENANT, tenant_id, tenant_id) is not None

    def first_tenant(self) -> str | None:
        keys = self._store.page(ListQuery(KIND_KEY, KEYS, desc=False), 0, 1)
        return keys[0]["tenant_id"] if keys else None

    def _keys(self) -> list[dict[str, object]]:
        """Every key of the deployment (the command line's list and revoke: an operator's view of everything)."""
        return [item for batch in self._store.batches(KIND_KEY, KEYS, "") for item in batch]

    def create_key(self, tenant_id: str) -> NewKey:
        key = "ragflow-" + secrets.token_urlsafe(24)
        digest = hash_key(key)
        key_id = digest[:12]
        # RAGFlow issues a "beta" token beside each key for the embeddable bots; it is published in the pages that
        # embed a bot, so it is listed in full (and indexed by hash for the routes that will accept it)
        beta = secrets.token_urlsafe(24)[:32]
        created = now_ms()
        self._store.put(
            KIND_KEY,
            KEYS,
            {"id": digest, "key_id": key_id, "tenant_id": tenant_id, "prefix": key[:12], "create_time": created},
        )
        self._store.put(KIND_BETA, BETAS, {"id": hash_key(beta), "tenant_id": tenant_id, "key_id": key_id})
        self._store.put(
            KIND_TOKEN,
            tenant_id,
            {"id": key_id, "digest": digest, "prefix": key[:12], "beta": beta, "create_time": created},
        )
        return NewKey(tenant_id=tenant_id, key=key, key_id=key_id, beta=beta, create_time=created)

    def page_tokens(self, tenant_id: str, offset: int, limit: int) -> list[dict[str, object]]:
        """The tenant's keys made since keys are listed per tenant, oldest first."""
        return self._store.page(ListQuery(KIND_TOKEN, tenant_id, desc=False), offset, limit)

    def revoke_token(self, tenant_id: str, token: str) -> bool:
        """Revoke one of the tenant's own keys, named by the key itself, its key id or its listed (masked) form."""
        if not token or len(token) > 512:
            return False
        indexed = self._store.get(KIND_KEY, KEYS, hash_key(token))
        if indexed is not None:
            return indexed["tenant_id"] == tenant_id and self._drop(indexed)  # another tenant's key: as if absent
        listed = self._store.get(KIND_TOKEN, tenant_id, token.rsplit(MASK, 1)[-1])
        if listed is None:
            return False
        return self._drop({"id": listed["digest"], "tenant_id": tenant_id, "key_id": listed["id"]})

    def _drop(self, indexed: dict[str, object]) -> bool:
        tenant_id, key_id = str(indexed["tenant_id"]), str(indexed["key_id"])
        listed = self._store.get(KIND_TOKEN, tenant_id, key_id)
        if listed is not None:
            self._store.delete(KIND_BETA, BETAS, hash_key(str(listed.get("beta", ""))))
            self._store.delete(KIND_TOKEN, tenant_id, key_id)
        return self._store.delete(KIND_KEY, KEYS, str(indexed["id"]))

    def resolve(self, key: str) -> str | None:
        if not key or len(key) > 512:
            return None
        item = self._store.get(KIND_KEY, KEYS, hash_key(key))
        return str(item["tenant_id"]) if item else None

    def resolve_beta(self, token: str) -> str | None:
        """The tenant of an embedded bot's beta token (revoked with its key)."""
        if not token or len(token) > 512:
            return None
        item = self._store.get(KIND_BETA, BETAS, hash_key(token))
        return str(item["tenant_id"]) if item else None

    def list_keys(self, tenant_id: str | None = None) -> list[dict[str, object]]:
        keys = self._keys()
        return [
            {k: v for k, v in item.items() if k != "id"}
            for item in keys
            if tenant_id is None or item["tenant_id"] == tenant_id
        ]

    def revoke(self, key_or_id: str) -> bool:
        """Revoke by the key itself or by its key_id (as `list` shows)."""
        direct = self._store.get(KIND_KEY, KEYS, hash_key(key_or_id))
        if direct is not None:
            return self._drop(direct)
        for item in self._keys():
            if item["key_id"] == key_or_id:
                return self._drop(item)
        return False
