"""Connector source pieces without a sync: the S3 family's endpoints, the outbound guard's rule and address pinning."""

from __future__ import annotations

import pytest
from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.adapters.sources.s3 import S3Source
from ragcore.domain.sources import SourceError

from tests.connectors.fake_http import json_reply, serve


def accept(name: str) -> bool:
    return True


@pytest.mark.parametrize(("source", "creds", "endpoint", "region"), [
    ("r2", {"account_id": "acc123", "r2_access_key_id": "k", "r2_secret_access_key": "s"},
     "https://acc123.r2.cloudflarestorage.com", "auto"),
    ("google_cloud_storage", {"access_key_id": "k", "secret_access_key": "s"}, "https://storage.googleapis.com", "auto"),
    ("oci_storage", {"namespace": "ns1", "region": "eu-frankfurt-1", "access_key_id": "k", "secret_access_key": "s"},
     "https://ns1.compat.objectstorage.eu-frankfurt-1.oraclecloud.com", "eu-frankfurt-1"),
])
def test_each_s3_compatible_store_is_boto3_with_its_endpoint(monkeypatch: pytest.MonkeyPatch, source: str,
                                                             creds: dict[str, str], endpoint: str, region: str) -> None:
    guard = OutboundGuard(frozenset())
    checked: list[str] = []
    monkeypatch.setattr(guard, "check_url", checked.append)
    made = S3Source(source, {"bucket_name": "b", "credentials": creds}, guard, accept=accept, max_bytes=100)
    client = made._client
    assert client.meta.endpoint_url == endpoint and client.meta.region_name == region and checked == [endpoint]


@pytest.mark.parametrize(("config", "message"), [
    ({"bucket_name": "b", "credentials": {"authentication_method": "assume_role"}}, "Unsupported S3 authentication method"),
    ({"bucket_name": "b", "credentials": {"aws_access_key_id": "k"}}, "aws_access_key_id and aws_secret_access_key are required"),
    ({"bucket_name": "", "credentials": {}}, "No bucket name was provided"),
    ({"bucket_name": "b", "bucket_type": "r2", "credentials": {"account_id": "a"}}, "missing credentials: r2_access_key_id"),
])
def test_s3_configs_that_cannot_work_say_why(config: dict[str, object], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        S3Source("s3", config, OutboundGuard(frozenset()), accept=accept, max_bytes=100)


def test_the_guard_refuses_private_addresses_unless_allowed_and_connects_to_the_checked_one() -> None:
    with serve() as fake:
        fake.route("GET", "/ping", lambda req: json_reply({"host": req.headers.get("host")}))
        port = fake.base_url.rsplit(":", 1)[1]
        with pytest.raises(SourceError, match="refused unless the host is listed in CONNECTOR_ALLOWED_HOSTS"):
            OutboundGuard(frozenset()).client().get(f"http://localhost:{port}/ping")
        with pytest.raises(SourceError, match="not an http"):
            OutboundGuard(frozenset({"localhost"})).check_url("ftp://localhost/x")
        reply = OutboundGuard(frozenset({"localhost"})).client().get(f"http://localhost:{port}/ping")
        # the connection went to the address the guard resolved; the request still names the host it was for
        assert reply.json() == {"host": f"localhost:{port}"} and str(reply.request.url) == f"http://localhost:{port}/ping"
