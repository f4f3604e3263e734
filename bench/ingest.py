"""Ingestion speed: PDF parse+chunk pages/s (text layer; DeepDOC layout on one and two workers), OCR pages/s on
scanned PDFs, local embedding chunks/s, and a 100-page PDF end to end.

    .venv/bin/python bench/ingest.py            # --ocr-pages N (default 10) scanned pages at 150 dpi
    .venv/bin/python bench/ingest.py --small-docs 1000   # many one-chunk documents through the API (small_docs.py)

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


def layout(pdf: bytes) -> None:
    """layout_recognize "DeepDOC" on text PDFs: one worker, then two (the parse pool's threads, 12-page tasks)."""
    from concurrent.futures import ThreadPoolExecutor

    from ragcore.chunking import chunk_document
    from ragcore.parsing import parse_document

    from tests.unit.layout_pdfs import report_pages, table_page

    config = {"chunk_token_num": 512, "delimiter": "\n", "layout_recognize": "DeepDOC"}

    def run(name: str, data: bytes, start: int, end: int) -> int:
        parsed = parse_document(f"{name}.pdf", data, page_from=start, page_to=end, layout_recognize="DeepDOC")
        chunk_document(parsed, "naive", config, filename=name)
        return end - start

    t0 = time.perf_counter()
    run("warm.pdf", table_page()[0], 0, 1)
    print(f"layout model     : loaded and first page in {time.perf_counter() - t0:.2f}s")
    pages = 48
    report = report_pages(pages)[0]
    for label, data in (("prose", pdf), ("report", report)):
        t0, c0 = time.perf_counter(), time.process_time()
        run(label, data, 0, pages)
        one = pages / (time.perf_counter() - t0)
        cpu_ms = (time.process_time() - c0) * 1000 / pages  # what a page costs whatever else the machine runs
        t0 = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            starts = range(0, pages, 12)
            done = sum(pool.map(run, [label] * len(starts), [data] * len(starts), starts, [s + 12 for s in starts]))
        two = done / (time.perf_counter() - t0)
        print(f"DeepDOC {label:9s}: {pages} pages → {one:.1f} pages/s on one worker, {two:.1f} pages/s on two "
              f"(goal ≥ 5); {cpu_ms:.0f} ms CPU a page")


def main() -> None:
    if "--small-docs" in sys.argv:  # bench/small_docs.py: a server in its own process, documents/s vs the embedder
        sys.path.insert(0, str(ROOT / "bench"))
        import small_docs

        sys.argv = [sys.argv[0], "--docs", sys.argv[sys.argv.index("--small-docs") + 1]]
        small_docs.main()
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from machine import describe

    print(describe())
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
    layout(pdf)
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

    from ragcore import bootstrap
    from ragcore.bootstrap.local import start_background
    from ragcore.domain.datasets import CreateDataset
    from ragcore.domain.validation import parse_model

    stop = start_background()
    try:
        tenant = bootstrap.tenants().create_tenant("bench")
        bootstrap.tenants().create_key(tenant)
        for recognizer in ("Plain Text", "DeepDOC"):
            config = {"layout_recognize": recognizer}
            dataset = bootstrap.datasets().create(
                tenant, parse_model(CreateDataset, {"name": f"bench {recognizer}", "parser_config": config}), config)
            t0 = time.perf_counter()
            doc = bootstrap.documents().create_from_bytes(tenant, dataset["id"], "bench.pdf", pdf)
            bootstrap.document_parsing().start_parse(tenant, dataset["id"], {"document_ids": [doc["id"]]})
            while True:
                current = bootstrap.documents().get_any(tenant, doc["id"])
                if current["run"] in ("DONE", "FAIL", "CANCEL"):
                    break
                time.sleep(0.05)
            total = time.perf_counter() - t0
            goal = "goal ≤ 10 s" if recognizer == "Plain Text" else "layout model on every page"
            print(f"end to end       : 100-page PDF, {recognizer} → {current['run']}, {current['chunk_count']} chunks "
                  f"in {total:.2f}s ({goal})")
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
