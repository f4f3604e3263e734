"""Cold start: what every API function's handler imports, beyond a bare FastAPI + Mangum app, before its first
request — only our own modules (within a budget), the standard library and the packages the bare app already loads;
never the heavy packages its requests load on first use.

Counted, not timed: a module list is the same on any machine, where import times vary with the host and its load
(a 1.5x time ratio asserted here failed CI at 1.53 on a busy machine). bench/package_size.py prints the times, from
the real per-function bundles, against the bare app. The interpreter sees what a Lambda sees: our code as
layers/build.py bundles it (tests and docs left out, compiled ahead), the installed packages, `-S` so no site hooks
run, read-only bytecode (PYTHONDONTWRITEBYTECODE) and RAGFLOW_RUNTIME=aws.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from infra.route_map import lambda_modules
from infra.stacks.function_specs import api_function
from layers.build import copy_app

# our modules a handler may import before its first request: the largest (agents, completions) need 57 today; a
# handler crossing this has started importing another area's code or an adapter it only needs on first use
OWN_MODULE_BUDGET = 70
OWN = ("ragcore", "functions")
BARE = "import fastapi, mangum; mangum.Mangum(fastapi.FastAPI(), lifespan='off')"
# what no API function may import before its first request: models, parsers, AWS SDKs, HTTP clients of providers
DEFERRED = ("numpy", "onnxruntime", "tokenizers", "pypdf", "pypdfium2", "docx", "openpyxl", "pptx", "boto3", "botocore",
            "openai", "pinecone", "httpx", "uvicorn", "aws_lambda_powertools", "sqlite3", "pydantic_settings")
HANDLERS = [api_function(module).handler.rsplit(".", 1)[0] for module in lambda_modules()]


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    app = copy_app(tmp_path_factory.mktemp("bundle") / "app", sys.executable)
    packages = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.pathsep.join([str(app), *packages]),
            "PYTHONDONTWRITEBYTECODE": "1", "RAGFLOW_RUNTIME": "aws", "AWS_DEFAULT_REGION": "us-east-1"}


def run(environment: dict[str, str], code: str, cwd: Path) -> str:
    out = subprocess.run([sys.executable, "-S", "-c", code], env=environment, cwd=cwd, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def imported(environment: dict[str, str], statement: str, cwd: Path) -> set[str]:
    return set(run(environment, f"import sys; {statement}; print(' '.join(sorted(sys.modules)))", cwd).split())


@pytest.fixture(scope="module")
def bare_modules(environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return imported(environment, BARE, tmp_path_factory.mktemp("bare"))


@pytest.fixture(scope="module")
def handler_modules(environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """What each handler leaves in sys.modules, one fresh interpreter each (it must be a Lambda entry point)."""
    cwd = tmp_path_factory.mktemp("handlers")
    return {handler: imported(environment, f"import {handler} as h; assert callable(h.handler)", cwd)
            for handler in HANDLERS}


@pytest.mark.parametrize("handler", HANDLERS)
def test_handler_imports_only_our_modules_and_the_standard_library_beyond_bare_fastapi(
        bare_modules: set[str], handler_modules: dict[str, set[str]], handler: str) -> None:
    added = handler_modules[handler] - bare_modules
    known = {name.split(".")[0] for name in bare_modules} | set(sys.stdlib_module_names) | set(OWN)
    assert sorted({name.split(".")[0] for name in added} - known) == []  # no third-party package of its own
    own = sorted(name for name in added if name.split(".")[0] in OWN)
    assert handler in own and len(own) <= OWN_MODULE_BUDGET, own


@pytest.mark.parametrize("handler", HANDLERS)
def test_handler_import_leaves_heavy_packages_for_first_use(handler_modules: dict[str, set[str]], handler: str) -> None:
    assert sorted({name.split(".")[0] for name in handler_modules[handler]} & set(DEFERRED)) == []


def test_function_bundles_carry_no_console(tmp_path: Path) -> None:
    """The web console (with pdf.js) is served from S3; a function bundle only pays for it in size."""
    app = copy_app(tmp_path / "app", sys.executable)
    assert (app / "ragcore" / "parsing" / "onnx_fusion.py").is_file()
    assert not (app / "ragcore" / "console").exists()
