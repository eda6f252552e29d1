"""Word (.docx): paragraphs with heading levels, tables as rows, in document order.

Owns: the only python-docx import and the message for damaged files. Does not own:
the older binary .doc format (not supported).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingest.loaders import Parsed
from kb.errors import InputError
from kb.records import Block

_HEADING = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)


def _paragraph(p: Paragraph) -> Block | None:
    text = p.text.strip()
    if not text:
        return None
    style = (p.style.name if p.style is not None else "") or ""
    m = _HEADING.match(style.strip())
    if m:
        return Block(text, kind="heading", level=int(m.group(1)))
    if style.strip().lower() == "title":
        return Block(text, kind="heading", level=1)
    return Block(text)


def _rows(t: Table) -> list[Block]:
    out = []
    for row in t.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat
                cells.append(text)
        if cells:
            out.append(Block(" | ".join(cells), kind="row"))
    return out


def load(path: Path, data: bytes) -> Iterator[Parsed | InputError]:
    name = str(path)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                block = _paragraph(item)
                if block:
                    blocks.append(block)
            elif isinstance(item, Table):
                blocks.extend(_rows(item))
        title = (document.core_properties.title or "").strip()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(name, "Word 文件已损坏或不是 .docx 格式，无法打开") from exc
    except Exception as exc:  # lxml and python-docx raise many types on damaged parts
        raise InputError(name, f"Word 文件已损坏，无法解析（{type(exc).__name__}）") from exc
    if not blocks:
        raise InputError(name, "Word 文件中没有文字内容")
    yield Parsed(title=title, blocks=blocks, source=name, structured=True)
