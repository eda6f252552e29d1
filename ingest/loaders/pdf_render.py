"""PDF pages as images, for recognition: the only pypdfium2 import.

Owns: opening a PDF with PDFium and rendering one page at a resolution, lowered for a page so large that it would
pass the pixel limit at that resolution (a page's size is read before it is rendered). Does not own: the text
layer (``ingest.loaders.pdf``) or recognition (``ingest.loaders.ocr``).
"""

from __future__ import annotations

import math
from types import TracebackType

import numpy as np
import pypdfium2 as pdfium


class Pages:
    """An open PDF whose pages render to BGR images; use as a context manager."""

    def __init__(self, data: bytes, dpi: int, max_pixels: int) -> None:
        self._pdf = pdfium.PdfDocument(data)
        self.dpi = dpi
        self.max_pixels = max_pixels

    def __enter__(self) -> Pages:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._pdf.close()

    def render(self, number: int) -> np.ndarray:
        """Page ``number`` (1-based) as a height x width x 3 BGR image."""
        page = self._pdf[number - 1]
        try:
            width, height = page.get_size()  # points
            scale = self.dpi / 72
            if width * height * scale * scale > self.max_pixels:
                scale = math.sqrt(self.max_pixels / max(width * height, 1.0))
            bitmap = page.render(scale=scale)
            try:
                image = np.array(bitmap.to_numpy(), copy=True)
            finally:
                bitmap.close()
        finally:
            page.close()
        return image[:, :, :3] if image.ndim == 3 else image
