"""Connector tests: the local app with loopback sources allowed, and the scheduler ticked by the test itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Api, app_with

LOOPBACK = {"CONNECTOR_ALLOWED_HOSTS": "127.0.0.1,localhost", "CONNECTOR_TICK_S": "3600", "INBOX_POLL_S": "3600"}


@pytest.fixture
def capi(data_dir: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The local app, its sources allowed on loopback; no background tick (tests call tick() when they mean it)."""
    yield from app_with(LOOPBACK, monkeypatch)


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[str]:
    """A real S3 endpoint on loopback (moto's server): the connector speaks the S3 protocol to it."""
    from moto.server import ThreadedMotoServer

    from tests.conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
