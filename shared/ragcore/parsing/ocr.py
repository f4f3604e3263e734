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
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ragcore.parsing.regions import PageImage, paragraph_text, paragraphs, positions_of
from ragcore.parsing.types import Block, ParsedDocument, ParseError, TextBox

log = logging.getLogger("ragcore.parsing.ocr")

NO_OCR = "reading it needs OCR, and the OCR engine (rapidocr-onnxruntime) is not installed here."
MIN_CONFIDENCE = 0.5  # PaddleOCR's own drop_score: below it a "line" is mostly noise
MAX_IMAGE_PIXELS = 80_000_000  # a decompression bomb is refused, not decoded
MAX_IMAGE_PAGES = 200  # frames of a multi-page TIFF
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
# One OCR at a time per process: onnxruntime already spreads one image over every core, and two at once on a
# 2-core machine only add memory and cache misses.
_RUN_LOCK = threading.Lock()


def ocr_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def _engine() -> Any:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from rapidocr_onnxruntime import RapidOCR

            started = time.perf_counter()
            # the detector at PaddleOCR's own default size (longest side 960) rather than rapidocr's (shortest side
            # ≥ 736): a third less time per page, and every line of 9-point text at 150 dpi is still found
            engine = RapidOCR(print_verbose=False, det_limit_side_len=960, det_limit_type="max")
            engine.text_rec = _SpacedRecognizer(engine.text_rec)
            _ENGINE = engine
            log.info("OCR models loaded in %.2fs", time.perf_counter() - started)
        return _ENGINE


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
        gaps = _blank_runs(crop)
        text = chars[0]
        for left, right, column_l, column_r in zip(chars, chars[1:], columns, columns[1:], strict=False):
            if left.isascii() and right.isascii() and left not in _NO_SPACE_AFTER and right not in _NO_SPACE_BEFORE \
                    and left.strip() and right.strip() and any(
                    column_l * px_per_column < (a + b) / 2 < (column_r + 1) * px_per_column for a, b in gaps):
                text += " "
            text += right
        return " ".join(text.split()), float(pred.max(axis=1)[columns].mean())


def _blank_runs(crop: Any) -> list[tuple[int, int]]:
    """Runs of ink-free pixel columns wider than a word space (~0.3 em) in a line's crop, as (start, end)."""

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
            if x - start >= WORD_GAP * h:
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
    with _RUN_LOCK:
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
        boxes.append(TextBox(text=text, page=picture.page, x0=min(xs) / scale, top=min(ys) / scale,
                             x1=max(xs) / scale, bottom=max(ys) / scale, confidence=round(float(score), 4)))
    return boxes


class LocalOcr:
    """OCR in this process (the local runtime, and the OCR Lambda itself)."""

    def recognize(self, pages: Sequence[PageImage]) -> list[PageResult]:
        out: list[PageResult] = []
        for picture in pages:
            try:
                out.append(read_page(picture))
            except Exception as exc:  # one unreadable page must not lose the others
                log.warning("OCR failed on page %d: %s", picture.page, exc)
                out.append(f"OCR failed ({type(exc).__name__}: {exc})")
        return out


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
