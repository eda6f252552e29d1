"""Text recognition (OCR) with RapidOCR's bundled PP-OCR ONNX models (Chinese and Latin detection and recognition
weights ship inside the ``rapidocr`` wheel and run on ONNX Runtime: nothing is downloaded).

Owns: the only rapidocr import, the process's engines (``shared()``: one per thread setting for a page alone;
``side_by_side()``: single-threaded ones, one per core up to ``MAX_SIDE_BY_SIDE``, for a file's pages at once; each
loaded once, lazily and quietly, and called by one thread at a time, as RapidOCR does not promise more) with the
settings that make it
fast on a CPU (below), and turning an image into ``TextBox`` records: each detected line's text, its confidence
and its four corners. A page read with low confidence is read again turned upside down, and the better reading is
kept (a sheet fed into the scanner the wrong way round). Does not own: decoding image files or rendering PDF pages
(``ingest.loaders.image``, ``ingest.loaders.pdf_render``), putting boxes in reading order and undoing a slight tilt
(``ingest.loaders.ocr_layout``) or caching results (``ingest.loaders.ocr``).

Speed (bench/ocr.py; a dense A4 page at 150 dpi, about 1,270 characters, in about 38 lines): recognition is nearly
all of it, about 55 µs of CPU per column of a line scaled to 48 pixels high, so it grows with the characters on a
page. The engine runs: the detector from a copy of its file without subnormal weights (see
``models.onnx_encoder.without_subnormals``: 0.52 s -> 0.18 s a page); lines one at a time (batches of six pad
and spill the caches: about a third slower); no per-line direction classifier (it turned some upright lines over
and so lowered accuracy; whole pages upside down are handled as said above); detected boxes widened more than
RapidOCR's default (``UNCLIP``), which puts the text at the height the recogniser reads best and makes lines
narrower once scaled, hence faster: CPU per page and characters read right, at 38 and 26-27 px line pitch for 22 px
text, were 3.05 s / 0.9968 and 2.62 s / 0.9986 at 2.0; 2.65 s / 0.9978 and 2.35 s / 0.9985 at 2.4; 2.33 s / 0.9992
and 2.14 s / 0.9984 at 2.8 (2.4 chosen: a margin before neighbouring lines of tighter print meet).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DET_SIDE = 960  # detection runs on the image scaled to this longest side: an A4 page at 150 dpi is ~0.55 of it
DET_MODEL = "PP-OCRv6_det_small.onnx"  # the detector bundled in rapidocr 3.10's wheel (RapidOCR's default)
UNCLIP = 2.4  # how far a detected text region is widened into its box (RapidOCR's default is 1.6)
MIN_SCORE = 0.3  # lines recognised below this confidence are dropped by the engine (kept ones are scored)
MAX_SIDE_BY_SIDE = 8  # engines reading pages at once, whatever the cores (each ~30 MB, and a page image held)
UPRIGHT = 0.8  # a page read below this confidence is read again turned upside down (upright pages read ~0.99)


def engine_id() -> str:
    """What produced a recognition (part of a cache key): the package's version and our settings of it."""
    return f"rapidocr-{version('rapidocr')}-det{DET_SIDE}-u{UNCLIP}-s{MIN_SCORE}-nocls-up{UPRIGHT}"


@dataclass(frozen=True)
class TextBox:
    """One detected line of text: ``quad`` is its corners (x, y) in pixels, clockwise from the top left, in the
    image as it was read (turned upside down when the page was read that way)."""

    text: str
    score: float
    quad: tuple[tuple[float, float], ...]


def confidence(boxes: Sequence[TextBox]) -> float:
    """The mean score of a page's lines, each weighted by its length (1.0 for a page with none)."""
    total = sum(len(b.text) for b in boxes)
    return sum(b.score * len(b.text) for b in boxes) / total if total else 1.0


class Recognizer:
    """The OCR engine, loaded on first use and shared by the threads that call it; ``threads``: how many CPU threads
    it runs a page on (0: one per core)."""

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads
        self._engine: Any = None
        self._models: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR

                from models.onnx_encoder import without_subnormals

                self._models = tempfile.TemporaryDirectory(prefix="pilotqa-ocr-")
                detector = Path(self._models.name) / DET_MODEL
                with resources.as_file(resources.files("rapidocr") / "models" / DET_MODEL) as bundled:
                    flushed = without_subnormals(bundled, detector)
                log.debug("OCR detector: %d subnormal weights set to zero", flushed)
                self._engine = RapidOCR(
                    params={
                        "Global.log_level": "error",
                        "Global.text_score": MIN_SCORE,
                        "Global.use_cls": False,
                        "Det.model_path": str(detector),
                        "Det.limit_type": "max",
                        "Det.limit_side_len": DET_SIDE,
                        "Det.unclip_ratio": UNCLIP,
                        "Rec.rec_batch_num": 1,
                        "EngineConfig.onnxruntime.intra_op_num_threads": self.threads or -1,
                    }
                )
                logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    def read(self, image: np.ndarray) -> list[TextBox]:
        """The lines of text in ``image`` (height x width x 3, BGR, uint8; or height x width grey)."""
        self.load()
        boxes = self._read(image)
        if boxes and confidence(boxes) < UPRIGHT:
            turned = self._read(np.ascontiguousarray(image[::-1, ::-1]))
            if turned and confidence(turned) > confidence(boxes):
                log.info("page read upside down (confidence %.2f, upright %.2f)", confidence(turned),
                         confidence(boxes))  # fmt: skip
                return turned
        return boxes

    def _read(self, image: np.ndarray) -> list[TextBox]:
        with self._lock:
            out = self._engine(image)
        if out.boxes is None or out.txts is None or out.scores is None:
            return []
        return [
            TextBox(str(text), float(score), tuple((float(x), float(y)) for x, y in box))
            for box, text, score in zip(out.boxes.tolist(), out.txts, out.scores, strict=True)
            if str(text).strip()
        ]


_SHARED: dict[int, Recognizer] = {}  # by thread setting; each engine itself loads on first use
_SINGLES: list[Recognizer] = []  # single-threaded engines that read pages side by side
_SHARED_LOCK = threading.Lock()


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def side_by_side(threads: int) -> list[Recognizer]:
    """Engines of one thread each, one per thread of ``threads`` (0: one per core), that read a file's pages side by
    side: a page's work does not split well over threads (those waiting spin), while pages are independent."""
    wanted = min(threads or cores(), MAX_SIDE_BY_SIDE)
    with _SHARED_LOCK:
        while len(_SINGLES) < wanted:
            _SINGLES.append(Recognizer(1))
        return _SINGLES[:wanted]


def shared(threads: int = 0) -> Recognizer:
    """The process's engine for ``threads``: every reader of scanned pages uses it (an engine costs ~1 s and its
    memory)."""
    with _SHARED_LOCK:
        return _SHARED.setdefault(threads, Recognizer(threads))
