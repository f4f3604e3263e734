"""ragflow-sdk against the real local server: upload, parse, chunks, retrieval."""

from __future__ import annotations

import time

from ragflow_sdk import RAGFlow

from tests.conftest import Server


def test_sdk_upload_parse_chunks_retrieve(server: Server) -> None:
    rag = RAGFlow(api_key=server.key, base_url=server.base_url)
    ds = rag.create_dataset(name="sdk_docs")
    docs = ds.upload_documents([
        {"display_name": "ragflow.txt", "blob": b"RAGFlow is a RAG engine based on deep document understanding.\n"},
        {"display_name": "tea.md", "blob": b"# Tea\n\nGreen tea comes from Camellia sinensis.\n"},
    ])
    assert [d.name for d in docs] == ["ragflow.txt", "tea.md"]
    ds.async_parse_documents([d.id for d in docs])
    deadline = time.time() + 60
    while time.time() < deadline:
        states = {d.run for d in ds.list_documents()}
        if states <= {"DONE", "FAIL", "CANCEL"}:
            break
        time.sleep(0.2)
    listed = {d.name: d for d in ds.list_documents()}
    assert listed["ragflow.txt"].run == "DONE" and listed["ragflow.txt"].chunk_count >= 1
    doc = listed["tea.md"]
    chunks = doc.list_chunks()
    assert chunks and "Camellia" in chunks[0].content
    added = doc.add_chunk(content="Oolong is partially oxidised.", important_keywords=["oolong"])
    added.update({"content": "Oolong tea is partially oxidised."})
    found = rag.retrieve(question="oolong", dataset_ids=[ds.id])
    assert found and found[0].content == "Oolong tea is partially oxidised."
    assert doc.download().startswith(b"# Tea")
    doc.delete_chunks([added.id])
    assert all(c.id != added.id for c in rag.retrieve(question="oolong", dataset_ids=[ds.id], similarity_threshold=0.0))
    ds.delete_documents(ids=[doc.id])
    assert [d.name for d in ds.list_documents()] == ["ragflow.txt"]
