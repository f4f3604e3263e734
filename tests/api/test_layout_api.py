"""A PDF parsed through the API with RAGFlow's default layout_recognize ("DeepDOC"): table chunks as HTML with
positions; the same file under "Plain Text" gets the text-layer chunks (no tables, zero positions)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api
from tests.unit.layout_pdfs import RULED, UNRULED, table_page


def chunks_of(api: Api, ds: str, doc_id: str) -> list[dict[str, Any]]:
    res = api.call("GET", f"/api/v1/datasets/{ds}/documents/{doc_id}/chunks", params={"page_size": 100})
    assert res["code"] == 0, res
    return list(res["data"]["chunks"])


def test_default_dataset_reads_pdf_tables_as_html_chunks_with_positions(api: Api) -> None:
    data, _ = table_page()
    ds = make_dataset(api, "layout")
    stored = api.call("GET", "/api/v1/datasets", params={"id": ds})["data"][0]
    assert stored["parser_config"]["layout_recognize"] == "DeepDOC"
    (doc,) = ingest(api, ds, {"tables.pdf": data})
    assert doc["run"] == "DONE", doc["progress_msg"]
    chunks = chunks_of(api, ds, doc["id"])
    tables = [c for c in chunks if c["content"].startswith("<table>")]
    assert len(tables) == 2
    for table, rows in zip(tables, (RULED, UNRULED), strict=True):
        assert all(f"<td>{cell}</td>" in table["content"] for row in rows for cell in row)
        assert table["positions"] and all(p[0] == 1 and p[1] < p[2] and p[3] < p[4] for p in table["positions"])
    assert all(c["positions"] and c["positions"][0][2] > 0 for c in chunks)

    plain = make_dataset(api, "plain", parser_config={"layout_recognize": "Plain Text"})
    (doc,) = ingest(api, plain, {"tables.pdf": data})
    assert doc["run"] == "DONE", doc["progress_msg"]
    chunks = chunks_of(api, plain, doc["id"])
    assert not any("<table>" in c["content"] for c in chunks)
    assert all(p[1:] == [0, 0, 0, 0] for c in chunks for p in c["positions"])


def test_a_missing_layout_model_is_said_in_progress_msg(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.parsing import layout_model

    monkeypatch.setattr(layout_model, "available", lambda: False)
    ds = make_dataset(api, "nomodel")
    (doc,) = ingest(api, ds, {"tables.pdf": table_page()[0]})
    assert doc["run"] == "DONE" and "No layout model here" in doc["progress_msg"], doc["progress_msg"]
    tables = [c for c in chunks_of(api, ds, doc["id"]) if c["content"].startswith("<table>")]
    assert len(tables) == 1 and all(f"<td>{cell}</td>" in tables[0]["content"] for row in RULED for cell in row)
