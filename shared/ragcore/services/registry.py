"""Wires services to the container's adapters; routes and handlers ask for services here."""

from __future__ import annotations

from functools import lru_cache

from ragcore.container import Container, get_container, on_reset
from ragcore.services.datasets import DatasetService
from ragcore.services.tenants import TenantService


def build_dataset_service(container: Container) -> DatasetService:
    purge = container.extras.get("purge_dataset")
    run_counts = container.extras.get("run_counts")
    return DatasetService(
        container.store,
        default_embedding_model=container.settings.embedding_model,
        known_embedding_models=container.embedding_models,
        purge=purge,
        run_counts=run_counts,
    )


@lru_cache(maxsize=1)
def datasets() -> DatasetService:
    return build_dataset_service(get_container())


@lru_cache(maxsize=1)
def tenants() -> TenantService:
    return TenantService(get_container().store)


on_reset(datasets.cache_clear)
on_reset(tenants.cache_clear)
