"""Scanned pages and images to blocks: recognised through ``models.ocr``, cached by content, checked per page.

Owns: the ``Ocr`` options an entry point builds from the settings (on/off, render resolution, confidence floor,
pixel limit, the cache folder ``$PILOTQA_HOME/ocr``, the per-page progress callback and the engines: a file's
pages read side by side, one single-threaded engine each, when there are two or more to read); the
cache of recognised lines, keyed by the file's sha256, the page, how it was rendered and the engine, so that
reading an unchanged file again recognises nothing; each page's confidence against the floor
(``models.ocr.confidence``: the mean of its lines' scores, weighted by their length); and the notes that name the
pages read with low confidence or with no text (the file's result line shows them; their text, if any, is kept).
Blocks it makes carry ``ocr=True``. Does not own: decoding images (``ingest.loaders.image``), rendering PDF pages
(``ingest.loaders.pdf_render``), reading order (``ingest.loaders.ocr_layout``) or the engine (``models.ocr``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.loaders import ocr_layout
from kb import disk
from kb.errors import PilotQAError
from kb.records import Block
from kb.settings import Settings
from models.ocr import Recognizer, TextBox, confidence, engine_id, shared, side_by_side

log = logging.getLogger(__name__)

PageProgress = Callable[[str, int, int], None]  # (file, the page being read: 1.., how many pages are read)
Render = Callable[[int], np.ndarray]  # page number -> the page as an image (BGR or grey); 0: an image without pages
How = str | Callable[[int], str]  # how pages are made (part of the cache key): one for all, or page number -> its own


@dataclass(frozen=True)
class Recognised:
    """What recognition made of a file's pages: blocks per page number, and the notes a user should read."""

    pages: dict[int, list[Block]]
    notes: tuple[str, ...] = ()


@dataclass
class Ocr:
    """How scanned pages and images are read; one per ingest run, all sharing the process's engines (loaded on
    the first page) unless given a ``recognizer`` of their own."""

    enabled: bool = True
    dpi: int = 150
    min_confidence: float = 0.8
    max_pixels: int = 50_000_000
    cache: Path | None = None  # None: nothing is cached
    on_page: PageProgress | None = None
    recognizer: Recognizer = field(default_factory=shared)  # the process's engine for one page at a time
    engines: Sequence[Recognizer] = ()  # engines that read a file's pages at once (a page each), when two or more

    @classmethod
    def of(cls, settings: Settings, on_page: PageProgress | None = None) -> Ocr:
        return cls(settings.ocr, settings.ocr_dpi, settings.ocr_min_confidence, settings.max_image_pixels,
                   cache_folder(settings), on_page, shared(settings.ocr_threads),
                   side_by_side(settings.ocr_threads))  # fmt: skip

    def read(self, name: str, digest: str, numbers: Sequence[int], render: Render, how: How) -> Recognised:
        """Recognise pages ``numbers`` of the file ``name`` (whose bytes hash to ``digest``), each made by
        ``render`` only when the cache does not hold it; ``how`` says how pages are made (part of the key: the
        same for every page, or each page's own, such as the scale a PDF page renders at)."""
        pages: dict[int, list[Block]] = {}
        low: list[tuple[int, float]] = []
        empty: list[int] = []
        for number, boxes in self._all_boxes(name, digest, numbers, render, how):
            pages[number] = [
                Block(text, kind="heading" if title else "paragraph", level=int(title), page=number or None, ocr=True)
                for text, title in ocr_layout.paragraphs(boxes)
            ]
            score = confidence(boxes)
            if not pages[number]:
                empty.append(number)
            elif score < self.min_confidence:
                low.append((number, score))
        return Recognised(pages, notes(low, empty))

    def _all_boxes(self, name: str, digest: str, numbers: Sequence[int], render: Render,
                   how: How) -> Iterator[tuple[int, list[TextBox]]]:  # fmt: skip
        """Each page's lines, in page order: from the cache, else recognised (side by side when there are engines
        for it and two or more pages to read); progress is told here, on the caller's thread, page by page."""
        paths = {n: self._path(digest, n, how) for n in numbers}
        found = {n: boxes for n in numbers if (boxes := _cached(paths[n])) is not None}
        todo = [n for n in numbers if n not in found]
        engines = list(self.engines) if len(self.engines) > 1 and len(todo) > 1 else [self.recognizer]
        free: queue.SimpleQueue[Recognizer] = queue.SimpleQueue()
        for engine in engines:
            free.put(engine)
        pool = ThreadPoolExecutor(len(engines), thread_name_prefix="pilotqa-ocr")
        try:
            futures = {n: pool.submit(self._recognise, free, n, render, paths[n]) for n in todo}
            for i, n in enumerate(numbers, start=1):
                if self.on_page:
                    self.on_page(name, i, len(numbers))
                yield n, found[n] if n in found else futures[n].result()
        finally:  # stopped early (an error, an interrupt): pages not begun are not read
            pool.shutdown(wait=True, cancel_futures=True)

    def _path(self, digest: str, number: int, how: How) -> Path | None:
        made = how if isinstance(how, str) else how(number)
        key = hashlib.sha256(f"{digest}\x00{number}\x00{made}\x00{engine_id()}".encode()).hexdigest()
        return self.cache / key[:2] / f"{key}.json" if self.cache else None

    @staticmethod
    def _recognise(free: queue.SimpleQueue[Recognizer], number: int, render: Render,
                   path: Path | None) -> list[TextBox]:  # fmt: skip
        engine = free.get()
        try:
            started = time.perf_counter()
            boxes = engine.read(render(number))
        finally:
            free.put(engine)
        log.info("page %s recognised in %.2f s (%d lines)", number, time.perf_counter() - started, len(boxes))
        if path is not None:
            _write(path, json.dumps([[b.text, b.score, b.quad] for b in boxes], ensure_ascii=False))
        return boxes


