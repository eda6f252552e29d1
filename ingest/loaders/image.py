"""Images as documents (png, jpg/jpeg, tif/tiff, bmp, webp): their text recognised, each TIFF frame a page.

Owns: the only PIL import; the pixel limit (``PILOTQA_MAX_IMAGE_PIXELS``), checked on each frame's size from its
header before it is decoded, and Pillow's own guard against decompression bombs set to it when an image is
opened (Pillow refuses past twice it, and its warning between the two is silenced: our own check names the size;
the guard is never turned off); the page limit
(``PILOTQA_MAX_PAGES``) on a TIFF's or an animated WebP's frames, checked before any is read; turning the picture
upright as its camera recorded (EXIF orientation); refusing images when recognition is off and images in which
nothing was recognised. Does not own: recognition or its cache (``ingest.loaders.ocr``).
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ingest.loaders import Limits, Parsed
from ingest.loaders.ocr import Ocr
from kb.errors import InputError


def load(path: Path, data: bytes, limits: Limits, ocr: Ocr | None = None) -> Iterator[Parsed]:
    name = str(path)
    if ocr is None or not ocr.enabled:
        raise InputError(name, "图片需要文字识别才能导入，但文字识别已关闭（PILOTQA_OCR=off）：请开启后再导入")
    with _open(name, data, ocr.max_pixels) as picture:
        frames = int(getattr(picture, "n_frames", 1))
        if frames > limits.max_pages:
            raise InputError(name, f"图片页数过多（{frames} 帧，上限 {limits.max_pages} 页，可调 PILOTQA_MAX_PAGES）："
                                   "请拆分后再导入")  # fmt: skip
        _check(name, picture, ocr.max_pixels)

        turn = threading.Lock()  # frames are read side by side: one seek-and-decode of the one image at a time

        def render(number: int) -> np.ndarray:
            with turn:
                picture.seek(max(number - 1, 0))
                _check(name, picture, ocr.max_pixels)
                return np.asarray(_rgb(ImageOps.exif_transpose(picture)))[:, :, ::-1].copy()  # BGR, as read

        numbers = list(range(1, frames + 1)) if frames > 1 else [0]
        found = ocr.read(name, hashlib.sha256(data).hexdigest(), numbers, render, "image")
    blocks = [b for n in numbers for b in found.pages[n]]
    if sum(len(b.text) for b in blocks) < 2:
        raise InputError(name, "图片中没有识别出文字：请检查图片是否清晰、方向是否正确")
    yield Parsed(title="", blocks=blocks, notes=found.notes)


def _rgb(picture: Image.Image) -> Image.Image:
    """The picture in RGB, transparent parts white (not the black they would turn by dropping the alpha)."""
    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        return white.convert("RGB")
    return picture.convert("RGB")


def _open(name: str, data: bytes, max_pixels: int) -> Image.Image:
    """The picture, its header read; Pillow's guard at the configured limit (the setting is the process's, so every
    thread sets the same value) refuses a picture past twice it before our own check can name its size."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():  # between the limit and twice it: our own check names the size instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        problem = f"图片过大（超过上限 {max_pixels / 1e6:.0f} 百万像素的两倍，可调 PILOTQA_MAX_IMAGE_PIXELS）"
        raise InputError(name, problem + "：请缩小后再导入") from exc


def _check(name: str, picture: Image.Image, max_pixels: int) -> None:
    width, height = picture.size
    if width * height > max_pixels:
        raise InputError(
            name,
            f"图片过大（{width}×{height}，{width * height / 1e6:.0f} 百万像素，上限 {max_pixels / 1e6:.0f} 百万像素，"
            "可调 PILOTQA_MAX_IMAGE_PIXELS）：请缩小后再导入",
        )
