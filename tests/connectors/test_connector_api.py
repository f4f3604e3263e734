"""RAGFlow's connector routes: create, list, get, update (masked credentials kept), delete, logs, test, rebuild,
SCHEDULE/CANCEL, the dataset `connectors` link; another tenant's connector answers like a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.api.docs_helpers import make_dataset
from tests.conftest import Api, app_with
from tests.connectors.helpers import create_connector, docs, force_due, link, logs, wait_parsed, wait_run

NO_AUTH = {"code": 109, "message": "no authorization", "data": False}
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def s3_config(endpoint: str, bucket: str, secret: str = SECRET) -> dict[str, Any]:
    return {"bucket_type": "s3_compatible", "bucket_name": bucket, "prefix": "", "sync_deleted_files": True,
            "credentials": {"endpoint_url": endpoint, "aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": secret,
                            "addressing_style": "path"}}


def new_bucket(endpoint: str, *objects: tuple[str, bytes]) -> str:
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    name = f"api-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    for key, body in objects:
        s3.put_object(Bucket=name, Key=key, Body=body)
    return name


def test_create_get_list_update_delete(capi: Api, moto_s3: str, data_dir: Path) -> None:
    created = create_connector(capi, "s3", s3_config(moto_s3, "bucket-1"), refresh_freq=30, prune_freq=60)
    assert {k: created[k] for k in ("name", "source", "input_type", "refresh_freq", "prune_freq", "timeout_secs", "status")} == \
        {"name": "s3 docs", "source": "s3", "input_type": "poll", "refresh_freq": 30, "prune_freq": 60,
         "timeout_secs": 1740, "status": "0"}
    assert created["tenant_id"] == capi.tenant and len(created["id"]) == 32
    creds = created["config"]["credentials"]
    assert creds["aws_secret_access_key"] == "wJa...EKEY" and SECRET not in str(created)
    got = capi.call("GET", f"/api/v1/connectors/{created['id']}")
    assert got["code"] == 0 and got["data"]["config"] == created["config"]
    assert capi.call("GET", "/api/v1/connectors")["data"] == [
        {"id": created["id"], "name": "s3 docs", "source": "s3", "status": "0"}]
    # the credentials are stored sealed: not in the database files at all (the rest of the config is)
    stored_bytes = b"".join(p.read_bytes() for p in data_dir.glob("ragflow.sqlite3*"))
    assert b"bucket-1" in stored_bytes and SECRET.encode() not in stored_bytes

    # a client sends back what GET showed it: masked values keep the stored secret, new values replace it
    config = {**got["data"]["config"], "prefix": "docs/"}
    updated = capi.call("PATCH", f"/api/v1/connectors/{created['id']}", json={"config": config, "refresh_freq": 10})
    assert updated["code"] == 0 and updated["data"]["config"]["prefix"] == "docs/" and updated["data"]["refresh_freq"] == 10
    from ragcore import bootstrap

    stored = bootstrap.connectors().owned(capi.tenant, created["id"])
    assert bootstrap.connectors().credentials(stored)["aws_secret_access_key"] == SECRET
    config["credentials"] = {**config["credentials"], "aws_secret_access_key": "a-new-secret-value-123"}
    capi.call("PATCH", f"/api/v1/connectors/{created['id']}", json={"data": {"config": config}})  # RAGFlow's `data` wrapper
    stored = bootstrap.connectors().owned(capi.tenant, created["id"])
    assert bootstrap.connectors().credentials(stored)["aws_secret_access_key"] == "a-new-secret-value-123"

    assert capi.call("DELETE", f"/api/v1/connectors/{created['id']}") == {"code": 0, "message": "success", "data": True}
    assert capi.call("GET", f"/api/v1/connectors/{created['id']}") == NO_AUTH
    assert capi.call("GET", "/api/v1/connectors")["data"] == []


@pytest.mark.parametrize(("body", "code", "message"), [
    ({}, 101, "required argument are missing: name,source,config; "),
    ({"name": "x", "source": "s3"}, 101, "required argument are missing: config; "),
    ({"name": "x", "source": "slack", "config": {}}, 101, "Source 'slack' is not supported here"),
    ({"name": "x", "source": "s3", "config": "bucket"}, 101, "config must be an object."),
    ({"name": "", "source": "s3", "config": {}}, 101, "`name` should be a string of 1 to 128 characters."),
    ({"name": "x", "source": "s3", "config": {}, "refresh_freq": "often"}, 101, "`refresh_freq` should be an integer"),
])
def test_bad_creates_are_refused_and_create_nothing(capi: Api, body: dict[str, Any], code: int, message: str) -> None:
    res = capi.call("POST", "/api/v1/connectors", json=body)
    assert res["code"] == code and res["message"].startswith(message), res
    assert capi.call("GET", "/api/v1/connectors")["data"] == []


def test_another_tenants_connector_answers_like_a_missing_one(capi: Api) -> None:
    mine = create_connector(capi, "rss", {"feed_url": "http://127.0.0.1:1/feed.xml"})
    other = capi.new_tenant_key()
    for cid in (mine["id"], uuid.uuid4().hex):
        for method, path, body in (("GET", "", None), ("PATCH", "", {"status": "CANCEL"}), ("DELETE", "", None),
                                   ("GET", "/logs", None), ("POST", "/rebuild", {"kb_id": "x"}),
                                   ("POST", "/test", {"source": "rss", "config": {}})):
            assert capi.call(method, f"/api/v1/connectors/{cid}{path}", key=other, json=body) == NO_AUTH, (method, path)
    assert capi.call("GET", f"/api/v1/connectors/{mine['id']}")["data"]["status"] == "0"


def test_test_route_checks_credentials_and_reachability(capi: Api, moto_s3: str) -> None:
    name = new_bucket(moto_s3, ("a.txt", b"hello"))
    assert capi.call("POST", "/api/v1/connectors/s3/test", json={"source": "s3", "config": s3_config(moto_s3, name)}) == \
        {"code": 0, "message": "success", "data": True}
    missing = capi.call("POST", "/api/v1/connectors/s3/test", json={"source": "s3", "config": s3_config(moto_s3, "no-such-bucket")})
    assert missing["code"] == 102 and "the bucket does not exist" in missing["message"] and missing["data"] is False
    no_creds = capi.call("POST", "/api/v1/connectors/s3/test",
                         json={"source": "s3", "config": {"bucket_type": "s3_compatible", "bucket_name": name}})
    assert no_creds["code"] == 102 and "missing credentials: endpoint_url" in no_creds["message"]
    assert capi.call("POST", "/api/v1/connectors/s3/test", json={})["message"] == "required argument are missing: source; "
    # a saved connector: masked credentials sent back are the stored ones
    saved = create_connector(capi, "s3", s3_config(moto_s3, name))
    check = capi.call("POST", f"/api/v1/connectors/{saved['id']}/test", json={"source": "s3", "config": saved["config"]})
    assert check["data"] is True, check


@pytest.fixture
def guarded_api(data_dir: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"CONNECTOR_ALLOWED_HOSTS": "", "CONNECTOR_TICK_S": "3600"}, monkeypatch)


def test_loopback_sources_are_refused_unless_allowed(guarded_api: Api, moto_s3: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    name = new_bucket(moto_s3, ("a.txt", b"hello"))
    res = guarded_api.call("POST", "/api/v1/connectors/s3/test", json={"source": "s3", "config": s3_config(moto_s3, name)})
    assert res["code"] == 102 and "refused unless the host is listed in CONNECTOR_ALLOWED_HOSTS" in res["message"]
    # a run fails with that reason in its log, nothing is ingested
    ds = make_dataset(guarded_api, "guarded")
    conn = create_connector(guarded_api, "s3", s3_config(moto_s3, name))
    link(guarded_api, ds, conn["id"])
    run = wait_run(guarded_api, conn["id"])
    assert run["status"] == "4" and "CONNECTOR_ALLOWED_HOSTS" in run["error_msg"] and docs(guarded_api, ds) == []
    assert SECRET not in str(run) and SECRET not in caplog.text and "CONNECTOR_ALLOWED_HOSTS" in caplog.text + str(run)


def test_dataset_connectors_link_round_trips(capi: Api, moto_s3: str) -> None:
    name = new_bucket(moto_s3, ("a.txt", b"Numbats eat termites.\n"))
    conn = create_connector(capi, "s3", s3_config(moto_s3, name))
    ds = make_dataset(capi, "linked")
    unknown = capi.call("PUT", f"/api/v1/datasets/{ds}", json={"connectors": [{"id": uuid.uuid4().hex}], "description": "x"})
    assert unknown["code"] == 102
    assert capi.call("GET", f"/api/v1/datasets/{ds}")["data"]["description"] in (None, "")  # nothing changed
    bad = capi.call("PUT", f"/api/v1/datasets/{ds}", json={"connectors": ["not-an-object"]})
    assert bad["code"] == 101

    put = link(capi, ds, conn["id"], auto_parse="1")
    assert put["connectors"] == [{"id": conn["id"], "auto_parse": "1"}]
    wait_run(capi, conn["id"])
    shown = capi.call("GET", f"/api/v1/datasets/{ds}")["data"]["connectors"]
    assert shown == [{"id": conn["id"], "source": "s3", "name": "s3 docs", "auto_parse": "1", "status": "5"}]
    assert wait_parsed(capi, ds, 1)[0]["name"] == "a.txt"
    # an update without `connectors` leaves the links alone (RAGFlow's would drop them)
    capi.call("PUT", f"/api/v1/datasets/{ds}", json={"description": "still linked"})
    assert capi.call("GET", f"/api/v1/datasets/{ds}")["data"]["connectors"][0]["id"] == conn["id"]
    # unlinking keeps the documents, as RAGFlow does
    assert capi.call("PUT", f"/api/v1/datasets/{ds}", json={"connectors": []})["code"] == 0
    assert capi.call("GET", f"/api/v1/datasets/{ds}")["data"]["connectors"] == []
    assert len(docs(capi, ds)) == 1


def test_dataset_created_with_connectors_starts_a_first_sync(capi: Api, moto_s3: str) -> None:
    name = new_bucket(moto_s3, ("b.md", b"# Bilbies\n\nBilbies are desert marsupials.\n"))
    conn = create_connector(capi, "s3", s3_config(moto_s3, name))
    made = capi.call("POST", "/api/v1/datasets", json={"name": "born-linked", "connectors": [{"id": conn["id"], "auto_parse": "0"}]})
    assert made["code"] == 0 and made["data"]["connectors"] == [{"id": conn["id"], "auto_parse": "0"}]
    run = wait_run(capi, conn["id"])
    assert run["docs_added"] == 1 and run["kb_id"] == made["data"]["id"] and run["kb_name"] == "born-linked"
    # auto_parse "0": the document is there, not parsed
    assert [(d["name"], d["run"]) for d in docs(capi, made["data"]["id"])] == [("b.md", "UNSTART")]


def test_schedule_cancel_and_logs_paging(capi: Api, moto_s3: str) -> None:
    from ragcore import bootstrap

    name = new_bucket(moto_s3, ("a.txt", b"Possums.\n"))
    conn = create_connector(capi, "s3", s3_config(moto_s3, name))
    ds = make_dataset(capi, "controls")
    link(capi, ds, conn["id"])
    wait_run(capi, conn["id"])
    cancelled = capi.call("PATCH", f"/api/v1/connectors/{conn['id']}", json={"status": "CANCEL"})
    assert cancelled["data"]["status"] == "2"
    assert bootstrap.connectors().tick() == 0  # a cancelled connector is not due any more
    assert capi.call("PATCH", f"/api/v1/connectors/{conn['id']}", json={"status": "SCHEDULE"})["code"] == 0
    wait_run(capi, conn["id"], runs=2)
    page = capi.call("GET", f"/api/v1/connectors/{conn['id']}/logs", params={"page": 1, "page_size": 1})["data"]
    assert page["total"] == 2 and len(page["logs"]) == 1 and page["logs"][0]["task_type"] == "sync"
    row = page["logs"][0]
    assert {"connector_id", "kb_id", "kb_name", "status", "new_docs_indexed", "total_docs_indexed", "docs_removed_from_index",
            "error_msg", "error_count", "time_started", "update_date", "refresh_freq", "prune_freq", "docs_added",
            "docs_updated", "docs_unchanged", "docs_failed", "failures", "time_ended"} <= set(row)
    assert (row["docs_unchanged"], row["total_docs_indexed"]) == (1, 1)
    too_big = capi.call("GET", f"/api/v1/connectors/{conn['id']}/logs", params={"page_size": 101})
    assert too_big["code"] == 100 and "page_size must be less than or equal to 100" in too_big["message"]
    assert logs(capi, conn["id"])[0]["status"] == "3"
    missing_kb = capi.call("POST", f"/api/v1/connectors/{conn['id']}/rebuild", json={})
    assert missing_kb == {"code": 101, "message": "required argument is missing: kb_id", "data": None}
    not_linked = capi.call("POST", f"/api/v1/connectors/{conn['id']}/rebuild", json={"kb_id": uuid.uuid4().hex})
    assert not_linked["code"] == 500 and not_linked["data"] is False


def test_a_deleted_datasets_link_goes_at_the_next_due_run(capi: Api, moto_s3: str) -> None:
    from ragcore import bootstrap
    from ragcore.services.connectors.model import LINK_KIND

    name = new_bucket(moto_s3, ("a.txt", b"Echidnas.\n"))
    conn = create_connector(capi, "s3", s3_config(moto_s3, name))
    ds = make_dataset(capi, "short-lived")
    link(capi, ds, conn["id"])
    wait_run(capi, conn["id"])
    assert capi.call("DELETE", "/api/v1/datasets", json={"ids": [ds]})["code"] == 0
    store = bootstrap.connectors()._store
    force_due(conn["id"])
    assert bootstrap.connectors().tick() == 1
    assert store.get(LINK_KIND, capi.tenant, f"{conn['id']}-{ds}") is None
    assert len(logs(capi, conn["id"])) == 1  # no run was started for the deleted dataset
