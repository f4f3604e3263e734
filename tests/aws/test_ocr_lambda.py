"""OCR on the AWS runtime under moto: an image dropped on S3 → SQS → the ingest Lambda, which has no OCR engine of
its own and sends each page picture to the OCR Lambda (functions/ocr/handler.py). moto cannot run a Lambda without
Docker, so the invoke is answered by the OCR handler in this process, through the same JSON both ways."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from ragcore.bootstrap import container as container_module

from tests.aws.conftest import BUCKET, Aws
from tests.aws.test_ingest_lambda import documents_of
from tests.unit.files_factory import make_pdf
from tests.unit.ocr_documents import page_pictures, picture_file, scanned_pdf

LINES = ["Customs declaration for container MSCU 4471", "Contents: forty crates of ceramic tiles",
         "Declared value is twelve thousand euros"]


@pytest.fixture
def ocr_aws(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Aws, list[dict[str, Any]]]]:  # noqa: F811
    from ragcore.adapters.lambda_ocr import LambdaOcr

    from functions.ocr.handler import handler

    calls: list[dict[str, Any]] = []

    def invoke(self: LambdaOcr, payload: dict[str, Any]) -> dict[str, Any]:
        assert self._function == "ragflow-ocr"
        wire = json.loads(json.dumps(payload))  # what Lambda would carry
        assert len(json.dumps(wire)) < 6_000_000  # a synchronous invoke's limit
        calls.append(wire)
        return dict(json.loads(json.dumps(handler(wire, None))))

    monkeypatch.setattr(LambdaOcr, "_lambda_invoke", invoke)
    monkeypatch.setenv("OCR_FUNCTION_NAME", "ragflow-ocr")
    container_module.reset()  # the settings are read once: now with the OCR function's name
    yield aws, calls


def chunks(cloud: Aws, dataset_id: str) -> list[dict[str, Any]]:
    from ragcore import bootstrap

    [doc] = documents_of(cloud, dataset_id)
    stored = bootstrap.documents().find(cloud.tenant, dataset_id, doc["id"])
    assert stored is not None and doc["run"] == "DONE", doc["progress_msg"]
    return bootstrap.chunk_store().page(cloud.tenant, stored, 0, 100)


def test_a_dropped_image_is_read_by_the_ocr_lambda(ocr_aws: tuple[Aws, list[dict[str, Any]]]) -> None:
    from ragcore import bootstrap

    cloud, calls = ocr_aws
    [picture] = page_pictures(make_pdf([LINES]), 150)
    cloud.s3.put_object(Bucket=BUCKET, Key="inbox/customs/declaration.jpg", Body=picture_file(picture, "JPEG"))
    cloud.settle()
    dataset = bootstrap.datasets().find_by_name(cloud.tenant, "customs")
    assert dataset is not None
    [chunk] = chunks(cloud, dataset["id"])
    assert "ceramic tiles" in chunk["content"] and "twelve thousand" in chunk["content"]
    assert len(calls) == 1 and calls[0]["pages"][0]["page"] == 1
    [[page, x0, x1, top, bottom]] = chunk["positions"]
    assert page == 1 and 0 < x0 < x1 <= picture.width and 0 < top < bottom <= picture.height
    data, media = bootstrap.document_assets().image(cloud.tenant, chunk["image_id"])  # the picture, from S3
    assert media == "image/jpeg" and data[:2] == b"\xff\xd8"


def test_scanned_pages_go_to_the_ocr_lambda_one_per_call(ocr_aws: tuple[Aws, list[dict[str, Any]]]) -> None:
    from ragcore import bootstrap

    cloud, calls = ocr_aws
    cloud.s3.put_object(Bucket=BUCKET, Key="inbox/customs/scan.pdf", Body=scanned_pdf([LINES[:1], LINES[1:]], 150))
    cloud.settle()
    dataset = bootstrap.datasets().find_by_name(cloud.tenant, "customs")
    assert dataset is not None
    text = "\n".join(c["content"] for c in chunks(cloud, dataset["id"]))
    assert "MSCU 4471" in text and "ceramic tiles" in text
    assert sorted(c["pages"][0]["page"] for c in calls) == [1, 2]


def test_deepdoc_asks_the_ocr_lambda_for_layout_when_ingest_lacks_the_model(
        ocr_aws: tuple[Aws, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore import bootstrap
    from ragcore.parsing import layout_model

    cloud, calls = ocr_aws
    monkeypatch.setattr(layout_model, "available", lambda: False)  # the ingest bundle: no `layout` layer
    cloud.s3.put_object(Bucket=BUCKET, Key="inbox/customs/text.pdf", Body=make_pdf([LINES, LINES[::-1]]))
    cloud.settle()
    dataset = bootstrap.datasets().find_by_name(cloud.tenant, "customs")
    assert dataset is not None and dataset["parser_config"]["layout_recognize"] == "DeepDOC"
    [doc] = documents_of(cloud, dataset["id"])
    assert doc["run"] == "DONE" and "No layout model here" not in doc["progress_msg"], doc["progress_msg"]
    layout_calls = [c for c in calls if "layout" in c]
    assert len(layout_calls) == 2 and not [c for c in calls if "pages" in c]  # text pages: layout only, no OCR
    found = chunks(cloud, dataset["id"])
    assert "ceramic tiles" in "\n".join(c["content"] for c in found)
    assert all(p[2] > p[1] for c in found for p in c["positions"])  # real boxes from the layout path
