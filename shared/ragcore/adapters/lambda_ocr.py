"""OcrEngine on AWS: each page picture goes to the OCR function (functions/ocr) by a synchronous invoke, a few
pages at once. The ingest function's bundle has no room for the OCR models; the OCR function has them alone."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ragcore.parsing.ocr import PageResult, page_request, result_of_reply
from ragcore.parsing.regions import PageImage

PARALLEL_PAGES = 8  # OCR function instances one ingest task keeps busy


class LambdaOcr:
    def __init__(self, function_name: str, *, endpoint_url: str | None = None,
                 invoke: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self._function = function_name
        self._endpoint = endpoint_url
        self._invoke = invoke or self._lambda_invoke
        self._client: Any = None

    def recognize(self, pages: Sequence[PageImage]) -> list[PageResult]:
        if len(pages) <= 1:
            return [self._one(p) for p in pages]
        with ThreadPoolExecutor(min(PARALLEL_PAGES, len(pages))) as pool:
            return list(pool.map(self._one, pages))

    def layout_detector(self) -> Callable[[Any], list[Any]]:
        """DeepDOC's region detector in the OCR function (its bundle carries the layout model; ingest's cannot)."""
        from ragcore.parsing.layout_remote import remote_detector

        return remote_detector(self._invoke)

    def _one(self, picture: PageImage) -> PageResult:
        try:
            reply = self._invoke({"pages": [page_request(picture)]})
            pages = reply.get("pages") or []
            if not pages:
                return f"OCR function gave no answer ({reply.get('errorMessage') or reply.get('errorType') or 'empty'})"
            return result_of_reply(picture.page, pages[0])
        except Exception as exc:  # this page fails alone, with the reason
            return f"OCR function call failed ({type(exc).__name__}: {exc})"

    def _lambda_invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # an OCR call takes seconds; a page batch waits for its slowest page
            self._client = boto3.client("lambda", endpoint_url=self._endpoint,
                                        config=Config(read_timeout=300, retries={"max_attempts": 2}))
        answer = self._client.invoke(FunctionName=self._function, InvocationType="RequestResponse",
                                     Payload=json.dumps(payload).encode())
        body: dict[str, Any] = json.loads(answer["Payload"].read() or b"{}")
        if answer.get("FunctionError"):
            return {"errorMessage": body.get("errorMessage") or answer["FunctionError"]}
        return body
