"""RAGFlow's routes around documents: thumbnails and their images, preview, batch status, loose uploads, artifacts."""

from __future__ import annotations

import io
import uuid

from PIL import Image

from tests.api.docs_helpers import ingest, make_dataset, retrieve, upload, wait_done
from tests.conftest import Api
from tests.unit.files_factory import make_pdf

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(size: tuple[int, int], color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, format="png")
    return out.getvalue()


def test_thumbnails_of_pdfs_and_images_served_as_images(api: Api) -> None:
    ds = make_dataset(api)
    pdf, img, txt = upload(api, ds, {"a.pdf": make_pdf([["Hello thumbnail"]]), "b.png": _png((300, 120)), "c.txt": b"x"})
    assert pdf["thumbnail"] == f"thumbnail_{pdf['id']}.png" and txt["thumbnail"] == ""
    res = api.call("GET", "/api/v1/thumbnails", params={"doc_ids": [pdf["id"], img["id"], txt["id"]]})
    assert res["code"] == 0 and res["message"] == "success"
    assert res["data"] == {
        pdf["id"]: f"/api/v1/documents/images/{ds}-thumbnail_{pdf['id']}.png",
        img["id"]: f"/api/v1/documents/images/{ds}-thumbnail_{img['id']}.png",
        txt["id"]: "",
    }
    r = api.client.get(res["data"][pdf["id"]], headers=api.headers())
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content.startswith(PNG_MAGIC)
    page = Image.open(io.BytesIO(r.content))
    assert page.width < 612 and page.height < 792  # smaller than the page's 612×792 points
    r = api.client.get(res["data"][img["id"]], headers=api.headers())
    assert Image.open(io.BytesIO(r.content)).size == (30, 12)  # fits 30×30, aspect kept


def test_thumbnail_made_at_parse_when_upload_had_none(api: Api) -> None:
    """Bytes that arrive by upload URL get their thumbnail when parsed (as on AWS, where the API lacks renderers)."""
    ds = make_dataset(api)
    res = api.call("POST", f"/api/v1/datasets/{ds}/documents/upload_url", json={"name": "late.pdf"})
    doc_id, url = res["data"]["document"]["id"], res["data"]["upload_url"]
    assert res["data"]["document"]["thumbnail"] == ""
    assert api.client.put("/api/v1/uploads/" + url.rsplit("/", 1)[1], content=make_pdf([["Arrived later"]])).json()["code"] == 0
    api.call("POST", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [doc_id]})
    assert wait_done(api, ds, doc_id)["thumbnail"] == f"thumbnail_{doc_id}.png"
    r = api.client.get(f"/api/v1/documents/images/{ds}-thumbnail_{doc_id}.png", headers=api.headers())
    assert r.content.startswith(PNG_MAGIC)


def test_thumbnails_and_images_are_the_owners_only(api: Api) -> None:
    ds = make_dataset(api)
    (pdf,) = upload(api, ds, {"a.pdf": make_pdf([["Mine"]])})
    other = api.new_tenant_key()
    assert api.call("GET", "/api/v1/thumbnails", key=other, params={"doc_ids": [pdf["id"]]})["data"] == {}
    image = f"/api/v1/documents/images/{ds}-thumbnail_{pdf['id']}.png"
    not_found = {"code": 102, "message": "Image not found.", "data": None}
    assert api.call("GET", image, key=other) == not_found
    for bad in (f"{ds}", f"{ds}-", f"-thumbnail_{pdf['id']}.png", f"{ds}-..%5C..%5Capi_key.txt",
                f"{uuid.uuid4().hex}-thumbnail_{pdf['id']}.png", f"{ds}-thumbnail_{uuid.uuid4().hex}.png"):
        assert api.call("GET", f"/api/v1/documents/images/{bad}") == not_found, bad
    api.call("DELETE", f"/api/v1/datasets/{ds}/documents", json={"ids": [pdf["id"]]})
    assert api.call("GET", image) == not_found


