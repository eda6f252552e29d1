"""Text recognition (OCR) with RapidOCR's bundled PP-OCR ONNX models (Chinese and Latin detection, direction and
recognition weights ship inside the ``rapidocr`` wheel and run on ONNX Runtime: nothing is downloaded).

Owns: the only rapidocr import, the process's one engine (``shared()``: loaded once, lazily and quietly, and called
by one thread at a time, as RapidOCR does not promise more), and turning an image into
``TextBox`` records: each detected line's text, its confidence and its four corners. Does not own: decoding image
files or rendering PDF pages (``ingest.loaders.image``, ``ingest.loaders.pdf_render``), putting boxes in reading
order (``ingest.loaders.ocr_layout``) or caching results (``ingest.loaders.ocr``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DET_SIDE = 960  # detection runs on the image scaled to this longest side: an A4 page at 150 dpi is ~0.55 of it
MIN_SCORE = 0.3  # lines recognised below this confidence are dropped by the engine (kept ones are scored)


def engine_id() -> str:
    """What produced a recognition (part of a cache key): the package's version and our settings of it."""
    return f"rapidocr-{version('rapidocr')}-det{DET_SIDE}-s{MIN_SCORE}"


@dataclass(frozen=True)
class TextBox:
    """One detected line of text: ``quad`` is its corners (x, y) in pixels, clockwise from the top left."""

    text: str
    score: float
    quad: tuple[tuple[float, float], ...]


class Recognizer:
    """The OCR engine, loaded on first use and shared by the threads that call it (one image at a time)."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR

                self._engine = RapidOCR(
                    params={
                        "Global.log_level": "error",
                        "Global.text_score": MIN_SCORE,
                        "Det.limit_type": "max",
                        "Det.limit_side_len": DET_SIDE,
                    }
                )
                logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    def read(self, image: np.ndarray) -> list[TextBox]:
        """The lines of text in ``image`` (height x width x 3, BGR, uint8; or height x width grey)."""
        self.load()
        with self._lock:
            out = self._engine(image)
        if out.boxes is None or out.txts is None or out.scores is None:
            return []
        return [
            TextBox(str(text), float(score), tuple((float(x), float(y)) for x, y in box))
            for box, text, score in zip(out.boxes.tolist(), out.txts, out.scores, strict=True)
            if str(text).strip()
        ]


_SHARED = Recognizer()  # the engine itself loads on first use


def shared() -> Recognizer:
    """The process's one engine: every reader of scanned pages uses it (an engine costs ~1 s and its memory)."""
    return _SHARED
