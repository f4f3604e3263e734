"""OCR: page pictures → TextBoxes, and image files → paragraph blocks.

The engine is PaddleOCR's PP-OCRv4 (text detection, Chinese + English recognition, 180° orientation) as
`rapidocr-onnxruntime` ships it inside its wheel (Apache-2.0, ~16 MB of ONNX models) on onnxruntime: loaded once
per process on first use, nothing downloaded. Where the package is not installed (the AWS ingest function, whose
bundle has no room for it) an `OcrEngine` that calls the OCR function stands in (adapters/lambda_ocr.py).

    engine = local_engine()                   # None when rapidocr is not installed
    engine.recognize([PageImage(...)])        # per page: its TextBoxes (PDF points), or the reason it failed
    parse_image(data, engine)                 -> ParsedDocument (PNG, JPEG, TIFF pages, BMP, WEBP, GIF frame 1)
    blocks_of(boxes_by_page)                  -> paragraph Blocks with RAGFlow positions in meta["positions"]
"""

from __future__ import annotations

import base64
import io
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from ragcore.config import get_settings
from ragcore.parsing.regions import PageImage, paragraph_text, paragraphs, positions_of
from ragcore.parsing.types import Block, ParsedDocument, ParseError, TextBox

log = logging.getLogger("ragcore.parsing.ocr")

NO_OCR = "reading it needs OCR, and the OCR engine (rapidocr-onnxruntime) is not installed here."
MIN_CONFIDENCE = 0.5  # PaddleOCR's own drop_score: below it a "line" is mostly noise
MAX_IMAGE_PIXELS = 80_000_000  # a decompression bomb is refused, not decoded
MAX_IMAGE_PAGES = 200  # frames of a multi-page TIFF
# the detector's input, longest side (rapidocr would use up to 2000 px): on a 150-dpi page half the CPU of full size
# with ≥ 99 % of the words; at PaddleOCR's 960 the boxes get loose enough to cost words (measured: bench/ingest.py)
DET_MAX_SIDE = 1120
WORD_GAP = 0.16  # a blank run this many line heights wide separates two words (letters: ~0.05, words: ~0.25)
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}%")
_NO_SPACE_AFTER = frozenset("([{$")
OCR_MAX_SIDE = 2400  # pixels; larger pictures are shrunk before OCR (the detector works at ≤ 2000 anyway)

PageResult = list[TextBox] | str  # a page's boxes, or why it could not be read


class OcrEngine(Protocol):
    def recognize(self, pages: Sequence[PageImage]) -> list[PageResult]:
        """One result per page, in order; a page that fails is its reason, the others still count."""
        ...


# ---- the in-process engine ----------------------------------------------------------------------------------
_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()
# Pages read at once in this process (every document's pages together). Each page gets cores // workers threads:
# one thread a page on several pages beats several threads on one page (the element-wise ops and the line-by-line
# recognizer batches do not spread well), and a Lambda that reads one page a call sets OCR_WORKERS=1.
_WORKERS = max(1, get_settings().ocr_workers or os.cpu_count() or 1)
_SLOTS = threading.BoundedSemaphore(_WORKERS)


