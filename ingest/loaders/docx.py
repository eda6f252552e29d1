"""Word (.docx): paragraphs with heading levels, tables as rows, in document order.

Owns: the message for damaged files. Reading itself lives in ``kb.docx_io`` (the one
home of python-docx, shared with briefing export). Does not own: the older binary .doc
format (not supported).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from ingest.loaders import Parsed
from kb.docx_io import read_docx
from kb.errors import InputError


def load(path: Path, data: bytes) -> Iterator[Parsed]:
    name = str(path)
    try:
        title, blocks = read_docx(data)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(name, "Word 文件已损坏或不是 .docx 格式，无法打开") from exc
    except Exception as exc:  # lxml and python-docx raise many types on damaged parts
        raise InputError(name, "Word 文件已损坏，无法解析：请在 Word 中打开并另存为 .docx 后重试") from exc
    if not blocks:
        raise InputError(name, "Word 文件中没有文字内容")
    yield Parsed(title=title, blocks=blocks, structured=True)
