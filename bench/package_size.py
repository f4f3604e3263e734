"""Lambda bundle sizes (unzipped / zipped, limit 250 MB unzipped incl. layers) and cold import time per handler.

    .venv/bin/python layers/build.py && .venv/bin/python bench/package_size.py
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "layers" / "build"
HANDLERS = ["datasets", "documents", "chunks", "retrieval", "chats", "completions", "ingest"]


def sizes(folder: Path) -> tuple[int, int]:
    raw = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in folder.rglob("*"):
            if path.is_file():
                raw += path.stat().st_size
                zf.write(path, path.relative_to(folder))
    return raw, buffer.tell()


def import_ms(module: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True,
                       env={"PYTHONPATH": f"{ROOT}:{ROOT / 'shared'}", "PATH": "/usr/bin:/bin"})
        best = min(best, (time.perf_counter() - started) * 1000)
    baseline = min(_python_start() for _ in range(3))
    return best - baseline


def _python_start() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    mb = 1024 * 1024
    if (BUILD / "deps").is_dir() and (BUILD / "app").is_dir():
        deps_raw, deps_zip = sizes(BUILD / "deps")
        app_raw, app_zip = sizes(BUILD / "app")
        print(f"dependency layer : {deps_raw / mb:7.1f} MB unzipped, {deps_zip / mb:6.1f} MB zipped")
        print(f"our code         : {app_raw / mb:7.1f} MB unzipped, {app_zip / mb:6.1f} MB zipped")
        total = (deps_raw + app_raw) / mb
        print(f"each function    : {total:7.1f} MB unzipped incl. layers (limit 250 MB) — {'OK' if total < 250 else 'TOO BIG'}")
    else:
        print("no bundles in layers/build (run: .venv/bin/python layers/build.py)")
    for name in HANDLERS:
        print(f"import functions.{name}.handler: {import_ms(f'functions.{name}.handler'):6.0f} ms (cold, over bare python)")


if __name__ == "__main__":
    main()