def ocr_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def _engine() -> Any:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from rapidocr_onnxruntime import RapidOCR

            started = time.perf_counter()
            engine = RapidOCR(print_verbose=False)
            _detect_at(engine.text_det, DET_MAX_SIDE)
            threads = max(1, (os.cpu_count() or 1) // _WORKERS)
            engine.text_det.infer.session = _simplified_session(engine.text_det.infer.session, threads)
            engine.text_rec.session.session = _simplified_session(engine.text_rec.session.session, threads)
            engine.text_rec.rec_batch_num = 1  # one line at a time: no padding to the batch's widest line (-6 %)
            engine.text_rec = _SpacedRecognizer(engine.text_rec)
            _ENGINE = engine
            log.info("OCR models loaded in %.2fs (%d pages at once, %d threads each)",
                     time.perf_counter() - started, _WORKERS, threads)
        return _ENGINE


def _detect_at(detector: Any, max_side: int) -> None:
    """The text detector on the page shrunk to `max_side` on its longest side, whatever the page's size:
    rapidocr would run it at full resolution up to 2000 px. The recognizer still reads each line from the
    full-resolution page."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    detector.get_preprocess = lambda longest: DetPreProcess(max_side, "max", detector.mean, detector.std)


def _simplified_session(session: Any, threads: int) -> Any:
    """The same model with its affine and hard-swish chains folded (onnx_fusion: exact, about half the CPU)."""
    from pathlib import Path

    import onnxruntime as ort

    from ragcore.parsing.onnx_fusion import simplify

    path = Path(session._model_path)
    model, counts = simplify(path.read_bytes())
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    log.debug("%s: %s", path.name, dict(counts))
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class _SpacedRecognizer:
    """PP-OCRv4's Chinese+English recognizer often runs English words together ("Topicdata"): it was trained
    mostly on Chinese, which has no spaces. This wraps rapidocr's recognizer (same model, same batching and
    normalisation) and puts a space between two Latin characters wherever the line's own pixels show a blank
    gap wider than a word space between the columns where CTC read them."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._characters = list(inner.postprocess_op.character)

    def __call__(self, crops: list[Any], return_word_box: bool = False) -> tuple[list[tuple[str, float]], float]:
        import numpy as np

        started = time.perf_counter()
        channels, height, width = self._inner.rec_image_shape[:3]
        order = np.argsort([c.shape[1] / float(c.shape[0]) for c in crops])
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        batch = self._inner.rec_batch_num
        for begin in range(0, len(crops), batch):
            members = [int(i) for i in order[begin:begin + batch]]
            ratio = max([width / height] + [crops[i].shape[1] / crops[i].shape[0] for i in members])
            tensor = np.concatenate([self._inner.resize_norm_img(crops[i], ratio)[np.newaxis, :] for i in members])
            preds = self._inner.session(tensor.astype(np.float32))[0]
            padded = int(height * ratio)  # every crop of the batch is padded to this width before the model
            for row, i in enumerate(members):
                h, w = crops[i].shape[:2]
                resized = min(padded, int(np.ceil(height * w / h)))
                out[i] = self._decode(preds[row], crops[i], (padded / preds.shape[1]) * (w / max(resized, 1)))
        return out, time.perf_counter() - started

    def _decode(self, pred: Any, crop: Any, px_per_column: float) -> tuple[str, float]:
        import numpy as np

        index = pred.argmax(axis=1)
        keep = np.ones(len(index), dtype=bool)
        keep[1:] = index[1:] != index[:-1]
        keep &= index != 0  # CTC blank
        columns = np.where(keep)[0]
        if not len(columns):
            return "", 0.0
        chars = [self._characters[int(k)] for k in index[columns]]
        gaps = _word_gaps(_blank_runs(crop), crop.shape[0],
                          [(k + 0.5) * px_per_column for k, c in zip(columns, chars, strict=True) if c == " "])
        # each word gap goes to the character boundary nearest its middle (CTC places a character near, not
        # exactly at, its glyph), and counts only between two Latin characters the model did not already space
        middles = [(column_l + column_r + 1) / 2 * px_per_column for column_l, column_r in zip(columns, columns[1:],
                                                                                               strict=False)]
        spaced = set()
        for a, b in gaps if middles else []:
            nearest = min(range(len(middles)), key=lambda i: abs(middles[i] - (a + b) / 2))
            left, right = chars[nearest], chars[nearest + 1]
            if left.isascii() and right.isascii() and left not in _NO_SPACE_AFTER and right not in _NO_SPACE_BEFORE \
                    and left.strip() and right.strip():
                spaced.add(nearest)
        text = "".join(c + (" " if i in spaced else "") for i, c in enumerate(chars))
        return " ".join(text.split()), float(pred.max(axis=1)[columns].mean())


def _word_gaps(runs: list[tuple[int, int]], height: int, model_spaces: list[float]) -> list[tuple[int, int]]:
    """The blank runs wide enough to be word spaces: at least WORD_GAP line heights, and where the model itself
    put spaces on this line (it does on sharp pictures), at least most of the narrowest of those — so a letter
    gap of a crisp line ("I|nvoice") is not taken for a word gap the model read right."""
    threshold = WORD_GAP * height
    spaced = [end - start for start, end in runs if any(start - 1 <= x <= end + 1 for x in model_spaces)]
    if spaced:
        threshold = max(threshold, 0.75 * min(spaced))
    return [(start, end) for start, end in runs if end - start >= threshold]


