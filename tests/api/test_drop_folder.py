"""The local drop folder ./var/inbox/<dataset>/: new, replaced and removed files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.api.docs_helpers import make_dataset, retrieve
from tests.conftest import Api


def wait_for(check: Any, timeout: float = 30) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def docs_of(api: Api, ds: str) -> list[dict[str, Any]]:
    return list(api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["docs"])


def test_drop_folder_lifecycle(api: Api, data_dir: Path) -> None:
    ds = make_dataset(api, "dropped")
    folder = data_dir / "inbox" / "dropped" / "sub"
    folder.mkdir(parents=True)
    (folder / "note.txt").write_text("Platypuses lay eggs.\n")
    done = wait_for(lambda: [d for d in docs_of(api, ds) if d["run"] == "DONE"])
    assert done[0]["name"] == "note.txt"
    assert retrieve(api, question="platypuses eggs", dataset_ids=[ds])["total"] == 1
    # the same bytes again change nothing; new bytes re-ingest
    (folder / "note.txt").write_text("Echidnas also lay eggs.\n")
    wait_for(lambda: retrieve(api, question="echidnas", dataset_ids=[ds])["total"] == 1)
    left = retrieve(api, question="platypuses", dataset_ids=[ds], similarity_threshold=0.0)["chunks"]
    assert [c["content"] for c in left] == ["Echidnas also lay eggs."]
    assert len(docs_of(api, ds)) == 1
    (folder / "note.txt").unlink()
    wait_for(lambda: not docs_of(api, ds))
    assert retrieve(api, question="echidnas eggs", dataset_ids=[ds], similarity_threshold=0.0)["total"] == 0


def test_drop_folder_creates_missing_dataset_by_name(api: Api, data_dir: Path) -> None:
    folder = data_dir / "inbox" / "brand-new"
    folder.mkdir(parents=True)
    (folder / "a.md").write_text("# Hello\n\nWorld of markdown.\n")

    def dataset() -> Any:
        found = api.call("GET", "/api/v1/datasets", params={"name": "brand-new"})
        return found["data"][0]["id"] if found["code"] == 0 and found["data"] else None

    ds = wait_for(dataset)
    wait_for(lambda: [d for d in docs_of(api, ds) if d["run"] == "DONE"])
