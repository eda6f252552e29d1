"""PDF: the text layer page by page, page numbers kept; a page with a ruled table read with its rows
(``ingest.loaders.pdf_tables``); a scanned page rendered (``ingest.loaders.pdf_render``) and recognised
(``ingest.loaders.ocr``).

Owns: the only pypdf import; which pages need recognition: those without a usable text layer that hold an image
(a scan, perhaps under a page number or a stamp), and those whose text is mostly not characters a reader can use (a
broken font map); a short readable text layer ("附件1") is kept as it is and a blank page gives nothing. Refusing
encrypted, corrupt (whatever pypdf raises: an unknown filter, a map over its limits) files, those of more than
``Limits.max_pages`` pages (before any page is read) and files that yield no text (a scan with recognition off, a
message that says so), each with a message that says which. Does not own: recognition itself.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path

from pypdf import PageObject, PdfReader

from ingest.loaders import Limits, Parsed, pdf_render, pdf_tables
from ingest.loaders.ocr import Ocr, Recognised
from kb.errors import InputError
from kb.records import Block

logging.getLogger("pypdf").setLevel(logging.ERROR)
MAX_TABLE_PAGES = 300  # pages searched for ruled tables (pdfplumber reads about 10 pages a second here)
MIN_PAGE_CHARS = 10  # a page with fewer (a page number, a stamp) over an image is recognised; without one, kept
MIN_READABLE = 0.7  # a page whose text has a smaller share of readable characters is garbage (a broken font map)


def readable(ch: str) -> bool:
    """A character a reader can use: CJK ideographs (Kangxi and compatibility forms too, mapped at load), kana,
    hangul, CJK and full-width punctuation, printable ASCII, general punctuation."""
    o = ord(ch)
    return (
        0x20 <= o < 0x7F or 0x2000 <= o <= 0x206F or 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x3FFFF
    )  # fmt: skip


def usable(text: str) -> bool:
    """Whether a page's text layer is worth reading: enough characters, most of them readable."""
    chars = [c for c in text if not c.isspace()]
    return len(chars) >= MIN_PAGE_CHARS and not garbage(text)


def garbage(text: str) -> bool:
    """Whether a page's text is mostly characters a reader cannot use (a font whose map to Unicode is broken)."""
    chars = [c for c in text if not c.isspace()]
    return len(chars) >= MIN_PAGE_CHARS and sum(map(readable, chars)) < MIN_READABLE * len(chars)


def load(path: Path, data: bytes, limits: Limits, ocr: Ocr | None = None) -> Iterator[Parsed]:
    name = str(path)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError(name, "PDF 已加密，请先去除密码保护后再导入")
        if len(reader.pages) > limits.max_pages:
            raise InputError(name, f"PDF 页数过多（{len(reader.pages)} 页，上限 {limits.max_pages} 页，"
                                   "可调 PILOTQA_MAX_PAGES）")  # fmt: skip
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.get("/Title") or "").strip() if reader.metadata else ""
    except InputError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (NotImplementedError, LimitReachedError …)
        raise InputError(name, "PDF 文件已损坏或无法解析：请用 PDF 阅读器打开检查，或另存后重试") from exc
    on = ocr is not None and ocr.enabled
    scanned, found = _recognise(name, data, pages, ocr) if ocr is not None and on else ([], Recognised({}))
    with_tables = pdf_tables.pages_with_tables(data, MAX_TABLE_PAGES, lambda n: _runs(reader.pages[n - 1]))
    blocks = [
        block
        for number, text in enumerate(pages, start=1)
        for block in (
            found.pages[number]
            if number in found.pages
            else with_tables.get(number) or [Block(line.strip(), page=number) for line in text.split("\n")]
        )
        if block.text.strip()
    ]
    if sum(len(b.text) for b in blocks) < 10:
        if scanned:
            raise InputError(name, "扫描版 PDF，文字识别（OCR）没有识别出文字：请检查扫描件是否清晰、方向是否正确")
        if not on and _to_recognise(data, pages):
            raise InputError(name, "扫描版 PDF，没有文字层，无法提取文字：文字识别（OCR）已关闭，请开启"
                             "（PILOTQA_OCR=on）或先做文字识别再导入")  # fmt: skip
        raise InputError(name, "PDF 中没有可提取的文字（没有文字层，也没有扫描的页面）：请用 PDF 阅读器打开检查")
    yield Parsed(title=title, blocks=blocks, notes=found.notes)


def _runs(page: PageObject) -> list[pdf_tables.Run]:
    """The page's text pieces where they stand (start x, baseline from the top), as pypdf reads them."""
    height = float(page.mediabox.height)
    out: list[pdf_tables.Run] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, _size: object) -> None:
        if text.strip(" \x00\n"):  # a font map may write NUL between characters (removed at load)
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            out.append((x, height - y, text.replace("\x00", "")))

    try:
        page.extract_text(visitor_text=visit)
    except Exception:  # pypdf raises many types on damaged pages; the page's plain text stands
        return []
    return out


def _recognise(name: str, data: bytes, pages: list[str], ocr: Ocr) -> tuple[list[int], Recognised]:
    """The pages that need recognition and what it made of them."""
    if all(map(usable, pages)):
        return [], Recognised({})
    with pdf_render.Pages(data, ocr.dpi, ocr.max_pixels) as doc:
        scanned = _scanned(doc, pages)
        if not scanned:
            return [], Recognised({})
        return scanned, ocr.read(name, hashlib.sha256(data).hexdigest(), scanned, doc.render, doc.how)


def _to_recognise(data: bytes, pages: list[str]) -> bool:
    """Whether any page would be recognised (for the message when recognition is off)."""
    with pdf_render.Pages(data) as doc:
        return bool(_scanned(doc, pages))


def _scanned(doc: pdf_render.Pages, pages: list[str]) -> list[int]:
    """Pages without a usable text layer that hold an image, and pages of garbage text: those to recognise."""
    return [n for n, text in enumerate(pages, start=1) if garbage(text) or (not usable(text) and doc.has_images(n))]
