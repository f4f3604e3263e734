"""Images and scanned PDFs through the HTTP API: OCR'd chunks with positions and pictures (img_id served by
/documents/images with tenancy), a page that fails OCR failing alone, and the picture method's vision model."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from PIL import Image

from tests.api.docs_helpers import make_dataset, parse, upload, wait_done
from tests.conftest import Api, app_with
from tests.fakes.openai_server import FakeOpenAI
from tests.unit.files_factory import make_pdf
from tests.unit.ocr_documents import page_pictures, picture_file, scanned_pdf

LINES = ["Harbour inspection notes for the north pier", "Three bollards need new paint before winter",
         "The crane on berth four was serviced in May"]


def chunks_of(api: Api, ds: str, doc_id: str, key: str | None = None) -> list[dict[str, Any]]:
    res = api.call("GET", f"/api/v1/datasets/{ds}/documents/{doc_id}/chunks", key)
    assert res["code"] == 0, res
    return list(res["data"]["chunks"])


def test_an_image_is_ocred_into_chunks_with_positions_and_pictures(api: Api) -> None:
    ds = make_dataset(api, "scans")
    [picture] = page_pictures(make_pdf([LINES]), 150)
    [doc] = upload(api, ds, {"pier.png": picture_file(picture, "PNG")})
    parse(api, ds, [doc["id"]])
    done = wait_done(api, ds, doc["id"], timeout=120)
    assert done["run"] == "DONE" and done["chunk_count"] >= 1, done["progress_msg"]
    [chunk] = chunks_of(api, ds, doc["id"])
    assert "north pier" in chunk["content"] and "berth four" in chunk["content"]
    [[page, x0, x1, top, bottom]] = chunk["positions"]
    assert page == 1 and 0 < x0 < x1 <= picture.width and 0 < top < bottom <= picture.height
    assert chunk["image_id"] == f"{ds}-{chunk['id']}"
    r = api.client.get(f"/api/v1/documents/images/{chunk['image_id']}", headers=api.headers())
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    shown = Image.open(io.BytesIO(r.content))
    assert (shown.width, shown.height) == (x1 - x0 + 9, bottom - top + 9)  # the region and a 4-point margin

    other = api.new_tenant_key()
    not_found = {"code": 102, "message": "Image not found.", "data": None}
    assert api.call("GET", f"/api/v1/documents/images/{chunk['image_id']}", other) == not_found
    assert api.call("GET", f"/api/v1/documents/images/{make_dataset(api, 'other')}-{chunk['id']}") == not_found
    hits = api.call("POST", "/api/v1/retrieval", json={"question": "crane serviced", "dataset_ids": [ds]})["data"]
    assert hits["chunks"] and hits["chunks"][0]["positions"] == chunk["positions"]

    # the document's deletion takes its chunk pictures with it
    assert api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [doc["id"]]})["code"] == 0
    from tests.api.docs_helpers import eventually

    eventually(lambda: api.call("GET", f"/api/v1/documents/images/{chunk['image_id']}") == not_found)


class FailsPageTwo:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def recognize(self, pages: Sequence[Any]) -> list[Any]:
        return ["OCR failed (RuntimeError: the model ran out of memory)" if p.page == 2 else
                self._inner.recognize([p])[0] for p in pages]


def test_a_scanned_page_that_fails_ocr_fails_alone(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.bootstrap.wiring import runtime
    from ragcore.parsing.ocr import LocalOcr

    monkeypatch.setattr(runtime, "ocr_engine", lambda: FailsPageTwo(LocalOcr()))
    ds = make_dataset(api, "scanned")
    scan = scanned_pdf([LINES[:1], ["This page cannot be read"], LINES[1:]], 150)
    [doc] = upload(api, ds, {"scan.pdf": scan})
    parse(api, ds, [doc["id"]])
    done = wait_done(api, ds, doc["id"], timeout=120)
    assert done["run"] == "DONE", done["progress_msg"]
    assert "Page 2: OCR failed (RuntimeError: the model ran out of memory); the other pages are kept." in done["progress_msg"]
    text = "\n".join(c["content"] for c in chunks_of(api, ds, doc["id"]))
    assert "north pier" in text and "berth four" in text and "cannot be read" not in text
    assert all(c["image_id"] for c in chunks_of(api, ds, doc["id"]))


@pytest.fixture
def vision() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.reply = "A photograph of a lighthouse at dusk."
    yield fake
    fake.close()


@pytest.fixture
def vapi(vision: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    yield from app_with({"PROVIDER_BASE_URLS": json.dumps({"ZHIPU-AI": vision.url})}, monkeypatch)


def test_picture_method_describes_an_image_with_the_tenants_vision_model(vapi: Api, vision: FakeOpenAI) -> None:
    photo = picture_file(Image.new("RGB", (160, 120), (30, 60, 120)), "JPEG")  # no text in it
    ds = make_dataset(vapi, "photos", chunk_method="picture")
    [doc] = upload(vapi, ds, {"lighthouse.jpg": photo})
    parse(vapi, ds, [doc["id"]])
    failed = wait_done(vapi, ds, doc["id"], timeout=120)
    assert failed["run"] == "FAIL" and "no vision model is configured" in failed["progress_msg"]

    assert vapi.call("PUT", "/api/v1/providers", json={"provider_name": "ZHIPU-AI"}) == {"code": 0}
    res = vapi.call("POST", "/api/v1/providers/ZHIPU-AI/instances", json={
        "instance_name": "CI", "api_key": "zhipu-key-aaaa1111", "base_url": "",
        "model_info": [{"model_name": "glm-4v", "model_type": ["vision"]}]})
    assert res == {"code": 0}, res
    assert vapi.call("PATCH", "/api/v1/models/default", json={
        "model_provider": "ZHIPU-AI", "model_instance": "CI", "model_type": "vision", "model_name": "glm-4v"}) == {"code": 0}
    vision.requests.clear()
    parse(vapi, ds, [doc["id"]])
    done = wait_done(vapi, ds, doc["id"], timeout=120)
    assert done["run"] == "DONE", done["progress_msg"]
    [chunk] = chunks_of(vapi, ds, doc["id"])
    assert chunk["content"] == "A photograph of a lighthouse at dusk."
    assert chunk["positions"] == [[1, 0, 160, 0, 120]] and chunk["image_id"]
    [request] = vision.chat_requests()
    assert request["body"]["model"] == "glm-4v"
    parts = request["body"]["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert parts[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
