"""DeepDOC's layout model across a function boundary: on AWS the ingest function's bundle has no room for the
model, so the OCR function (which carries the `layout` layer) detects a page's regions for it. Page pictures go as
PNG; regions come back in the picture's pixels, exactly what layout_model.detect returns in process."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ragcore.parsing.layout_model import Region

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def layout_request(rgb: np.ndarray) -> dict[str, Any]:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")  # ~800 px high: a few hundred KB, far under an invoke's 6 MB
    return {"layout": {"image": base64.b64encode(buffer.getvalue()).decode()}}


def layout_reply(request: Mapping[str, Any]) -> dict[str, Any]:
    """The OCR function's side: the regions of one page picture."""
    from PIL import Image

    from ragcore.parsing import layout_model

    image = Image.open(io.BytesIO(base64.b64decode(str(request["image"])))).convert("RGB")
    regions = layout_model.detect(np.asarray(image))
    return {"regions": [[r.kind, r.x0, r.top, r.x1, r.bottom, r.score] for r in regions]}


def remote_detector(invoke: Invoke) -> Callable[[np.ndarray], list[Region]]:
    """A layout.Detector that asks the OCR function; a failed call raises, so that page fails alone."""

    def detect(rgb: np.ndarray) -> list[Region]:
        reply = invoke(layout_request(rgb))
        if "regions" not in reply:
            raise RuntimeError(f"layout detection failed: {reply.get('errorMessage') or 'no regions'}")
        return [Region(str(k), float(x0), float(top), float(x1), float(bottom), float(s))
                for k, x0, top, x1, bottom, s in reply["regions"]]

    return detect
