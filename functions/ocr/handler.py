"""The OCR Lambda: page pictures in, text boxes out. Invoked synchronously by the ingest function
(adapters/lambda_ocr.py) for images and scanned PDF pages; it alone carries the OCR models (the "ocr" layer).

    event  {"pages": [{"page": 3, "scale": 2.083, "image": "<base64 PNG/JPEG>"}]}
    reply  {"pages": [{"boxes": [[text, x0, top, x1, bottom, confidence], …]} | {"error": "reason"}]}

It also answers DeepDOC's layout model, whose layer rides here too (the ingest bundle is full):

    event  {"layout": {"image": "<base64 PNG>"}}
    reply  {"regions": [[kind, x0, top, x1, bottom, score], …]}   (in the picture's pixels)

It imports no FastAPI, boto3 or container: nothing but the OCR engine, so a cold start is the models' load.
"""

from __future__ import annotations

from typing import Any

from ragcore.parsing.layout_remote import layout_reply
from ragcore.parsing.ocr import LocalOcr, PageResult, page_of_request, reply_of

_engine = LocalOcr()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "layout" in event:
        return layout_reply(event["layout"])
    results: list[PageResult] = []
    for request in event.get("pages") or []:
        try:
            results.extend(_engine.recognize([page_of_request(request)]))
        except Exception as exc:  # an undecodable picture fails its page only
            results.append(f"the page picture could not be read ({type(exc).__name__})")
    return {"pages": [reply_of(r) for r in results]}