def _blank_runs(crop: Any) -> list[tuple[int, int]]:
    """Runs of ink-free pixel columns between glyphs of a line's crop, as (start, end)."""

    gray = crop.mean(axis=2) if crop.ndim == 3 else crop
    h = gray.shape[0]
    band = gray[int(h * 0.05): max(int(h * 0.95), int(h * 0.05) + 1)]
    low, high = float(band.min()), float(band.max())
    if high - low < 40:  # no contrast: nothing to measure
        return []
    ink = (band < (low + high) / 2).any(axis=0)
    runs = []
    start = None
    for x, has_ink in enumerate(ink):
        if not has_ink and start is None:
            start = x
        elif has_ink and start is not None:
            if start > 0:  # the margin before the first glyph is no gap between words
                runs.append((start, x))
            start = None
    return runs


def read_page(picture: PageImage) -> list[TextBox]:
    """The text lines OCR finds on one page picture, in PDF points of that page."""
    import numpy as np

    image = picture.image.convert("RGB")
    scale = picture.scale
    if max(image.size) > OCR_MAX_SIDE:
        shrink = OCR_MAX_SIDE / max(image.size)
        image = image.resize((max(1, int(image.width * shrink)), max(1, int(image.height * shrink))))
        scale *= shrink
    pixels = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])  # OpenCV's BGR
    with _SLOTS:
        # no line-orientation classifier: on clean pages it turns every other upright Latin line upside down
        # (measured: half the lines of a rendered page lost); scans are read upright, as RAGFlow's DeepDoc does
        result, _ = _engine()(pixels, use_cls=False)
    boxes: list[TextBox] = []
    for quad, text, score in result or []:
        text = str(text).strip()
        if not text or float(score) < MIN_CONFIDENCE:
            continue
        xs = [float(p[0]) for p in quad]
        ys = [float(p[1]) for p in quad]
        top, bottom = _ink_band(pixels, min(xs), min(ys), max(xs), max(ys))
        boxes.append(TextBox(text=text, page=picture.page, x0=min(xs) / scale, top=top / scale,
                             x1=max(xs) / scale, bottom=bottom / scale, confidence=round(float(score), 4)))
    return boxes


def _ink_band(pixels: Any, x0: float, top: float, x1: float, bottom: float) -> tuple[float, float]:
    """The line's own ink rows inside its detected box. The detector works on a shrunk page and pads each box,
    so box heights carry a few pixels of slack (which blur titles into body text) and can take in a neighbour
    line's descenders; the band of rows with the most ink is the line itself."""
    import numpy as np

    region = pixels[max(int(top), 0):int(np.ceil(bottom)), max(int(x0), 0):int(np.ceil(x1))].mean(axis=2)
    if region.size == 0 or float(region.max()) - float(region.min()) < 40:  # nothing to measure
        return top, bottom
    ink = (region < (float(region.min()) + float(region.max())) / 2).sum(axis=1)
    best, best_ink, start = None, 0, None
    for row, count in enumerate([*ink.tolist(), 0]):
        if count and start is None:
            start = row
        elif not count and start is not None:
            total = int(ink[start:row].sum())
            if total > best_ink:
                best, best_ink = (start, row), total
            start = None
    if best is None:
        return top, bottom
    origin = max(int(top), 0)
    return float(origin + best[0]), float(origin + best[1])


class LocalOcr:
    """OCR in this process (the local runtime, and the OCR Lambda itself)."""

    def recognize(self, pages: Sequence[PageImage]) -> list[PageResult]:
        if len(pages) <= 1 or _WORKERS == 1:
            return [self._one(p) for p in pages]
        with ThreadPoolExecutor(min(_WORKERS, len(pages)), thread_name_prefix="ocr") as pool:
            return list(pool.map(self._one, pages))

    @staticmethod
    def _one(picture: PageImage) -> PageResult:
        try:
            return read_page(picture)
        except Exception as exc:  # one unreadable page must not lose the others
            log.warning("OCR failed on page %d: %s", picture.page, exc)
            return f"OCR failed ({type(exc).__name__}: {exc})"


def local_engine() -> OcrEngine | None:
    return LocalOcr() if ocr_installed() else None