def test_thumbnails_bad_input(api: Api) -> None:
    assert api.call("GET", "/api/v1/thumbnails") == {"code": 101, "message": 'Lack of "Document ID"', "data": False}
    many = [uuid.uuid4().hex for _ in range(101)]
    assert api.call("GET", "/api/v1/thumbnails", params={"doc_ids": many})["message"] == "doc_ids must contain at most 100 IDs"
    assert api.call("GET", "/api/v1/thumbnails", params={"doc_ids": many[:3]}) == {"code": 0, "message": "success", "data": {}}


def test_preview_serves_bytes_inline_and_html_as_attachment(api: Api) -> None:
    ds = make_dataset(api)
    pdf_bytes = make_pdf([["Preview me"]])
    pdf, html, md = upload(api, ds, {"a b.pdf": pdf_bytes, "x.html": b"<script>alert(1)</script>", "n.md": b"# T"})
    r = api.client.get(f"/api/v1/documents/{pdf['id']}/preview", headers=api.headers())
    assert r.status_code == 200 and r.content == pdf_bytes
    assert r.headers["content-type"] == "application/pdf" and r.headers["content-disposition"] == 'inline; filename="a_b.pdf"'
    r = api.client.get(f"/api/v1/documents/{html['id']}/preview", headers=api.headers())
    assert r.headers["content-disposition"] == "attachment" and r.headers["x-content-type-options"] == "nosniff"
    r = api.client.get(f"/api/v1/documents/{md['id']}/preview", headers=api.headers())
    assert r.headers["content-type"].startswith("text/markdown")
    missing = {"code": 102, "message": "document not found", "data": None}
    assert api.call("GET", f"/api/v1/documents/{pdf['id']}/preview", key=api.new_tenant_key()) == missing
    assert api.call("GET", f"/api/v1/documents/{uuid.uuid4().hex}/preview") == missing
    empty = api.call("POST", f"/api/v1/datasets/{ds}/documents?type=empty", json={"name": "e.txt"})["data"]
    assert api.call("GET", f"/api/v1/documents/{empty['id']}/preview") == {"code": 102, "message": "This file is empty.", "data": None}


def test_batch_update_status_switches_documents_out_of_search(api: Api) -> None:
    ds = make_dataset(api)
    a, b = ingest(api, ds, {"a.txt": b"Pelicans nest on the islands.", "b.txt": b"Pelicans eat fish daily."})
    url = f"/api/v1/datasets/{ds}/documents/batch-update-status"
    res = api.call("POST", url, json={"doc_ids": [a["id"], b["id"]], "status": 0})
    assert res == {"code": 0, "message": "success", "data": {a["id"]: {"status": "0"}, b["id"]: {"status": "0"}}}
    assert retrieve(api, question="pelicans", dataset_ids=[ds])["chunks"] == []
    listed = api.call("GET", f"/api/v1/datasets/{ds}/documents")["data"]["docs"]
    assert {d["status"] for d in listed} == {"0"}
    assert api.call("POST", url, json={"doc_ids": [a["id"]], "status": "1"})["data"] == {a["id"]: {"status": "1"}}
    assert {c["document_id"] for c in retrieve(api, question="pelicans", dataset_ids=[ds])["chunks"]} == {a["id"]}


