"""The official ragflow-sdk against the real local server."""

from __future__ import annotations

import pytest
from ragflow_sdk import RAGFlow

from tests.conftest import Server


def test_sdk_dataset_lifecycle(server: Server) -> None:
    rag = RAGFlow(api_key=server.key, base_url=server.base_url)
    ds = rag.create_dataset(name="sdk_e2e", description="made by the sdk")
    assert ds.name == "sdk_e2e" and ds.chunk_method == "naive"
    assert [d.id for d in rag.list_datasets(name="sdk_e2e")] == [ds.id]
    ds.update({"name": "sdk_e2e_renamed", "description": "changed"})
    again = rag.get_dataset(name="sdk_e2e_renamed")
    assert again.id == ds.id and again.description == "changed"
    rag.delete_datasets(ids=[ds.id])
    assert rag.list_datasets() == []


def test_sdk_errors_surface_ragflow_messages(server: Server) -> None:
    rag = RAGFlow(api_key=server.key, base_url=server.base_url)
    with pytest.raises(Exception, match="String should have at least 1 character"):
        rag.create_dataset(name="")
    bad = RAGFlow(api_key="invalid_key_123", base_url=server.base_url)
    with pytest.raises(Exception, match="Unauthorized"):
        bad.list_datasets()


def test_cli_keys(server: Server) -> None:
    out = server.cli("apikey", "create").strip().splitlines()
    key = out[-1]
    rag = RAGFlow(api_key=key, base_url=server.base_url)
    assert isinstance(rag.list_datasets(), list)
    listed = server.cli("apikey", "list")
    key_id = out[0].split("key id ")[1].split()[0]
    assert key_id in listed and key not in listed
    server.cli("apikey", "revoke", key_id)
    with pytest.raises(Exception, match="Unauthorized"):
        rag.list_datasets()
    raw = (server.data_dir / "ragflow.sqlite3").read_bytes()
    assert key.encode() not in raw and server.key.encode() not in raw