# ---- boxes → blocks -----------------------------------------------------------------------------------------
def blocks_of(boxes_by_page: Mapping[int, Sequence[TextBox]]) -> list[Block]:
    """Paragraph blocks in reading order, page by page; each carries its region as RAGFlow positions. A paragraph
    of one line set clearly larger than the page's body text is a title."""
    blocks: list[Block] = []
    for page in sorted(boxes_by_page):
        boxes = boxes_by_page[page]
        if not boxes:
            continue
        body = sorted(b.bottom - b.top for b in boxes)[len(boxes) // 2]
        for lines in paragraphs(boxes):
            text = paragraph_text(lines)
            if not text:
                continue
            flat = [b for line in lines for b in line]
            height = sorted(b.bottom - b.top for b in flat)[len(flat) // 2]
            title = len(lines) <= 2 and height > 1.35 * body and len(text) < 120
            blocks.append(Block(text=text, page=page, kind="title" if title else "text", level=1 if title else 0,
                                meta={"positions": positions_of(flat), "ocr": True}))
    return blocks


# ---- image files --------------------------------------------------------------------------------------------
def image_pages(data: bytes) -> list[PageImage]:
    """An image file's pictures: one page, or one per frame of a multi-page TIFF; a GIF's first frame only.
    Coordinates are the image's pixels (scale 1)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
        pages = []
        for index in range(min(frames, MAX_IMAGE_PAGES)):
            image.seek(index)
            frame = ImageOps.exif_transpose(image.copy()) or image.copy()  # phone photos: EXIF orientation
            pages.append(PageImage(page=index + 1, image=frame.convert("RGB"), scale=1.0))
        return pages
    except Image.DecompressionBombError:
        raise ParseError(f"The image is too large to read (over {MAX_IMAGE_PIXELS:,} pixels).") from None
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as exc:
        raise ParseError(f"The image file is corrupt or not an image ({type(exc).__name__}).") from None


def parse_image(data: bytes, engine: OcrEngine | None) -> ParsedDocument:
    """An image file → paragraph blocks by OCR; the pictures ride along for chunk images and vision models."""
    pictures = image_pages(data)
    if engine is None:
        raise ParseError(f"The file is an image; {NO_OCR}")
    results = engine.recognize(pictures)
    failed = {p.page: r for p, r in zip(pictures, results, strict=True) if isinstance(r, str)}
    if len(failed) == len(pictures):
        raise ParseError(f"OCR could not read the image: {next(iter(failed.values()))}")
    boxes = {p.page: r for p, r in zip(pictures, results, strict=True) if not isinstance(r, str)}
    meta: dict[str, Any] = {"ocr_pages": sorted(boxes), "page_errors": failed}
    return ParsedDocument(blocks=blocks_of(boxes), pages=len(pictures), meta=meta,
                          page_images={p.page: p for p in pictures})


# ---- the wire format between the ingest function and the OCR function ----------------------------------------
MAX_REQUEST_BYTES = 4_500_000  # a synchronous Lambda invoke carries at most 6 MB of JSON; base64 adds a third


def page_request(picture: PageImage) -> dict[str, Any]:
    """A page picture as JSON: PNG (lossless, small for text), JPEG when the PNG would not fit an invoke."""
    image = picture.image
    for fmt, options in (("PNG", {"optimize": False}), ("JPEG", {"quality": 85}), ("JPEG", {"quality": 70})):
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        if buffer.tell() * 4 // 3 <= MAX_REQUEST_BYTES:
            break
    else:  # a huge photo: halve it until it fits
        scale = picture.scale
        while buffer.tell() * 4 // 3 > MAX_REQUEST_BYTES and min(image.size) > 64:
            image = image.resize((image.width // 2, image.height // 2))
            scale /= 2
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=70)
        picture = PageImage(page=picture.page, image=image, scale=scale)
    return {"page": picture.page, "scale": picture.scale, "image": base64.b64encode(buffer.getvalue()).decode()}


def page_of_request(request: Mapping[str, Any]) -> PageImage:
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(str(request["image"]))))
    return PageImage(page=int(request["page"]), image=image.convert("RGB"), scale=float(request["scale"]))


def reply_of(result: PageResult) -> dict[str, Any]:
    if isinstance(result, str):
        return {"error": result}
    return {"boxes": [[b.text, round(b.x0, 2), round(b.top, 2), round(b.x1, 2), round(b.bottom, 2), b.confidence]
                      for b in result]}


def result_of_reply(page: int, reply: Mapping[str, Any]) -> PageResult:
    if "error" in reply:
        return str(reply["error"])
    return [TextBox(text=str(t), page=page, x0=float(x0), top=float(top), x1=float(x1), bottom=float(bottom),
                    confidence=float(c)) for t, x0, top, x1, bottom, c in reply["boxes"]]