def test_batch_update_status_partial_failure_and_bad_input(api: Api) -> None:
    ds, other_ds = make_dataset(api), make_dataset(api, "other")
    (a,) = upload(api, ds, {"a.txt": b"A"})
    (elsewhere,) = upload(api, other_ds, {"e.txt": b"E"})
    other_key = api.new_tenant_key()
    (foreign,) = upload(api, ds, {"f.txt": b"F"})
    url = f"/api/v1/datasets/{ds}/documents/batch-update-status"
    missing = uuid.uuid4().hex
    res = api.call("POST", url, json={"doc_ids": [a["id"], missing, elsewhere["id"]], "status": "0"})
    assert res == {"code": 500, "message": "Partial failure", "data": {
        a["id"]: {"status": "0"}, missing: {"error": "Document not found"},
        elsewhere["id"]: {"error": "Document not found in this dataset."}}}
    assert api.call("POST", url, key=other_key, json={"doc_ids": [foreign["id"]], "status": "0"}) == {
        "code": 102, "message": "you don't own the dataset", "data": None}
    for body, message in (
        ({}, '"doc_ids" must be a non-empty list.'),
        ({"doc_ids": "x", "status": 1}, '"doc_ids" must be a non-empty list.'),
        ({"doc_ids": [""], "status": 1}, '"doc_ids" must contain non-empty document IDs.'),
        ({"doc_ids": [a["id"]], "status": 2}, '"Status" must be either 0 or 1:2!'),
        ({"doc_ids": [a["id"]]}, '"Status" must be either 0 or 1:-1!'),
    ):
        assert api.call("POST", url, json=body) == {"code": 101, "message": message, "data": None}, body
    assert api.call("GET", f"/api/v1/datasets/{ds}/documents", params={"id": foreign["id"]})["data"]["docs"][0]["status"] == "1"


def test_upload_info_keeps_files_outside_datasets(api: Api, data_dir: object) -> None:
    r = api.client.post("/api/v1/documents/upload", headers=api.headers(),
                        files=[("file", ("Notes.MD", b"# hello", "text/markdown"))])
    body = r.json()
    assert body["code"] == 0
    info = body["data"]
    assert info["name"] == "Notes.MD" and info["extension"] == "md" and info["size"] == 7
    assert info["mime_type"] == "text/markdown" and info["created_by"] == api.tenant and info["preview_url"] is None
    assert len(info["id"]) == 32
    from ragcore.bootstrap.container import get_container

    assert get_container().blobs.get(f"uploads/{api.tenant}/{info['id']}") == b"# hello"
    two = api.client.post("/api/v1/documents/upload", headers=api.headers(),
                          files=[("file", ("a.txt", b"a")), ("file", ("b.txt", b"bb"))]).json()
    assert [(d["name"], d["size"]) for d in two["data"]] == [("a.txt", 1), ("b.txt", 2)]
    assert api.call("POST", "/api/v1/documents/upload") == {
        "code": 101, "message": "Missing input: provide multipart file(s) or url", "data": None}
    both = api.client.post("/api/v1/documents/upload?url=https://example.com", headers=api.headers(),
                           files=[("file", ("a.txt", b"a"))]).json()
    assert both == {"code": 101, "message": "Provide either multipart file(s) or ?url=..., not both.", "data": None}
    assert api.call("POST", "/api/v1/documents/upload?url=https://example.com")["code"] == 101


def test_artifact_names_checked_and_nothing_served(api: Api) -> None:
    def get(name: str) -> dict:  # type: ignore[type-arg]
        return api.call("GET", f"/api/v1/documents/artifact/{name}")

    assert get("a%5Cb.png") == {"code": 102, "message": "Invalid filename.", "data": None}
    assert get("report.exe") == {"code": 102, "message": "invalid file type", "data": None}
    assert get(".png") == {"code": 102, "message": "invalid file type", "data": None}
    assert get(f"{uuid.uuid4().hex}.png") == {"code": 102, "message": "Artifact not found.", "data": None}
    assert api.client.get("/api/v1/documents/artifact/x.png").json()["code"] == 401  # the API key is required


def test_upload_does_not_wait_for_a_busy_pdf_renderer(api: Api) -> None:
    """While a parse holds PDFium, an upload goes on without a thumbnail and the parse makes it afterwards."""
    from ragcore.parsing.pdf_shared import PDFIUM_LOCK

    ds = make_dataset(api)
    with PDFIUM_LOCK:
        (pdf,) = upload(api, ds, {"busy.pdf": make_pdf([["Renderer busy"]])})
    assert pdf["thumbnail"] == ""
    api.call("POST", f"/api/v1/datasets/{ds}/chunks", json={"document_ids": [pdf["id"]]})
    assert wait_done(api, ds, pdf["id"])["thumbnail"] == f"thumbnail_{pdf['id']}.png"
