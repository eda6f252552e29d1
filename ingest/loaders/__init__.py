"""Format loaders: bytes on disk to titled lists of blocks.

Owns: choosing the loader by extension, the size and emptiness checks every file
gets, the characters a file may expand to when its format is not text on disk
(``Limits.max_chars``, checked before any of its documents is yielded), the ``Parsed``
record loaders yield and the ``Limits`` a format's loader enforces. Each format's
library lives in its own module here. A loader only raises ``InputError``: for a file
it cannot read at all, before yielding anything; for a many-record file (jsonl), once
at the end, naming every bad record, after the good ones. Whatever else a format's
library raises on a damaged file becomes that file's ``InputError`` here. Turning
errors into per-file results is the pipeline's job alone. Does not own: cleaning, headings in plain text, chunking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import InputError
from kb.records import Block
from kb.settings import Settings

if TYPE_CHECKING:
    from ingest.loaders.ocr import Ocr

log = logging.getLogger(__name__)
# what a user is told can be imported
TYPES = "txt、md、html、pdf、docx、doc、wps、ofd、jsonl，扫描件和图片 png、jpg、tif、bmp、webp"

IMAGES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")  # read by text recognition (OCR)
SUPPORTED = (
    ".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl", ".ofd", ".doc", ".wps", *IMAGES,
)  # fmt: skip
TEXT_ON_DISK = (".txt", ".md", ".markdown", ".jsonl")  # what these yield is what the disk holds: no max_chars


@dataclass(frozen=True)
class Parsed:
    """One document as a loader sees it."""

    title: str
    blocks: list[Block]
    date: str | None = None
    record: str | None = None  # a jsonl record's own id, which becomes its document id
    structured: bool = False  # True when blocks already carry their headings (html, docx)
    notes: tuple[str, ...] = ()  # what a user should know of a document read whole (pages recognised badly)


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class Limits:
    """How much a file may expand to or nest before its loader refuses it (the settings of the same names)."""

    max_docx_expanded_mb: float = _default("max_docx_expanded_mb")
    max_html_mb: float = _default("max_html_mb")
    max_html_depth: int = _default("max_html_depth")
    max_chars: int = _default("max_chars")
    max_pages: int = _default("max_pages")
    max_table_depth: int = _default("max_table_depth")
    max_convert_s: float = _default("max_convert_s")

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


Loader = Callable[[Path, bytes], Iterator[Parsed]]


def _loader(suffix: str, limits: Limits, ocr: Ocr | None) -> Loader:
    from ingest.loaders import docx, html, image, jsonl, ofd, office, pdf, text

    plain: dict[str, Loader] = {".txt": text.load, ".md": text.load, ".markdown": text.load, ".jsonl": jsonl.load}
    limited = {".html": html, ".htm": html, ".docx": docx, ".ofd": ofd, ".doc": office, ".wps": office}
    if suffix in plain:
        return plain[suffix]
    if suffix in limited:
        return partial(limited[suffix].load, limits=limits)
    if suffix == ".pdf":
        return partial(pdf.load, limits=limits, ocr=ocr)
    return partial(image.load, limits=limits, ocr=ocr)


def unsupported(suffix: str) -> str:
    """Why a file of this type cannot be imported, and what to do instead."""
    return f"不支持的文件类型“{suffix or '无扩展名'}”（支持 {TYPES}）"


def load(path: Path, max_bytes: int, limits: Limits = Limits(), ocr: Ocr | None = None) -> Iterator[Parsed]:
    """Parse ``path``; a problem is raised as ``InputError`` (see the module docstring for when). ``ocr`` reads
    scanned PDF pages and images (None: they are refused, as with ``PILOTQA_OCR=off``)."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(name, unsupported(suffix))
    try:
        size = path.stat().st_size
        if size == 0:
            raise InputError(name, "文件为空")
        if size > max_bytes:
            raise InputError(
                name, f"文件过大（{size / 1e6:.1f} MB，上限 {max_bytes / 1e6:.0f} MB，可调 PILOTQA_MAX_FILE_MB）"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(name, f"无法读取文件：{exc.strerror or exc}") from exc
    try:
        if suffix in TEXT_ON_DISK:
            yield from _loader(suffix, limits, ocr)(path, data)
        else:
            yield from _within(name, list(_loader(suffix, limits, ocr)(path, data)), limits.max_chars)
    except InputError:
        raise
    except Exception as exc:  # a library's own failure on a damaged file is that file's failure, never the batch's
        log.debug("%s: %s", name, exc, exc_info=True)
        raise InputError(name, damaged(exc)) from exc


def _within(name: str, items: list[Parsed], max_chars: int) -> list[Parsed]:
    """``items`` when their text is at most ``max_chars`` characters, else the file's error saying the limit."""
    chars = sum(len(b.text) for p in items for b in p.blocks)
    if chars > max_chars:
        raise InputError(name, f"文件展开后文字过多（{chars} 字，上限 {max_chars} 字，可调 PILOTQA_MAX_CHARS）")
    return items


def damaged(exc: BaseException) -> str:
    """What to tell the user about a file its format's library failed on (the error's type helps a bug report)."""
    return f"文件已损坏或格式异常，无法解析（{type(exc).__name__}）：请用能打开它的程序检查，或另存后重试"
