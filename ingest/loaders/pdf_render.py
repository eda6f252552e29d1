"""PDF pages as images, for recognition: the only pypdfium2 import.

Owns: opening a PDF with PDFium, telling whether a page holds an image (a scan is one), and rendering one page at
a resolution, lowered for a page so large that it would pass the pixel limit at that resolution (a page's size is
read before it is rendered; ``how`` names the scale a page renders at, for the recognition cache). PDFium is not
thread-safe, not even on different documents: every call into it, opening and closing included, holds one lock
for the process. Does not own: the text layer (``ingest.loaders.pdf``) or recognition (``ingest.loaders.ocr``).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from types import TracebackType

import numpy as np
import pypdfium2 as pdfium

_LOCK = threading.Lock()  # one PDFium call at a time in this process, whatever the document


class Pages:
    """An open PDF whose pages render to BGR images; use as a context manager."""

    def __init__(self, data: bytes, dpi: int = 150, max_pixels: int = 50_000_000) -> None:
        with _LOCK:
            self._pdf = pdfium.PdfDocument(data)
        self.dpi = dpi
        self.max_pixels = max_pixels

    def __enter__(self) -> Pages:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        with _LOCK:
            self._pdf.close()

    @contextlib.contextmanager
    def _page(self, number: int) -> Iterator[pdfium.PdfPage]:
        """Page ``number`` (1-based), open while the process's PDFium lock is held."""
        with _LOCK:
            page = self._pdf[number - 1]
            try:
                yield page
            finally:
                page.close()

    def has_images(self, number: int) -> bool:
        """Whether page ``number`` draws an image (inline, or in a form it uses)."""
        with self._page(number) as page:
            return any(True for _ in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]))

    def how(self, number: int) -> str:
        """How page ``number`` renders (its scale: the resolution, lowered for a page over the pixel limit)."""
        with self._page(number) as page:
            return f"pdf-x{self._scale(page):.6f}"

    def render(self, number: int) -> np.ndarray:
        """Page ``number`` as a height x width x 3 BGR image."""
        with self._page(number) as page:
            bitmap = page.render(scale=self._scale(page))
            try:
                image = np.array(bitmap.to_numpy(), copy=True)
            finally:
                bitmap.close()
        return image[:, :, :3] if image.ndim == 3 else image

    def _scale(self, page: pdfium.PdfPage) -> float:
        """The resolution asked for, or the largest at which the page (rendered a whole pixel up on each side, as
        PDFium renders it) stays within the pixel limit."""
        width, height = page.get_size()  # points

        def pixels(scale: float) -> int:
            return math.ceil(width * scale) * math.ceil(height * scale)

        scale = self.dpi / 72
        if pixels(scale) > self.max_pixels:
            scale = math.sqrt(self.max_pixels / max(width * height, 1.0))
            while pixels(scale) > self.max_pixels and scale > 1e-3:
                scale *= 0.999
        return scale
