"""PDF parse + chunk throughput on one core: a generated 100-page text PDF through parse_document and
chunk_document("naive"), as the ingestion pipeline runs them (12-page tasks by default). Goal: ≥ 50 pages/s.

Also times pypdf's text extraction on the same file, the baseline that ragcore/parsing/pdf.py compares against.

    .venv/bin/python bench/parse_chunk.py [--pages 100] [--task-pages 12] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from ragcore.chunking import chunk_document  # noqa: E402
from ragcore.parsing import page_count, parse_document  # noqa: E402

from tests.unit.files_factory import lorem_pages, make_pdf  # noqa: E402


def run(data: bytes, task_pages: int, method: str) -> tuple[float, int]:
    started = time.perf_counter()
    pages = page_count("bench.pdf", data)
    chunks = 0
    for start in range(0, pages, task_pages):
        parsed = parse_document("bench.pdf", data, page_from=start, page_to=min(start + task_pages, pages))
        chunks += len(chunk_document(parsed, method, {"chunk_token_num": 512, "delimiter": "\n"}, filename="bench.pdf"))
    return time.perf_counter() - started, chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--task-pages", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = make_pdf(lorem_pages(args.pages), compress=True)
    print(f"PDF: {args.pages} pages, {len(data) / 1024:.0f} KB, tasks of {args.task_pages} pages")
    for method in ("naive", "book"):
        best, chunks = min(run(data, args.task_pages, method) for _ in range(args.repeat))
        print(f"parse+chunk {method:6s}: {args.pages / best:7.0f} pages/s  ({best * 1000:.0f} ms, {chunks} chunks)")
    from pypdf import PdfReader

    started = time.perf_counter()
    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text()
    print(f"pypdf text only (baseline): {args.pages / (time.perf_counter() - started):7.0f} pages/s")


if __name__ == "__main__":
    main()
