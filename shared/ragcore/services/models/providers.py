"""A tenant's model providers, their instances (an API key and base URL each) and the models each instance serves:
RAGFlow's provider_api services, with their messages. Which model a reference names, and the tenant's defaults,
are `tenant_models`.

Store layout (all under the tenant): a provider item per factory added (its id is the factory name); instances
under their provider; models under their instance (id: a hash of instance and model name, so a lookup by name is
one read). The API key is stored only encrypted (`Cipher`), and shown only masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import Failure
from ragcore.ids import new_id, now_ms
from ragcore.ports import Cipher, ListQuery, MetadataStore
from ragcore.services.models.catalogue import HIDDEN, Catalogue, Factory, model_types
from ragcore.services.models.names import human_types, mask_key, model_item_id

KIND_PROVIDER = kinds.MODEL_PROVIDER
KIND_INSTANCE = kinds.MODEL_INSTANCE
KIND_MODEL = kinds.TENANT_MODEL
LIMIT = 1000  # a tenant's providers / a provider's instances / an instance's models: catalogue-sized, read in one page
VERIFY_TIMEOUT_S = 10.0

# (factory, api_key, base_url, model_name, model_type) -> None, raising with a reason (never the key) on failure
Verifier = Callable[[str, str, str, str, str], None]


class ModelProviderService:
    def __init__(self, store: MetadataStore, catalogue: Catalogue, cipher: Callable[[], Cipher], verifier: Verifier,
                 *, discover: Callable[[str, str, str], list[dict[str, Any]]] | None = None) -> None:
        self._discover = discover  # (factory, api key, base URL) -> the models its server lists ([] when it cannot)
        self._store = store
        self._catalogue = catalogue
        self._cipher = cipher  # built on first use: a request that only lists never reads the key file/secret
        self._verify_one = verifier

    # ---- catalogue ---------------------------------------------------------------------------------------------
    def _provider_entry(self, factory: Factory, has_instance: bool | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"model_types": factory.model_types(), "name": factory.name,
                                 "url": {"default": factory.url}}
        if factory.intl:
            entry["url"]["intl"] = factory.intl
        return entry if has_instance is None else {"has_instance": has_instance, **entry}

    def list_providers(self, tenant: str, available: bool) -> list[dict[str, Any]]:
        if available:
            return [self._provider_entry(f) for f in self._catalogue.factories if f.name not in HIDDEN]
        added = {p["id"] for p in self.providers_of(tenant)}
        return [self._provider_entry(f, self._store.count(ListQuery(KIND_INSTANCE, tenant, parent=f.name)) > 0)
                for f in self._catalogue.factories if f.name in added and f.name not in HIDDEN]

    def _factory(self, name: str) -> Factory:
        factory = self._catalogue.get(name)
        if factory is None:
            raise Failure(f"Provider '{name}' not found")
        return factory

    def show_provider(self, name: str) -> dict[str, Any]:
        factory = self._factory(name)
        return {"base_url": {"default": factory.url}, "name": factory.name, "total_models": len(factory.llms)}

    def provider_models(self, name: str, api_key: Any = None, base_url: Any = None) -> list[dict[str, Any]]:
        """The catalogue's models of a factory, merged with what its server lists (self-hosted factories, when a
        discoverer is configured) — the remote entry wins a name both have, as in RAGFlow."""
        factory = self._factory(name)
        models = {m["llm_name"]: {"name": m["llm_name"], "max_tokens": m.get("max_tokens", 8192),
                                  "model_types": model_types(m),
                                  "features": m.get("features") or (["is_tools"] if m.get("is_tools") else [])}
                  for m in factory.llms}
        url = self._normal_base_url(factory.name, base_url) or factory.url
        if self._discover is not None and url:
            for remote in self._discover(factory.name, self._normal_key(factory.name, api_key), url):
                models[remote["name"]] = remote
        return sorted(models.values(), key=lambda m: m["name"])

    def provider_model(self, name: str, model_name: str) -> dict[str, Any]:
        factory = self._factory(name)
        if not factory.llms:
            raise Failure(f"No models found for provider '{name}'")
        llm = factory.llm(model_name)
        if llm is None:
            raise Failure(f"Model '{model_name}' not found")
        types = model_types(llm)
        return {"name": llm["llm_name"], "max_tokens": llm["max_tokens"], "model_types": types, "thinking": None,
                "model_type_map": {t: True for t in types}}

    # ---- providers ---------------------------------------------------------------------------------------------
    def providers_of(self, tenant: str) -> list[dict[str, Any]]:
        return self._store.page(ListQuery(KIND_PROVIDER, tenant, desc=False), 0, LIMIT)

    def has_providers(self, tenant: str) -> bool:
        """Whether the tenant added any model provider (one kept count): a tenant that never did is served by the
        deployment's own models whatever model names it uses, as before providers existed."""
        return self._store.count(ListQuery(KIND_PROVIDER, tenant)) > 0

    def add_provider(self, tenant: str, name: str) -> None:
        if not isinstance(name, str) or self._catalogue.get(name) is None:
            raise Failure(f"Provider '{name}' is not allowed")
        if not self._store.put(KIND_PROVIDER, tenant, {"id": name, "provider_name": name, "create_time": now_ms()},
                               if_absent=True):
            raise Failure(f"Provider {name} already exists")

    def provider_of(self, tenant: str, name: str, missing: str) -> dict[str, Any]:
        item = self._store.get(KIND_PROVIDER, tenant, name) if isinstance(name, str) and name else None
        if item is None:
            raise Failure(missing)
        return item

    def delete_provider(self, tenant: str, name: str) -> None:
        self.provider_of(tenant, name, f"Provider {name} not found")
        for instance in self.instances_of(tenant, name):
            self._drop_instance(tenant, instance)
        self._store.delete(KIND_PROVIDER, tenant, name)

    # ---- instances ---------------------------------------------------------------------------------------------
    def instances_of(self, tenant: str, provider: str) -> list[dict[str, Any]]:
        return self._store.page(ListQuery(KIND_INSTANCE, tenant, parent=provider), 0, LIMIT)

    def find_instance(self, tenant: str, provider: str, id_or_name: str) -> dict[str, Any] | None:
        if not isinstance(id_or_name, str) or not id_or_name:
            return None
        item = self._store.get(KIND_INSTANCE, tenant, id_or_name)
        if item is not None and item.get("provider_name") == provider:
            return item
        found = self._store.page(ListQuery(KIND_INSTANCE, tenant, parent=provider, name_equals=id_or_name), 0, 5)
        return next((i for i in found if i["instance_name"] == id_or_name), None)

    def instance_of(self, tenant: str, provider_ref: str, instance_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        provider = self.provider_of(tenant, provider_ref, f"No provider found for provider '{provider_ref}'")
        instance = self.find_instance(tenant, provider["id"], instance_ref)
        if instance is None:
            raise Failure(f"No instance found for provider '{provider_ref}' and instance '{instance_ref}'")
        return provider, instance

    def list_instances(self, tenant: str, provider_ref: str) -> list[dict[str, Any]]:
        provider = self.provider_of(tenant, provider_ref, f"No provider found for provider '{provider_ref}'")
        return [self._instance_row(i) for i in self.instances_of(tenant, provider["id"])]

    @staticmethod
    def _instance_row(item: dict[str, Any]) -> dict[str, Any]:
        return {"id": item["id"], "instance_name": item["instance_name"], "provider_id": item["provider_name"],
                "region": item.get("region", ""), "status": item.get("status", "active")}

    def show_instance(self, tenant: str, provider_ref: str, instance_ref: str) -> dict[str, Any]:
        _, instance = self.instance_of(tenant, provider_ref, instance_ref)
        # RAGFlow returns the stored key whole; here only its masked form ever leaves the server
        return {**self._instance_row(instance), "base_url": instance.get("base_url", ""),
                "api_key": mask_key(self.decrypt(instance))}

    def decrypt(self, instance: dict[str, Any]) -> str:
        token = instance.get("api_key_enc") or ""
        return self._cipher().decrypt(token) if token else ""

    @staticmethod
    def _normal_base_url(provider: str, base_url: Any) -> str:
        url = str(base_url or "").strip()
        if provider == "VLLM" and url:  # RAGFlow appends vLLM's /v1 for its users
            url = url.rstrip("/")
            url = url if url.endswith("/v1") else url + "/v1"
        return url

    @staticmethod
    def _normal_key(provider: str, api_key: Any) -> str:
        if provider == "VLLM" and not api_key:
            return "x"
        # RAGFlow stores a structured key (Bedrock's auth_mode/bedrock_ak/...) as its JSON text
        return api_key if isinstance(api_key, str) else ("" if not api_key else json.dumps(api_key))

    def create_name_only_instance(self, tenant: str, provider_ref: str, instance_name: str) -> None:
        if instance_name == "default":
            raise Failure("Instance name cannot be 'default'")
        if self._catalogue.get(provider_ref) is None:
            raise Failure(f"Provider '{provider_ref}' is not allowed")
        provider = self.provider_of(tenant, provider_ref, f"Provider '{provider_ref}' does not exist")
        self._put_instance(tenant, provider["id"], str(instance_name), "", "", "")

    def _put_instance(self, tenant: str, provider: str, name: str, api_key: str, base_url: str, region: str) -> dict[str, Any]:
        if self.find_instance(tenant, provider, name) is not None:
            raise Failure(f"Already exist instance {name} for provider {provider}")
        item = {"id": new_id(), "instance_name": name, "provider_name": provider, "api_key_enc": self._encrypt(api_key),
                "base_url": base_url, "region": region, "status": "active", "create_time": now_ms()}
        self._store.put(KIND_INSTANCE, tenant, item, parent=provider)
        return item

    def _encrypt(self, api_key: str) -> str:
        return self._cipher().encrypt(api_key) if api_key else ""

    def create_instance(self, tenant: str, provider_ref: str, name: Any, api_key: Any, base_url: Any, region: Any,
                        model_info: Any) -> None:
        provider = self.provider_of(tenant, provider_ref, f"Provider '{provider_ref}' does not exist")
        pname = provider["id"]
        url, key = self._normal_base_url(pname, base_url), self._normal_key(pname, api_key)
        if name == "default":
            raise Failure("Instance name cannot be 'default'")
        if not isinstance(name, str) or not name.strip():
            raise Failure("instance_name is required")
        factory = self._factory(pname)
        region = str(region or "")
        if self.find_instance(tenant, pname, name) is not None:
            raise Failure(f"Already exist instance {name} for provider {pname}")
        infos = self._model_info(model_info)
        results = self.verify(pname, key, url, region, infos)
        instance = self._put_instance(tenant, pname, name, key, url, region)
        errors = ""
        if infos:
            for info in infos:
                extra = dict(info.get("extra") or {})
                extra["verify"] = results.get(info["model_name"], "unknown")
                errors += self._add_model(tenant, pname, instance, info["model_name"], info.get("model_type") or [],
                                          info.get("max_tokens", 8192), extra)
        else:
            for llm in factory.llms:
                errors += self._add_model(tenant, pname, instance, llm["llm_name"], model_types(llm), llm["max_tokens"],
                                          {"is_tools": llm.get("is_tools", False),
                                           "thinking": "thinking" in (llm.get("features") or []),
                                           "verify": results.get(llm["llm_name"], "unknown")})
        if errors:
            raise Failure(errors)

    @staticmethod
    def _model_info(model_info: Any) -> list[dict[str, Any]]:
        if not model_info:
            return []
        if not isinstance(model_info, list) or not all(isinstance(m, dict) for m in model_info):
            raise Failure("model_info must be a list of objects")
        return [m for m in model_info if m.get("model_name")]

    def update_instance(self, tenant: str, provider_ref: str, instance_ref: str, name: Any, api_key: Any,
                        base_url: Any, region: Any, model_info: Any, verify: bool) -> None:
        provider = self.provider_of(tenant, provider_ref, f"Provider '{provider_ref}' does not exist")
        pname = provider["id"]
        instance = self.find_instance(tenant, pname, instance_ref)
        if instance is None:
            raise Failure(f"No instance found for provider '{provider_ref}' and instance '{instance_ref}'")
        url, key = self._normal_base_url(pname, base_url), self._normal_key(pname, api_key)
        infos = self._model_info(model_info)
        results = self.verify(pname, key, url, str(region or ""), infos) if verify else {}
        changes: dict[str, Any] = {"api_key_enc": self._encrypt(key)}
        if isinstance(name, str) and name and name != instance["instance_name"]:
            if self.find_instance(tenant, pname, name) is not None:
                raise Failure(f"Already exist instance {name} for provider {pname}")
            changes["instance_name"] = name
        if url:
            changes["base_url"] = url
        if region:
            changes["region"] = str(region)
        updated = self._store.update(KIND_INSTANCE, tenant, instance["id"], changes) or {**instance, **changes}
        existing = {m["model_name"]: m for m in self.models_of(tenant, instance["id"])}
        submitted = {m["model_name"] for m in infos}
        if model_info is not None:
            for gone in set(existing) - submitted:
                self._store.delete(KIND_MODEL, tenant, existing[gone]["id"])
        errors = ""
        for info in infos:
            extra = dict(info.get("extra") or {})
            if verify:
                extra["verify"] = results.get(info["model_name"], "unknown")
            current = existing.get(info["model_name"])
            if current is None:
                errors += self._add_model(tenant, pname, updated, info["model_name"], info.get("model_type") or [],
                                          info.get("max_tokens", 8192), extra)
                continue
            model_changes: dict[str, Any] = {"extra": {**(current.get("extra") or {}), **extra}}
            if "max_tokens" in info:
                model_changes["extra"]["max_tokens"] = info["max_tokens"]
            if isinstance(info.get("model_type"), (str, list)):
                model_changes["model_type"] = human_types(info["model_type"])
            self._store.update(KIND_MODEL, tenant, current["id"], model_changes)
        if errors:
            raise Failure(errors)

    def drop_instances(self, tenant: str, provider_ref: str, refs: list[Any]) -> None:
        provider = self.provider_of(tenant, provider_ref, f"No provider found for provider '{provider_ref}'")
        found, missing = [], []
        for ref in refs:
            instance = self.find_instance(tenant, provider["id"], ref) if isinstance(ref, str) else None
            (found.append(instance) if instance is not None else missing.append(ref))
        if missing:
            raise Failure(f"No instance found for provider '{provider_ref}' and instance '{missing}'")
        for instance in found:
            if instance is not None:
                self._drop_instance(tenant, instance)

    def _drop_instance(self, tenant: str, instance: dict[str, Any]) -> None:
        self._store.delete_under(KIND_MODEL, tenant, instance["id"])
        self._store.delete(KIND_INSTANCE, tenant, instance["id"])

    # ---- connection checks -------------------------------------------------------------------------------------
    def verify(self, provider: str, api_key: Any, base_url: Any, region: Any,
               model_info: list[dict[str, Any]] | None) -> dict[str, str]:
        """RAGFlow's check: try the models named (or the catalogue's) until one model answers one of its types;
        the model → "success"/"fail" map on success, Failure with every reason gathered otherwise."""
        factory = self._factory(provider)
        key, url = self._normal_key(provider, api_key), self._normal_base_url(provider, base_url)
        url = url or factory.base_url(str(region or ""))
        if model_info:
            llms = [{"llm_name": m.get("model_name", ""), "model_type": t} for m in model_info
                    for t in human_types(m.get("model_type") or [])]
            if not llms:
                raise Failure(f"No valid models found for provider '{provider}'")
        else:
            llms = list(factory.llms)
            if not llms:
                raise Failure(f"No models found for provider '{provider}'.")
        results: dict[str, str] = {}
        message = ""
        for llm in llms:
            name = llm["llm_name"]
            passed = False
            for kind in model_types(llm):
                label = f"embedding model({name})" if kind == "embedding" else f"model({provider}/{name})"
                if kind not in ("chat", "embedding", "rerank", "vision"):  # vision: the picture method's describer
                    message += f"\n{kind.capitalize()} model from {provider} is not supported yet."
                    results[name] = "fail"
                    continue
                if not url and factory.protocol == "openai":
                    message += f"\nFail to access {label}.base_url is required"
                    results[name] = "fail"
                    continue
                try:
                    self._verify_one(provider, key, url, name, kind)
                except Exception as exc:  # any failure of the provider call is the user's answer, as in RAGFlow
                    message += f"\nFail to access {label}.{exc}"
                    results[name] = "fail"
                    continue
                results[name] = "success"
                passed = True
                break
            if passed:
                return results
            message = message or "No model passed verification"
        raise Failure(message)

    # ---- an instance's models ----------------------------------------------------------------------------------
    def models_of(self, tenant: str, instance_id: str) -> list[dict[str, Any]]:
        return self._store.page(ListQuery(KIND_MODEL, tenant, parent=instance_id, desc=False), 0, LIMIT)

    def _add_model(self, tenant: str, provider: str, instance: dict[str, Any], name: Any, kind: Any, max_tokens: Any,
                   extra: dict[str, Any]) -> str:
        """"" when added, else RAGFlow's reason (the callers gather them)."""
        if not isinstance(name, str) or not name:
            return "model_name is required"
        model_id = model_item_id(instance["id"], name)
        factory = self._catalogue.get(provider)
        fields: dict[str, Any] = {"max_tokens": max_tokens}
        llm = factory.llm(name) if factory else None
        if llm is not None:
            fields.update({"is_tools": llm.get("is_tools", False), "thinking": "thinking" in (llm.get("features") or [])})
        fields.update(extra)
        item = {"id": model_id, "model_name": name, "provider_name": provider, "instance_id": instance["id"],
                "model_type": human_types(kind), "status": "active", "extra": fields, "create_time": now_ms()}
        if not self._store.put(KIND_MODEL, tenant, item, parent=instance["id"], if_absent=True):
            return (f"Model '{name}' already exists for provider '{provider}' and instance "
                    f"'{instance['instance_name']}'")
        return ""

    def add_model(self, tenant: str, provider_ref: str, instance_ref: str, name: Any, kind: Any, max_tokens: Any,
                  extra: Any) -> None:
        provider, instance = self.instance_of(tenant, provider_ref, instance_ref)
        message = self._add_model(tenant, provider["id"], instance, name, kind, max_tokens,
                                  dict(extra) if isinstance(extra, dict) else {})
        if message:
            raise Failure(message.replace(f"provider '{provider['id']}' and instance '{instance['instance_name']}'",
                                          f"provider '{provider_ref}' and instance '{instance_ref}'"))

    def instance_models(self, tenant: str, provider_ref: str, instance_ref: str, supported: bool) -> list[dict[str, Any]]:
        provider = self.provider_of(tenant, provider_ref, f"No provider found for provider '{provider_ref}'")
        factory = self._factory(provider["id"])
        ranks = {m["llm_name"]: int(m.get("rank", 500)) for m in factory.llms}
        if supported:
            rows = [{"name": m["llm_name"], "rank": ranks[m["llm_name"]]} for m in factory.llms]
            return sorted(rows, key=lambda r: (-r["rank"], r["name"]))
        _, instance = self.instance_of(tenant, provider_ref, instance_ref)
        out = []
        for model in self.models_of(tenant, instance["id"]):
            extra = dict(model.get("extra") or {})
            out.append({"name": model["model_name"], "model_type": model["model_type"],
                        "max_tokens": extra.get("max_tokens", 8192), "status": model.get("status", "active"),
                        "verify": extra.get("verify", "unknown"),
                        "features": (["is_tools"] if extra.get("is_tools") else []) + (["thinking"] if extra.get("thinking") else []),
                        "rank": ranks.get(model["model_name"], 500), "extra": extra})
        return sorted(out, key=lambda r: (-r["rank"], r["name"]))

    def _named_models(self, tenant: str, provider_ref: str, instance_ref: str,
                      names: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        _, instance = self.instance_of(tenant, provider_ref, instance_ref)
        wanted = [names] if isinstance(names, str) else [n for n in (names or []) if isinstance(n, str)]
        items = self._store.get_many(KIND_MODEL, tenant, [model_item_id(instance["id"], n) for n in wanted])
        missing = set(wanted) - {m["model_name"] for m in items}
        if missing:
            raise Failure(f"Models {missing} not found for provider '{provider_ref}' and instance '{instance_ref}'")
        return instance, items

    def retype_models(self, tenant: str, provider_ref: str, instance_ref: str, names: Any, kinds: Any) -> None:
        if not names or not kinds:
            raise Failure("model_name and model_type are required")
        _, items = self._named_models(tenant, provider_ref, instance_ref, names)
        for item in items:
            self._store.update(KIND_MODEL, tenant, item["id"], {"model_type": human_types(kinds)})

    def delete_models(self, tenant: str, provider_ref: str, instance_ref: str, names: Any) -> None:
        _, items = self._named_models(tenant, provider_ref, instance_ref, names)
        for item in items:
            self._store.delete(KIND_MODEL, tenant, item["id"])

    def update_model(self, tenant: str, provider_ref: str, instance_ref: str, name: str, changes: dict[str, Any]) -> None:
        _, instance = self.instance_of(tenant, provider_ref, instance_ref)
        model = self._store.get(KIND_MODEL, tenant, model_item_id(instance["id"], name))
        if model is None:
            raise Failure(f"Model '{name}' not added for provider '{provider_ref}' and instance '{instance_ref}'")
        update: dict[str, Any] = {}
        if "status" in changes and changes["status"] != model.get("status"):
            update["status"] = changes["status"]
        extra = dict(changes.get("extra") or {}) if isinstance(changes.get("extra"), dict) else {}
        if "max_tokens" in changes:
            extra["max_tokens"] = changes["max_tokens"]
        if extra:
            update["extra"] = {**(model.get("extra") or {}), **extra}
        if "model_type" in changes:
            update["model_type"] = human_types(changes["model_type"])
        if update:
            self._store.update(KIND_MODEL, tenant, model["id"], update)