def cache_folder(settings: Settings) -> Path:
    """Where recognised pages are cached: shared by every knowledge base of the data directory."""
    return settings.home / "ocr"


def _cached(path: Path | None) -> list[TextBox] | None:
    """A page's lines from its cache entry, or None (none, or damaged: read again)."""
    if path is None or not path.is_file():
        return None
    try:
        return [TextBox(t, s, tuple((x, y) for x, y in q)) for t, s, q in json.loads(path.read_text("utf-8"))]
    except (OSError, ValueError, TypeError) as exc:
        log.warning("OCR cache entry %s unreadable (%s): recognising again", path, exc)
        return None


def notes(low: Sequence[tuple[int, float]], empty: Sequence[int]) -> tuple[str, ...]:
    """What to tell the user about pages read badly (0 stands for a whole image without pages)."""

    def where(numbers: Sequence[int]) -> str:
        return "" if numbers == [0] else "第 " + "、".join(str(n) for n in numbers) + " 页"

    out = []
    if low:
        worst = min(s for _, s in low)
        out.append(f"{where([n for n, _ in low])}文字识别可信度低（最低 {worst:.2f}），引用前请对照原件核对")
    if empty:
        out.append(f"{where(list(empty))}未识别出文字")
    return tuple(out)


def _write(path: Path, text: str) -> None:
    """Write a cache entry whole or not at all (``kb.disk``: a killed ingest leaves no half entry, a failed write no
    temporary file; one a killed ingest left is removed within the hour); a cache that cannot be written costs only
    the time to recognise again."""
    try:
        disk.sweep(path.parent, (disk.TMP_PREFIX + "*", "*.tmp"), older_than_s=3600)
        disk.write_bytes(path, text.encode("utf-8"))
    except (OSError, PilotQAError) as exc:
        log.warning("OCR cache %s not written: %s", path, exc)
