"""PDF: the text layer page by page, page numbers kept; a page with a ruled table read with its rows
(``ingest.loaders.pdf_tables``).

Owns: the only pypdf import; refusing encrypted, corrupt (whatever pypdf raises:
an unknown filter, a map over its limits), scanned (no text layer) files and those of more than
``Limits.max_pages`` pages (before any page is read) with a message that says which. Does not own: OCR (none ships).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

from pypdf import PdfReader

from ingest.loaders import Limits, Parsed, pdf_tables
from kb.errors import InputError
from kb.records import Block

logging.getLogger("pypdf").setLevel(logging.ERROR)
MAX_TABLE_PAGES = 300  # pages searched for ruled tables (pdfplumber reads about 10 pages a second here)


def load(path: Path, data: bytes, limits: Limits) -> Iterator[Parsed]:
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
    with_tables = pdf_tables.pages_with_tables(data, MAX_TABLE_PAGES)
    blocks = [
        block
        for number, text in enumerate(pages, start=1)
        for block in with_tables.get(number) or [Block(line.strip(), page=number) for line in text.split("\n")]
        if block.text.strip()
    ]
    if sum(len(b.text) for b in blocks) < 10:
        raise InputError(name, "扫描版 PDF，没有文字层，无法提取文字：请先做文字识别（OCR）再导入")
    yield Parsed(title=title, blocks=blocks)
