"""Tenants and their API keys. Keys are stored as SHA-256 hashes and shown once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ragcore.ids import new_id, now_ms
from ragcore.ports import ListQuery, MetadataStore

KEYS = "_keys"  # pseudo-tenant that holds the key index (hash -> tenant)
KIND_KEY = "apikey"
KIND_TENANT = "tenant"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    tenant_id: str
    key: str
    key_id: str


class TenantService:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def create_tenant(self, name: str = "default") -> str:
        tenant_id = new_id()
        self._store.put(KIND_TENANT, tenant_id, {"id": tenant_id, "name": name, "create_time": now_ms()})
        return tenant_id

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
        self._store.put(
            KIND_KEY,
            KEYS,
            {"id": digest, "key_id": key_id, "tenant_id": tenant_id, "prefix": key[:12], "create_time": now_ms()},
        )
        return NewKey(tenant_id=tenant_id, key=key, key_id=key_id)

    def resolve(self, key: str) -> str | None:
        if not key or len(key) > 512:
            return None
        item = self._store.get(KIND_KEY, KEYS, hash_key(key))
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
            return self._store.delete(KIND_KEY, KEYS, direct["id"])
        for item in self._keys():
            if item["key_id"] == key_or_id:
                return self._store.delete(KIND_KEY, KEYS, str(item["id"]))
        return False
