"""An index written before FTS rows shared their vector row's rowid is renumbered on open, and stays searchable
and deletable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ragcore.adapters.local_index import LocalVectorIndex


def record(cid: str, text: str) -> dict:  # type: ignore[type-arg]
    return {"id": cid, "dataset_id": "ds", "document_id": "doc", "content": text, "vector": [1.0, 0.0, 0.0], "available": True}


def test_old_index_is_renumbered_and_still_works(tmp_path: Path) -> None:
    index = LocalVectorIndex(tmp_path)
    index.upsert("t", [record("a", "the nile river"), record("b", "the amazon river")])  # type: ignore[list-item]
    # rewrite it the way older versions stored it: FTS rowids unrelated to vectors' rowids
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    rows = db.execute("SELECT terms, tenant, id, dataset_id, document_id, available FROM fts").fetchall()
    db.execute("DELETE FROM fts")
    db.executemany("INSERT INTO fts(rowid, terms, tenant, id, dataset_id, document_id, available) VALUES (?,?,?,?,?,?,?)",
                   [(1000 + n, *r) for n, r in enumerate(rows)])
    db.execute("PRAGMA user_version=0")
    db.commit()
    db.close()

    reopened = LocalVectorIndex(tmp_path)
    assert {h["id"] for h in reopened.search_text("t", "river", 10, ["ds"])} == {"a", "b"}
    reopened.delete("t", ["a"])
    reopened.set_available("t", ["b"], False)
    assert reopened.search_text("t", "nile river", 10, ["ds"]) == []
    reopened.set_available("t", ["b"], True)
    reopened.upsert("t", [record("b", "the congo river")])  # type: ignore[list-item]
    assert [h["id"] for h in reopened.search_text("t", "congo", 10, ["ds"])] == ["b"]
    assert reopened.search_text("t", "amazon", 10, ["ds"]) == []
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM fts").fetchone()[0] == 1
