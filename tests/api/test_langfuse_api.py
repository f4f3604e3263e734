"""Per-tenant Langfuse keys (/langfuse/api-key) and chat completion traces sent to that Langfuse (a loopback fake)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.docs_helpers import ingest, make_dataset
from tests.conftest import Api, app_with, free_port
from tests.fakes.langfuse_server import FakeLangfuse

URL = "/api/v1/langfuse/api-key"
PUBLIC, SECRET = "pk-lf-good", "sk-lf-0123456789abcdef-secret"
NO_KEYS = {"code": 0, "message": "Have not record any Langfuse keys.", "data": None}


@pytest.fixture
def langfuse_fake() -> Iterator[FakeLangfuse]:
    fake = FakeLangfuse()
    yield fake
    fake.close()


@pytest.fixture
def lf_api(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"LANGFUSE_ALLOWED_HOSTS": "127.0.0.1"}, monkeypatch)


def keys(fake: FakeLangfuse, **overrides: Any) -> dict[str, Any]:
    return {"public_key": PUBLIC, "secret_key": SECRET, "host": fake.url, **overrides}


def test_keys_checked_kept_masked_and_deleted(lf_api: Api, langfuse_fake: FakeLangfuse) -> None:
    api = lf_api
    assert api.call("GET", URL) == NO_KEYS
    res = api.call("POST", URL, json=keys(langfuse_fake, host=langfuse_fake.url + "/"))
    assert res == {"code": 0, "message": "success", "data": {
        "tenant_id": api.tenant, "host": langfuse_fake.url, "public_key": PUBLIC, "secret_key": "sk-lf-0…cret"}}
    sent = langfuse_fake.requests[-1]
    assert sent["path"] == "/api/public/projects"
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
    got = api.call("GET", URL)
    assert got["data"] == {"tenant_id": api.tenant, "host": langfuse_fake.url, "public_key": PUBLIC,
                           "secret_key": "sk-lf-0…cret", "project_id": "proj-1", "project_name": "Demo project"}
    assert SECRET not in api.client.get(URL, headers=api.headers()).text
    assert api.call("GET", URL, key=api.new_tenant_key()) == NO_KEYS  # another tenant sees none
    langfuse_fake.keys[PUBLIC] = "rotated-secret-for-the-test"
    assert api.call("GET", URL) == {"code": 102, "message": "Invalid Langfuse keys loaded", "data": None}
    assert api.call("PUT", URL, json=keys(langfuse_fake, secret_key="rotated-secret-for-the-test"))["code"] == 0
    assert api.call("GET", URL)["data"]["secret_key"] == "rotated…test"
    assert api.call("DELETE", URL) == {"code": 0, "message": "success", "data": True}
    assert api.call("DELETE", URL) == NO_KEYS
    assert api.call("GET", URL) == NO_KEYS


def test_bad_keys_and_bad_hosts_keep_nothing(lf_api: Api, langfuse_fake: FakeLangfuse) -> None:
    api = lf_api
    assert api.call("POST", URL, json=keys(langfuse_fake, secret_key="wrong")) == {
        "code": 102, "message": "Invalid Langfuse keys", "data": None}
    assert api.call("POST", URL, json={"public_key": PUBLIC, "secret_key": SECRET}) == {
        "code": 101, "message": "required argument are missing: host; ", "data": None}
    assert api.call("POST", URL, json=keys(langfuse_fake, public_key="")) == {
        "code": 102, "message": "Missing required fields", "data": None}
    closed = api.call("POST", URL, json=keys(langfuse_fake, host=f"http://127.0.0.1:{free_port()}"))
    assert closed["code"] == 102 and closed["message"].startswith("Error from Langfuse:")
    private = api.call("POST", URL, json=keys(langfuse_fake, host=langfuse_fake.url.replace("127.0.0.1", "localhost")))
    assert private["code"] == 102 and "LANGFUSE_ALLOWED_HOSTS" in private["message"]
    assert SECRET not in str(closed) + str(private)
    assert api.call("GET", URL) == NO_KEYS


def _kb_and_chat(api: Api) -> str:
    ds = make_dataset(api)
    ingest(api, ds, {"facts.txt": b"The Eiffel Tower is in Paris. It was finished in 1889."})
    return str(api.call("POST", "/api/v1/chats", json={"name": "guide", "dataset_ids": [ds]})["data"]["id"])


def _wait_ingestions(fake: FakeLangfuse, n: int) -> list[dict[str, Any]]:
    deadline = time.time() + 20
    while len(fake.ingestions()) < n and time.time() < deadline:
        time.sleep(0.02)
    return fake.ingestions()


def test_completions_are_traced_in_the_background(lf_api: Api, langfuse_fake: FakeLangfuse) -> None:
    api = lf_api
    chat_id = _kb_and_chat(api)
    url = f"/api/v1/chats/{chat_id}/completions"
    api.call("POST", url, json={"question": "Where is the Eiffel Tower?", "stream": False})
    assert langfuse_fake.ingestions() == []  # no keys, nothing sent
    assert api.call("POST", URL, json=keys(langfuse_fake))["code"] == 0
    res = api.call("POST", url, json={"question": "Where is the Eiffel Tower?", "stream": False})
    (sent,) = _wait_ingestions(langfuse_fake, 1)
    trace, generation = sent["body"]["batch"]
    assert sent["headers"]["Authorization"].startswith("Basic ")
    assert trace["type"] == "trace-create" and trace["body"]["input"] == "Where is the Eiffel Tower?"
    assert trace["body"]["metadata"] == {"chat_id": chat_id}
    assert generation["type"] == "generation-create" and generation["body"]["traceId"] == trace["body"]["id"]
    assert generation["body"]["output"] == trace["body"]["output"] and "Paris" in generation["body"]["output"]
    assert res["data"]["answer"].startswith(generation["body"]["output"][:20])
    assert generation["body"]["input"][-1] == {"role": "user", "content": "Where is the Eiffel Tower?"}
    assert generation["body"]["usage"]["total"] > 0 and generation["body"]["usage"]["unit"] == "TOKENS"
    streamed = api.client.post(url, headers=api.headers(), json={"question": "When was it finished?", "stream": True})
    assert streamed.status_code == 200 and "1889" in streamed.text
    assert _wait_ingestions(langfuse_fake, 2)[1]["body"]["batch"][0]["body"]["input"] == "When was it finished?"


def test_a_stuck_or_failing_langfuse_never_holds_a_completion(lf_api: Api, langfuse_fake: FakeLangfuse,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    api = lf_api
    chat_id = _kb_and_chat(api)
    assert api.call("POST", URL, json=keys(langfuse_fake))["code"] == 0
    langfuse_fake.hold = threading.Event()  # ingestion answers only once released
    langfuse_fake.ingestion_status = 500
    langfuse_fake.received.clear()
    res = api.call("POST", f"/api/v1/chats/{chat_id}/completions", json={"question": "Where is the Eiffel Tower?", "stream": False})
    assert res["code"] == 0 and "Paris" in res["data"]["answer"]
    assert langfuse_fake.received.wait(20)
    assert not langfuse_fake.answered.is_set()  # the answer came while Langfuse was still holding the trace
    langfuse_fake.hold.set()
    assert langfuse_fake.answered.wait(20)
    again = api.call("POST", f"/api/v1/chats/{chat_id}/completions", json={"question": "Where is the Eiffel Tower?", "stream": False})
    assert again["code"] == 0
    deadline = time.time() + 20
    while "langfuse ingestion answered HTTP 500" not in caplog.text and time.time() < deadline:
        time.sleep(0.02)
    assert "langfuse ingestion answered HTTP 500" in caplog.text and SECRET not in caplog.text
