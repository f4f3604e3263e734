"""Ingestion speed: PDF parse+chunk pages/s, OCR pages/s on scanned PDFs, local embedding chunks/s, and a
100-page PDF end to end.

    .venv/bin/python bench/ingest.py            # --ocr-pages N (default 10) scanned pages at 150 dpi

End to end runs through the same services and worker pool as `make serve` (temporary DATA_DIR).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]


def main() -> None:
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="ingest-bench-")
    from ragcore.chunking import chunk_document
    from ragcore.parsing import parse_document

    from tests.unit.files_factory import lorem_pages, make_pdf

    pdf = make_pdf(lorem_pages(100))
    started = time.perf_counter()
    parsed = parse_document("bench.pdf", pdf)
    drafts = chunk_document(parsed, "naive", {"chunk_token_num": 512, "delimiter": "\n"}, filename="bench.pdf")
    parse_s = time.perf_counter() - started
    print(f"parse+chunk      : {parsed.pages} pages, {len(drafts)} chunks in {parse_s:.2f}s → {parsed.pages / parse_s:.0f} pages/s")
    ocr_bench(int(sys.argv[sys.argv.index("--ocr-pages") + 1]) if "--ocr-pages" in sys.argv else 10)

    from ragcore.adapters.local_embedder import LocalEmbedder

    embedder = LocalEmbedder()
    t0 = time.perf_counter()
    embedder.embed(["warm up"])
    load_s = time.perf_counter() - t0
    texts = [d.content for d in drafts]
    t0 = time.perf_counter()
    embedder.embed(texts)
    embed_s = time.perf_counter() - t0
    print(f"local embedding  : {len(texts)} chunks in {embed_s:.2f}s → {len(texts) / embed_s:.0f} chunks/s (model load {load_s:.2f}s)")

    from ragcore.services import registry

    from functions.local import start_background

    stop = start_background()
    try:
        tenant = registry.tenants().create_tenant("bench")
        registry.tenants().create_key(tenant)
        dataset = registry.datasets().create(tenant, {"name": "bench"})
        t0 = time.perf_counter()
        doc = registry.documents().create_from_bytes(tenant, dataset["id"], "bench.pdf", pdf)
        registry.documents().start_parse(tenant, dataset["id"], {"document_ids": [doc["id"]]})
        while True:
            current = registry.documents().get_any(tenant, doc["id"])
            if current["run"] in ("DONE", "FAIL", "CANCEL"):
                break
            time.sleep(0.05)
        total = time.perf_counter() - t0
        print(f"end to end       : 100-page PDF → {current['run']}, {current['chunk_count']} chunks in {total:.2f}s (goal ≤ 10 s)")
    finally:
        stop()


def ocr_bench(pages: int) -> None:
    """Scanned pages (text pages rendered, re-wrapped as an image-only PDF at 150 dpi): render + OCR + paragraphs,
    the models already loaded, and how much of the words came back."""
    from ragcore.parsing import parse_document
    from ragcore.parsing.ocr import local_engine

    from tests.unit.files_factory import lorem_pages
    from tests.unit.ocr_documents import scanned_pdf, word_recall

    if pages <= 0 or local_engine() is None:
        print("OCR              : skipped (rapidocr-onnxruntime is not installed)" if pages > 0 else "", end="")
        return
    source = lorem_pages(pages, seed=11)
    scan = scanned_pdf(source, 150)
    t0 = time.perf_counter()
    parse_document("warm.pdf", scanned_pdf(source[:1], 150))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    parsed = parse_document("scan.pdf", scan)
    ocr_s = time.perf_counter() - t0
    recall = word_recall(" ".join(line for page in source for line in page), " ".join(b.text for b in parsed.blocks))
    print(f"OCR (scanned PDF): {pages} pages at 150 dpi in {ocr_s:.2f}s → {pages / ocr_s:.2f} pages/s, "
          f"{recall:.1%} of the words (first page incl. model load {load_s:.2f}s)")


if __name__ == "__main__":
    main()
