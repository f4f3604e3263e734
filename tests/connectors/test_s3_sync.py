"""S3-compatible sources against a real S3 endpoint on loopback (moto's server): the add → edit → delete → prune
cycle keeps document ids, re-parses only what changed, removes what is gone; a failing item; a killed run resumed;
two tenants."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.api.docs_helpers import make_dataset, retrieve
from tests.conftest import Api, app_with
from tests.connectors.conftest import LOOPBACK
from tests.connectors.helpers import create_connector, docs, force_due, link, logs, schedule, wait_parsed, wait_run


def bucket(endpoint: str) -> tuple[Any, str]:
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                      region_name="us-east-1")
    name = f"docs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return s3, name


def s3_config(endpoint: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"bucket_type": "s3_compatible", "bucket_name": name, "prefix": "", "sync_deleted_files": True,
            "credentials": {"endpoint_url": endpoint, "aws_access_key_id": "test", "aws_secret_access_key": "test",
                            "addressing_style": "path"}, **extra}


def dataset_counts(api: Api, ds: str) -> tuple[int, int]:
    got = api.call("GET", f"/api/v1/datasets/{ds}")["data"]
    return int(got["document_count"]), int(got["chunk_count"])


def test_add_edit_delete_prune_keeps_ids_and_parses_only_changes(capi: Api, moto_s3: str) -> None:
    s3, name = bucket(moto_s3)
    s3.put_object(Bucket=name, Key="notes/a.txt", Body=b"Platypuses lay eggs in burrows.\n")
    s3.put_object(Bucket=name, Key="notes/b.md", Body=b"# Kiwis\n\nKiwi birds cannot fly at all.\n")
    s3.put_object(Bucket=name, Key="notes/c.txt", Body=b"Quokkas live on Rottnest Island.\n")
    s3.put_object(Bucket=name, Key="skip/.hidden", Body=b"not a document")
    ds = make_dataset(capi, "synced")
    conn = create_connector(capi, "s3", s3_config(moto_s3, name), prune_freq=0)
    link(capi, ds, conn["id"])

    first = wait_run(capi, conn["id"])
    assert (first["status"], first["docs_added"], first["docs_failed"]) == ("3", 3, 0), first
    parsed = wait_parsed(capi, ds, 3)
    ids = {d["name"]: d["id"] for d in parsed}
    assert all(d["run"] == "DONE" and d["source_type"] == f"s3/{conn['id']}" for d in parsed)
    assert retrieve(capi, question="platypuses burrows", dataset_ids=[ds])["chunks"][0]["document_id"] == ids["a.txt"]
    before = {d["id"]: d for d in parsed}

    s3.put_object(Bucket=name, Key="notes/a.txt", Body=b"Echidnas also lay eggs, like platypuses.\n")
    s3.delete_object(Bucket=name, Key="notes/b.md")
    schedule(capi, conn["id"])
    second = wait_run(capi, conn["id"], runs=2)
    assert (second["docs_updated"], second["docs_removed"], second["docs_unchanged"], second["docs_added"]) == (1, 1, 1, 0)
    after = {d["name"]: d for d in wait_parsed(capi, ds, 2)}
    assert {n: d["id"] for n, d in after.items()} == {"a.txt": ids["a.txt"], "c.txt": ids["c.txt"]}
    # the unchanged item was not parsed again; the changed one was, under its old id
    assert after["c.txt"]["process_begin_at"] == before[ids["c.txt"]]["process_begin_at"]
    assert after["a.txt"]["update_time"] > before[ids["a.txt"]]["update_time"]
    hits = retrieve(capi, question="echidnas", dataset_ids=[ds])["chunks"]
    assert hits[0]["document_id"] == ids["a.txt"] and "Echidnas" in hits[0]["content"]
    gone = retrieve(capi, question="kiwi birds fly", dataset_ids=[ds], similarity_threshold=0.0)["chunks"]
    assert gone and all(c["document_id"] != ids["b.md"] and "Kiwi" not in c["content"] for c in gone)
    assert dataset_counts(capi, ds) == (2, 2)

    schedule(capi, conn["id"])  # nothing changed at the source: nothing is fetched or parsed
    third = wait_run(capi, conn["id"], runs=3)
    assert (third["docs_unchanged"], third["docs_added"], third["docs_updated"], third["docs_removed"]) == (2, 0, 0, 0)
    assert {d["id"]: d["update_time"] for d in docs(capi, ds)} == {d["id"]: d["update_time"] for d in after.values()}


def test_deleted_items_stay_without_sync_deleted_files(capi: Api, moto_s3: str) -> None:
    s3, name = bucket(moto_s3)
    s3.put_object(Bucket=name, Key="a.txt", Body=b"Wombats dig burrows.\n")
    s3.put_object(Bucket=name, Key="b.txt", Body=b"Koalas eat eucalyptus.\n")
    ds = make_dataset(capi, "kept")
    conn = create_connector(capi, "s3", s3_config(moto_s3, name, sync_deleted_files=False))
    link(capi, ds, conn["id"])
    wait_run(capi, conn["id"])
    wait_parsed(capi, ds, 2)
    s3.delete_object(Bucket=name, Key="b.txt")
    schedule(capi, conn["id"])
    run = wait_run(capi, conn["id"], runs=2)
    assert run["docs_removed"] == 0 and len(docs(capi, ds)) == 2
    # RAGFlow's rebuild: everything again under the same ids, and what the source lost goes
    ids = {d["name"]: d["id"] for d in docs(capi, ds)}
    assert capi.call("POST", f"/api/v1/connectors/{conn['id']}/rebuild", json={"kb_id": ds})["data"] is True
    rebuilt = wait_run(capi, conn["id"], runs=3)
    assert (rebuilt["from_beginning"], rebuilt["docs_updated"], rebuilt["docs_removed"]) == ("1", 1, 1)
    assert [(d["name"], d["id"]) for d in wait_parsed(capi, ds, 1)] == [("a.txt", ids["a.txt"])]


@pytest.fixture
def small_api(data_dir: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({**LOOPBACK, "MAX_UPLOAD_BYTES": "2000"}, monkeypatch)


def test_one_failing_item_is_logged_and_skipped(small_api: Api, moto_s3: str) -> None:
    s3, name = bucket(moto_s3)
    s3.put_object(Bucket=name, Key="ok.txt", Body=b"Emus are large flightless birds.\n")
    s3.put_object(Bucket=name, Key="huge.txt", Body=b"x" * 5000)
    s3.put_object(Bucket=name, Key="fine.md", Body=b"Dingoes are wild dogs.\n")
    ds = make_dataset(small_api, "partial")
    conn = create_connector(small_api, "s3", s3_config(moto_s3, name))
    link(small_api, ds, conn["id"])
    run = wait_run(small_api, conn["id"])
    assert (run["status"], run["docs_added"], run["docs_failed"], run["error_count"]) == ("3", 2, 1, 1)
    assert [(f["key"], f["name"]) for f in run["failures"]] == [("huge.txt", "huge.txt")]
    assert "larger than" in run["failures"][0]["reason"]
    assert "huge.txt" in run["error_msg"]
    assert sorted(d["name"] for d in wait_parsed(small_api, ds, 2)) == ["fine.md", "ok.txt"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the kill is the test's own
def test_a_killed_run_resumes_from_its_checkpoint_without_duplicates(capi: Api, moto_s3: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore import bootstrap
    from ragcore.adapters.sources import s3 as s3_source

    s3, name = bucket(moto_s3)
    for n in range(7):
        s3.put_object(Bucket=name, Key=f"doc{n}.txt", Body=f"Document number {n} about marsupial {n}.\n".encode())
    monkeypatch.setattr(s3_source, "PAGE_SIZE", 2)
    calls: list[str | None] = []
    real = s3_source.S3Source.list_page

    class Killed(BaseException):
        """Stands for kill -9 / a Lambda timeout: nothing after it runs, nothing is cleaned up."""

    def listing(self: Any, cursor: str | None) -> Any:
        calls.append(cursor)
        if len(calls) == 3:  # two pages applied and saved; the process dies while listing the third
            raise Killed()
        return real(self, cursor)

    monkeypatch.setattr(s3_source.S3Source, "list_page", listing)
    ds = make_dataset(capi, "resumed")
    conn = create_connector(capi, "s3", s3_config(moto_s3, name))
    link(capi, ds, conn["id"])
    wait_parsed(capi, ds, 4)
    [run] = logs(capi, conn["id"])
    assert run["status"] == "1" and run["docs_added"] == 4  # left RUNNING, as a dead worker leaves it

    store = bootstrap.connectors()._store
    store.update("sync_log", capi.tenant, run["id"], {"_lease_until": 0})  # its lease ran out
    force_due(conn["id"])
    assert bootstrap.connectors().tick() == 1
    done = wait_run(capi, conn["id"])
    assert done["id"] == run["id"] and done["status"] == "3"
    assert calls[3] == calls[2] and calls[3] is not None  # resumed at the saved cursor, not from the start
    assert (done["docs_added"], done["docs_failed"]) == (7, 0)
    assert sorted(d["name"] for d in wait_parsed(capi, ds, 7)) == [f"doc{n}.txt" for n in range(7)]


def test_two_tenants_keep_apart(capi: Api, moto_s3: str) -> None:
    s3, name_a = bucket(moto_s3)
    s3.put_object(Bucket=name_a, Key="a.txt", Body=b"Tenant A's wallaby notes.\n")
    _, name_b = bucket(moto_s3)
    s3.put_object(Bucket=name_b, Key="b.txt", Body=b"Tenant B's bandicoot notes.\n")
    other = capi.new_tenant_key()
    ds_a = make_dataset(capi, "a")
    ds_b = capi.call("POST", "/api/v1/datasets", key=other, json={"name": "b"})["data"]["id"]
    conn_a = create_connector(capi, "s3", s3_config(moto_s3, name_a))
    conn_b = create_connector(capi, "s3", s3_config(moto_s3, name_b), key=other)
    # B can neither see nor link A's connector
    assert capi.call("GET", f"/api/v1/connectors/{conn_a['id']}", key=other) == \
        {"code": 109, "message": "no authorization", "data": False}
    refused = capi.call("PUT", f"/api/v1/datasets/{ds_b}", key=other, json={"connectors": [{"id": conn_a["id"]}]})
    assert refused["code"] == 102
    assert [c["id"] for c in capi.call("GET", "/api/v1/connectors", key=other)["data"]] == [conn_b["id"]]
    link(capi, ds_a, conn_a["id"])
    link(capi, ds_b, conn_b["id"], key=other)
    wait_run(capi, conn_a["id"])
    wait_run(capi, conn_b["id"], key=other)
    assert [d["name"] for d in wait_parsed(capi, ds_a, 1)] == ["a.txt"]
    assert [d["name"] for d in wait_parsed(capi, ds_b, 1, key=other)] == ["b.txt"]


def test_two_runs_of_one_connector_never_overlap(capi: Api, moto_s3: str) -> None:
    from ragcore import bootstrap
    from ragcore.services.connectors.model import RUN_SCOPE

    s3, name = bucket(moto_s3)
    s3.put_object(Bucket=name, Key="a.txt", Body=b"Tasmanian devils screech.\n")
    ds = make_dataset(capi, "single")
    conn = create_connector(capi, "s3", s3_config(moto_s3, name))
    link(capi, ds, conn["id"])
    wait_run(capi, conn["id"])
    store = bootstrap.connectors()._store
    # another run (a worker elsewhere) holds the (connector, dataset) claim: a second run ends at once, untouched
    assert store.claim(capi.tenant, RUN_SCOPE, f"{conn['id']}:{ds}", "a-run-still-going")
    schedule(capi, conn["id"])
    skipped = wait_run(capi, conn["id"], runs=2)
    assert (skipped["status"], skipped["docs_unchanged"]) == ("2", 0)
    assert skipped["error_msg"] == "Another run of this connector into this dataset is going on."
    store.release(capi.tenant, RUN_SCOPE, f"{conn['id']}:{ds}", "a-run-still-going")
    schedule(capi, conn["id"])
    assert wait_run(capi, conn["id"], runs=3)["docs_unchanged"] == 1


@pytest.fixture
def hasty_api(data_dir: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """Steps with no time budget: each applies one item, saves where it is and queues the next step."""
    yield from app_with({**LOOPBACK, "CONNECTOR_STEP_S": "0"}, monkeypatch)


def test_a_page_longer_than_a_step_goes_on_in_the_next_step(hasty_api: Api, moto_s3: str) -> None:
    from ragcore import bootstrap

    s3, name = bucket(moto_s3)
    for n in range(5):
        s3.put_object(Bucket=name, Key=f"part{n}.txt", Body=f"Part {n} of the field guide to gliders.\n".encode())
    ds = make_dataset(hasty_api, "stepped")
    conn = create_connector(hasty_api, "s3", s3_config(moto_s3, name))
    link(hasty_api, ds, conn["id"])
    run = wait_run(hasty_api, conn["id"])
    assert (run["status"], run["docs_added"], run["docs_failed"]) == ("3", 5, 0)
    assert sorted(d["name"] for d in wait_parsed(hasty_api, ds, 5)) == [f"part{n}.txt" for n in range(5)]
    stored = bootstrap.connectors()._store.get("sync_log", hasty_api.tenant, run["id"])
    assert stored is not None and stored["_pages"] >= 5  # one item a step: the page was taken up five times
