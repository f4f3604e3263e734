"""WebDAV against a real WebDAV server on loopback (wsgidav + cheroot, basic auth): nested folders, the
add → edit → delete → prune cycle, and the credentials check."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.docs_helpers import make_dataset, retrieve
from tests.conftest import Api, free_port
from tests.connectors.helpers import create_connector, link, schedule, wait_parsed, wait_run


@pytest.fixture
def webdav(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    root = tmp_path / "dav"
    (root / "docs" / "sub").mkdir(parents=True)
    port = free_port()
    app = WsgiDAVApp({
        "host": "127.0.0.1", "port": port, "provider_mapping": {"/": str(root)}, "verbose": 0,
        "logging": {"enable": False}, "property_manager": True, "lock_storage": True,
        "http_authenticator": {"domain_controller": None, "accept_basic": True, "accept_digest": False,
                               "default_to_digest": False},
        "simple_dc": {"user_mapping": {"*": {"alice": {"password": "wonderland"}}}},
    })
    server = wsgi.Server(("127.0.0.1", port), app)
    thread = threading.Thread(target=server.start, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.ready and time.time() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", root
    server.stop()


def dav_config(base: str, password: str = "wonderland") -> dict[str, Any]:
    return {"base_url": base, "remote_path": "/docs", "sync_deleted_files": True,
            "credentials": {"username": "alice", "password": password}}


def test_webdav_cycle(capi: Api, webdav: tuple[str, Path]) -> None:
    base, root = webdav
    (root / "docs" / "a.txt").write_text("Cassowaries have a casque on their heads.\n")
    (root / "docs" / "sub" / "b.md").write_text("# Lyrebirds\n\nLyrebirds mimic chainsaws.\n")
    (root / "outside.txt").write_text("Not under remote_path.\n")
    ds = make_dataset(capi, "dav")
    conn = create_connector(capi, "webdav", dav_config(base), prune_freq=0)
    link(capi, ds, conn["id"])
    first = wait_run(capi, conn["id"])
    assert (first["status"], first["docs_added"]) == ("3", 2), first
    ids = {d["name"]: d["id"] for d in wait_parsed(capi, ds, 2)}
    assert set(ids) == {"a.txt", "b.md"}

    (root / "docs" / "sub" / "b.md").write_text("# Lyrebirds\n\nLyrebirds mimic camera shutters and car alarms.\n")
    (root / "docs" / "a.txt").unlink()
    schedule(capi, conn["id"])
    second = wait_run(capi, conn["id"], runs=2)
    assert (second["docs_updated"], second["docs_removed"], second["docs_added"]) == (1, 1, 0), second
    assert [(d["name"], d["id"]) for d in wait_parsed(capi, ds, 1)] == [("b.md", ids["b.md"])]
    hit = retrieve(capi, question="lyrebirds car alarms", dataset_ids=[ds])["chunks"][0]
    assert hit["document_id"] == ids["b.md"] and "car alarms" in hit["content"]


def test_webdav_check_says_what_failed(capi: Api, webdav: tuple[str, Path]) -> None:
    base, _ = webdav
    ok = capi.call("POST", "/api/v1/connectors/webdav/test", json={"source": "webdav", "config": dav_config(base)})
    assert ok["data"] is True, ok
    wrong = capi.call("POST", "/api/v1/connectors/webdav/test", json={"source": "webdav", "config": dav_config(base, "nope")})
    assert wrong["code"] == 102 and "refused the credentials (HTTP 401)" in wrong["message"]
    missing = capi.call("POST", "/api/v1/connectors/webdav/test",
                        json={"source": "webdav", "config": {**dav_config(base), "remote_path": "/nowhere"}})
    assert missing["code"] == 102 and "'/nowhere' was not found" in missing["message"]
    no_creds = capi.call("POST", "/api/v1/connectors/webdav/test", json={"source": "webdav", "config": {"base_url": base}})
    assert no_creds["message"] == "WebDAV requires 'username' and 'password' credentials"
