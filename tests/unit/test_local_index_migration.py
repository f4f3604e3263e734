"""The local index's keyword half is derived from its SQLite rows: an index from before tantivy (terms in FTS5) is
moved over on open, and a keyword index lost or interrupted mid-write is rebuilt from SQLite."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np
from ragcore.adapters.local_index import LocalVectorIndex


def record(cid: str, text: str) -> dict:  # type: ignore[type-arg]
    return {"id": cid, "dataset_id": "ds", "document_id": "doc", "content": text, "vector": [1.0, 0.0, 0.0], "available": True}


def found(index: LocalVectorIndex, text: str) -> set[str]:
    return {h["id"] for h in index.search_text("t", text, 10, ["ds"])}


def test_an_fts5_index_is_moved_to_tantivy_on_open(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    db.executescript("""
        CREATE TABLE vectors (tenant TEXT NOT NULL, id TEXT NOT NULL, dataset_id TEXT NOT NULL, document_id TEXT NOT NULL,
            available INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (tenant, id));
        CREATE VIRTUAL TABLE fts USING fts5(terms, tenant UNINDEXED, id UNINDEXED, dataset_id UNINDEXED,
            document_id UNINDEXED, available UNINDEXED);
        PRAGMA user_version=1;
    """)
    vec = np.asarray([1.0, 0.0, 0.0], dtype=np.float32).tobytes()
    for n, (cid, terms, available) in enumerate([("a", "the nile river", 1), ("b", "the amazon river", 1), ("c", "hidden river", 0)]):
        db.execute("INSERT INTO vectors VALUES ('t', ?, 'ds', 'doc', ?, ?)", (cid, available, vec))
        db.execute("INSERT INTO fts(rowid, terms, tenant, id, dataset_id, document_id, available) VALUES (?,?,'t',?,'ds','doc',?)",
                   (1000 + n, terms, cid, available))  # FTS rowids unrelated to the vectors' (version 0 wrote them so)
    db.commit()
    db.close()

    index = LocalVectorIndex(tmp_path)
    assert found(index, "river") == {"a", "b"}  # the unavailable chunk stays out of search
    index.set_available("t", ["c"], True)
    assert found(index, "hidden") == {"c"}  # its terms came over too
    index.delete("t", ["a"])
    index.upsert("t", [record("b", "the congo river")])  # type: ignore[list-item]
    assert found(index, "river") == {"b", "c"} and found(index, "amazon") == set() and found(index, "congo") == {"b"}
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    assert db.execute("SELECT name FROM sqlite_master WHERE name='fts'").fetchone() is None
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_lost_keyword_index_is_rebuilt_from_sqlite(tmp_path: Path) -> None:
    index = LocalVectorIndex(tmp_path)
    index.upsert("t", [record("a", "the nile river"), record("b", "the amazon river")])  # type: ignore[list-item]
    index.set_available("t", ["b"], False)
    index.close()
    shutil.rmtree(tmp_path / "keywords")
    assert found(LocalVectorIndex(tmp_path), "river") == {"a"}


def test_a_write_interrupted_between_sqlite_and_keywords_is_repaired_on_open(tmp_path: Path) -> None:
    index = LocalVectorIndex(tmp_path)
    index.upsert("t", [record("a", "the nile river")])  # type: ignore[list-item]
    index.close()
    assert not (tmp_path / "keywords.rebuild").exists()  # committed: nothing to repair
    # a crash after SQLite committed a second chunk but before the keyword index did: the marker stays behind
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    db.execute("INSERT INTO vectors(tenant, id, dataset_id, document_id, available, vec, terms) "
               "VALUES ('t', 'b', 'ds', 'doc', 1, ?, 'the amazon river')", (np.zeros(3, dtype=np.float32).tobytes(),))
    db.commit()
    db.close()
    (tmp_path / "keywords.rebuild").touch()
    reopened = LocalVectorIndex(tmp_path)
    assert found(reopened, "river") == {"a", "b"}
    assert not (tmp_path / "keywords.rebuild").exists()


def test_keyword_writes_are_committed_shortly_after_and_seen_at_once(tmp_path: Path) -> None:
    """A chunk write does not wait for the keyword index's commit (an fsync), yet a question right after it sees the
    chunk; until the commit the marker is there, so a crash now rebuilds from SQLite."""
    from ragcore.adapters.local_keyword_index import COMMIT_DELAY_S

    index = LocalVectorIndex(tmp_path)
    index.upsert("t", [record("a", "the nile river")])  # type: ignore[list-item]
    assert (tmp_path / "keywords.rebuild").exists()
    assert found(index, "nile") == {"a"}  # the search commits what it needs
    index.upsert("t", [record("b", "the amazon river")])  # type: ignore[list-item]
    deadline = time.monotonic() + COMMIT_DELAY_S + 5
    while (tmp_path / "keywords.rebuild").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (tmp_path / "keywords.rebuild").exists()
    assert found(LocalVectorIndex(tmp_path), "river") == {"a", "b"}
