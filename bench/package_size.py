"""Each Lambda's package: unzipped and zipped size including its layers (limit 250 MB unzipped) and the cold
import time of its handler module.

    .venv/bin/python bench/package_size.py            # builds layers/build (and layers/build/host) if missing
    .venv/bin/python bench/package_size.py --rebuild  # rebuild first

Sizes are the real Lambda bundles (arm64, CPython 3.13) from layers/build.py. Import times use the same split
built for this machine (layers/build/host, with python3.13 when this machine has it): a fresh interpreter with `-S`
(no site-packages) sees only the app and that function's layers, so a package missing from a layer fails here as
it would on Lambda. "shipped .pyc" is a cold start from the bundle as built (layers/build.py compiles every
module for the runtime's Python; Lambda's code dirs are read-only, so nothing is written); "no .pyc" is what a
bundle without bytecode pays on every cold start. "bare" is FastAPI + Mangum with no routes, imported the same way
in the same run: the floor any FastAPI function pays. This machine is not a Graviton core: read the numbers
relative to each other.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "layers" / "build"
HOST = BUILD / "host"
LIMIT_MB = 250
MB = 1024 * 1024
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

from infra.route_map import lambda_modules  # noqa: E402
from infra.stacks.function_specs import STREAM, FunctionSpec, deployed_functions  # noqa: E402
from layers.build import LAYERS, host_python  # noqa: E402

BARE = "import fastapi, mangum; mangum.Mangum(fastapi.FastAPI(), lifespan='off')"
# what the first request of an API function adds on AWS before its first call: the SDK and the table resource
FIRST_STORE_USE = "import boto3; boto3.resource('dynamodb').Table('t')"


class _Counter:
    """A write-only sink that counts bytes: zip sizes without writing 200 MB anywhere."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass


def folder_sizes(folder: Path, zipped: bool) -> tuple[int, int]:
    raw = 0
    sink = _Counter()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[call-overload]
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                raw += path.stat().st_size
                if zipped:
                    archive.write(path, path.relative_to(folder))
    return raw, sink.size


def ensure_built(rebuild: bool) -> None:
    needed = [BUILD / n for n in ("app", *LAYERS)]
    if rebuild or not all(p.is_dir() for p in needed):
        subprocess.run([sys.executable, str(ROOT / "layers" / "build.py")], check=True)
    if rebuild or not all((HOST / n).is_dir() for n in LAYERS):
        subprocess.run([sys.executable, str(ROOT / "layers" / "build.py"), "host"], check=True)


def handler_module(spec: FunctionSpec) -> str:
    if spec is STREAM or spec.handler == STREAM.handler:
        return "functions.completions.server"  # what run.sh starts
    return spec.handler.rsplit(".", 1)[0]


def import_ms(statement: str, layers: tuple[str, ...], shipped: bool) -> float:
    """One fresh interpreter: time to run the import statement with only the bundle on the path."""
    paths = [str(BUILD / "app"), *(str(HOST / layer / "python") for layer in layers)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.pathsep.join(paths),
           "RAGFLOW_RUNTIME": "aws", "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    with tempfile.TemporaryDirectory() as empty:
        # an empty cache prefix hides the shipped __pycache__ dirs: every module compiles, as from a source-only zip
        run_env = env if shipped else {**env, "PYTHONPYCACHEPREFIX": empty}
        # cwd is an empty dir too: the repo's own functions/ and shared/ must not be importable
        out = subprocess.run([host_python(), "-S", "-c", code], env=run_env, cwd=empty, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{statement} failed with only {layers} on the path:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def best_times(jobs: dict[str, tuple[str, tuple[str, ...], bool]], runs: int) -> dict[str, float]:
    """Best of `runs` per job, the jobs taken in turn each round, so a slow moment of the machine weighs on all."""
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(runs):
        for name, (statement, layers, shipped) in jobs.items():
            best[name] = min(best[name], import_ms(statement, layers, shipped))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="run layers/build.py first")
    parser.add_argument("--no-zip", action="store_true", help="skip the (slow) zipped sizes")
    parser.add_argument("--runs", type=int, default=5, help="interpreters per import timing (best is kept)")
    args = parser.parse_args()
    ensure_built(args.rebuild)

    folders = {"app": BUILD / "app", **{n: BUILD / n for n in LAYERS}}
    sizes = {name: folder_sizes(path, not args.no_zip) for name, path in folders.items()}
    print(f"{'bundle':10} {'unzipped MB':>12} {'zipped MB':>10}")
    for name, (raw, packed) in sizes.items():
        print(f"{name:10} {raw / MB:12.1f} {packed / MB if not args.no_zip else float('nan'):10.1f}")
    print()

    specs = deployed_functions(lambda_modules(), local_embedder=False)
    jobs = {"bare": (BARE, ("core",), True), "aws": (FIRST_STORE_USE, ("core",), True)}
    for spec in specs:
        statement = f"import {handler_module(spec)}"
        jobs |= {f"{spec.name} cold": (statement, spec.layers, False), spec.name: (statement, spec.layers, True)}
    best = best_times(jobs, args.runs)
    print(f"import timings, best of {args.runs}, with {host_python()}: bare FastAPI + Mangum {best['bare']:.0f} ms; "
          f"a first request on AWS adds boto3 and the DynamoDB table: {best['aws']:.0f} ms")
    header = (f"{'function':12} {'layers':22} {'unzipped MB':>12} {'zipped MB':>10} {'import ms (no .pyc)':>20} "
              f"{'(shipped .pyc)':>15} {'× bare':>7}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for spec in specs:
        parts = ["app", *spec.layers]
        total_mb = sum(sizes[p][0] for p in parts) / MB
        zipped_mb = sum(sizes[p][1] for p in parts) / MB
        worst = max(worst, total_mb)
        extra = " +LWA" if spec is STREAM else ""
        print(f"{spec.name:12} {'+'.join(spec.layers) + extra:22} {total_mb:12.1f} "
              f"{zipped_mb if not args.no_zip else float('nan'):10.1f} {best[f'{spec.name} cold']:20.0f} "
              f"{best[spec.name]:15.0f} {best[spec.name] / best['bare']:7.2f}")
    print(f"\nlargest function: {worst:.1f} MB unzipped of {LIMIT_MB} MB — {'OK' if worst < LIMIT_MB else 'TOO BIG'}"
          " (+LWA: the AWS-published Lambda Web Adapter layer, a few MB, not counted)")


if __name__ == "__main__":
    main()
