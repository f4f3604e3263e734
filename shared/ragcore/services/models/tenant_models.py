"""Which model a tenant's reference names (`model@instance@factory`, `model@factory`, a model id), with the
tenant's key for it; the models a tenant added; its default models (RAGFlow's tenant LLM settings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import Failure
from ragcore.ports import ListQuery, MetadataStore, ModelConfig
from ragcore.services.models.catalogue import BUILTIN, Catalogue
from ragcore.services.models.names import DEFAULT_FIELDS, LEGACY_TYPES, model_item_id, split_model_name
from ragcore.services.models.providers import ModelProviderService

KIND_INSTANCE = kinds.MODEL_INSTANCE
KIND_MODEL = kinds.TENANT_MODEL
KIND_PROVIDER = kinds.MODEL_PROVIDER
KIND_DEFAULTS = kinds.MODEL_DEFAULTS
DEFAULTS_ID = "defaults"


class TenantModels:
    def __init__(self, store: MetadataStore, catalogue: Catalogue, providers: ModelProviderService, *,
                 builtin_embedding: bool = True, extractive_chat: bool = False) -> None:
        self._store = store
        self._catalogue = catalogue
        self._providers = providers
        self._builtin = builtin_embedding
        self._extractive = extractive_chat  # no LLM_BASE_URL: chats answer by quoting (listed so clients can say so)

    def model_to_chat(self, tenant: str, provider_ref: str, instance_ref: str, name: str) -> ModelConfig:
        """What POST .../instances/{i}/models/{m} talks to: that model of the tenant's instance, as a chat model."""
        provider, instance = self._providers.instance_of(tenant, provider_ref, instance_ref)
        composite = f"{name}@{instance['instance_name']}@{provider['id']}"
        try:
            return self.resolve(tenant, "chat", composite)
        except LookupError:
            raise Failure(f"Model '{composite}' not authorized") from None

    # ---- the tenant's models -----------------------------------------------------------------------------------
    def _all_models(self, tenant: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for provider in self._providers.providers_of(tenant):
            for instance in self._providers.instances_of(tenant, provider["id"]):
                for model in self._providers.models_of(tenant, instance["id"]):
                    yield instance, model

    def added_models(self, tenant: str, tenant_name: str, kind: str | None) -> list[dict[str, Any]]:
        wanted = LEGACY_TYPES.get(kind.lower(), kind.lower()) if kind else None
        rows = []
        for instance, model in self._all_models(tenant):
            if wanted and wanted not in model["model_type"]:
                continue
            factory = self._catalogue.get(model["provider_name"])
            llm = factory.llm(model["model_name"]) if factory else None
            rows.append({"model_id": model["id"], "tenant_id": tenant, "tenant_name": tenant_name,
                         "model_type": model["model_type"], "name": model["model_name"],
                         "provider_id": model["provider_name"], "provider_name": model["provider_name"],
                         "model_provider": model["provider_name"], "instance_id": instance["id"],
                         "instance_name": instance["instance_name"], "rank": int((llm or {}).get("rank", 500))})
        if self._builtin and (not wanted or wanted == "embedding"):
            rows.append({"model_id": "", "tenant_id": tenant, "tenant_name": tenant_name, "model_type": ["embedding"],
                         "name": "all-MiniLM-L6-v2", "provider_id": "", "provider_name": BUILTIN,
                         "model_provider": BUILTIN, "instance_id": "", "instance_name": "default", "rank": 500})
        if self._extractive and (not wanted or wanted == "chat"):
            rows.append({"model_id": "", "tenant_id": tenant, "tenant_name": tenant_name, "model_type": ["chat"],
                         "name": "extractive", "provider_id": "", "provider_name": BUILTIN,
                         "model_provider": BUILTIN, "instance_id": "", "instance_name": "default", "rank": 400})
        rows.sort(key=lambda r: (-self._catalogue.rank(r["provider_name"]), r["provider_name"], r["instance_name"],
                                 -r["rank"], r["name"]))
        return rows

    def resolve(self, tenant: str, kind: str, ref: str) -> ModelConfig:
        """The model a chat / dataset / component names, with this tenant's key: LookupError with RAGFlow's reason
        when the tenant has not configured it (another tenant's providers are never looked at)."""
        if not isinstance(ref, str) or not ref:
            raise LookupError(f"Model {ref} not found for model {kind}")
        by_id = self._store.get(KIND_MODEL, tenant, ref) if len(ref) == 32 and "@" not in ref else None
        if by_id is not None:
            instance = self._store.get(KIND_INSTANCE, tenant, by_id["instance_id"])
            if instance is None:
                raise LookupError(f"TenantModel id={ref} not found.")
            return self._config(kind, instance, by_id, ref)
        name, instance_name, provider = split_model_name(ref)
        if provider == BUILTIN and kind == "embedding" and self._builtin:
            return ModelConfig(BUILTIN, instance_name or "default", name, kind, "", "")
        if not provider or self._store.get(KIND_PROVIDER, tenant, provider) is None:
            raise LookupError(f"Provider {provider} not found for model {ref}.")
        instance = self._providers.find_instance(tenant, provider, instance_name)
        if instance is None and instance_name == "default":
            # RAGFlow: `model@factory` means the provider's one active instance when there is exactly one
            active = [i for i in self._store.page(ListQuery(KIND_INSTANCE, tenant, parent=provider), 0, 2)
                      if i.get("status", "active") == "active"]
            instance = active[0] if len(active) == 1 else None
        if instance is None:
            raise LookupError(f"Instance {instance_name} not found for model {ref}.")
        model = self._store.get(KIND_MODEL, tenant, model_item_id(instance["id"], name))
        if model is None or kind not in model["model_type"] and not (kind == "chat" and "vision" in model["model_type"]):
            raise LookupError(f"Model {ref} not found for model {kind}")
        return self._config(kind, instance, model, ref)

    def _config(self, kind: str, instance: dict[str, Any], model: dict[str, Any], ref: str) -> ModelConfig:
        if model.get("status", "active") == "inactive":
            raise LookupError(f"Model {ref} is disabled.")
        factory = self._catalogue.get(instance["provider_name"])
        base_url = instance.get("base_url") or (factory.base_url(instance.get("region", "")) if factory else "")
        return ModelConfig(instance["provider_name"], instance["instance_name"], model["model_name"], kind,
                           self._providers.decrypt(instance), base_url, int((model.get("extra") or {}).get("max_tokens", 8192)),
                           str(instance.get("region") or ""))

    # ---- defaults ----------------------------------------------------------------------------------------------
    def defaults(self, tenant: str) -> dict[str, Any]:
        return self._store.get(KIND_DEFAULTS, tenant, DEFAULTS_ID) or {}

    def default_models(self, tenant: str) -> dict[str, Any]:
        stored = self.defaults(tenant)
        models = []
        for kind, field in DEFAULT_FIELDS.items():
            ref = stored.get(field)
            if not ref:
                continue
            try:
                config = self.resolve(tenant, kind, ref)
            except LookupError:
                continue  # RAGFlow leaves out a default whose model is gone or disabled
            models.append({"model_id": stored.get(f"tenant_{field}"), "model_provider": config.factory,
                           "model_instance": config.instance, "model_name": config.model_name, "model_type": kind,
                           "enable": True})
        return {"models": models}

    def set_default(self, tenant: str, provider: Any, instance: Any, name: Any, kind: Any, model_id: Any) -> None:
        field = DEFAULT_FIELDS.get(kind) if isinstance(kind, str) else None
        if field is None:
            raise Failure(f"model type '{kind}' is invalid")
        tenant_model_id: str | None = None
        if model_id:
            model = self._store.get(KIND_MODEL, tenant, str(model_id))
            if model is None:
                raise Failure(f"model_id '{model_id}' not found")
            owner = self._store.get(KIND_INSTANCE, tenant, model["instance_id"])
            if owner is None:
                raise Failure(f"Instance id '{model['instance_id']}' not found for model_id '{model_id}'")
            self._check_usable(model, kind)
            ref = f"{model['model_name']}@{owner['instance_name']}@{owner['provider_name']}"
            tenant_model_id = str(model_id)
        elif provider and instance and name:
            ref = f"{name}@{instance}@{provider}"
            if provider == BUILTIN and kind == "embedding" and self._builtin:
                tenant_model_id = None
            else:
                tenant_model_id = self._available(tenant, str(provider), str(instance), str(name), kind)
        else:
            ref = ""
        current = self.defaults(tenant)
        self._store.put(KIND_DEFAULTS, tenant, {**current, "id": DEFAULTS_ID, field: ref, f"tenant_{field}": tenant_model_id})

    @staticmethod
    def _check_usable(model: dict[str, Any], kind: str) -> None:
        if kind not in model["model_type"]:
            raise Failure(f"Model '{model['model_name']}' isn't a {kind} model")
        if model.get("status", "active") != "active":
            raise Failure(f"Model '{model['model_name']}' isn't available")

    def _available(self, tenant: str, provider: str, instance_name: str, name: str, kind: str) -> str:
        if self._store.get(KIND_PROVIDER, tenant, provider) is None:
            raise Failure(f"Provider '{provider}' not found")
        instance = self._providers.find_instance(tenant, provider, instance_name)
        if instance is None:
            raise Failure(f"Instance '{instance_name}' not found for provider '{provider}'")
        model = self._store.get(KIND_MODEL, tenant, model_item_id(instance["id"], name))
        if model is None:
            raise Failure(f"Model {name}@{instance_name}@{provider} not found for model {kind}")
        self._check_usable(model, kind)
        return str(model["id"])

    def tenant_info(self, tenant: str, name: str) -> dict[str, Any]:
        stored = self.defaults(tenant)
        info: dict[str, Any] = {"tenant_id": tenant, "name": name}
        for field in ("llm_id", "embd_id", "rerank_id", "asr_id", "img2txt_id", "tts_id", "ocr_id"):
            info[field] = stored.get(field, "")
            info[f"tenant_{field}"] = stored.get(f"tenant_{field}")
        info.update({"parser_ids": stored.get("parser_ids", ""), "role": "owner"})
        return info

    def set_tenant_info(self, tenant: str, changes: dict[str, Any]) -> None:
        fields = {k: v for k, v in changes.items()
                  if k in {"llm_id", "embd_id", "rerank_id", "asr_id", "img2txt_id", "tts_id", "ocr_id", "parser_ids"}}
        self._store.put(KIND_DEFAULTS, tenant, {**self.defaults(tenant), **fields, "id": DEFAULTS_ID})

