"""Word (.docx): paragraphs with heading levels, tables as rows, in document order.

Owns: the message for damaged files and refusing one that would unzip to more than
``Limits.max_docx_expanded_mb`` (read from the zip directory before anything is
parsed), and one whose tables nest deeper than ``Limits.max_table_depth``. Reading itself lives in
``kb.docx_io`` (the one home of python-docx, shared with briefing export). Does not own: converting the older
binary .doc and .wps formats (``ingest.loaders.office``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ingest.loaders import Limits, Parsed
from kb.docx_io import TablesTooDeep, read_docx
from kb.errors import InputError

# images are stored compressed already: one that unzips to more than this many times its stored size is a bomb
MEDIA_RATIO = 20


def expanded_mb(data: bytes) -> float:
    """What a .docx unzips to, images excepted unless they unzip far past their stored size: the declared sizes,
    which also cap what unzipping yields."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        counted = [i.file_size for i in z.infolist() if not _image(i) or _inflated(i)]
    return sum(counted) / 1e6


def _inflated(info: zipfile.ZipInfo) -> bool:
    return info.file_size > MEDIA_RATIO * (info.compress_size + 1024)


def _image(info: zipfile.ZipInfo) -> bool:
    return "/media/" in "/" + info.filename


def load(path: Path, data: bytes, limits: Limits) -> Iterator[Parsed]:
    name = str(path)
    try:
        size = expanded_mb(data)
        if size > limits.max_docx_expanded_mb:
            raise InputError(name, f"Word 文件解压后过大（{size:.0f} MB，上限 {limits.max_docx_expanded_mb:.0f} MB，"
                                   "可调 PILOTQA_MAX_DOCX_EXPANDED_MB）")  # fmt: skip
        title, blocks = read_docx(data, limits.max_table_depth)
    except InputError:
        raise
    except TablesTooDeep as exc:
        raise InputError(name, f"Word 文件中的表格嵌套过深（{exc.depth} 层，上限 {limits.max_table_depth} 层，"
                               "可调 PILOTQA_MAX_TABLE_DEPTH）") from exc  # fmt: skip
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(name, "Word 文件已损坏或不是 .docx 格式，无法打开") from exc
    except Exception as exc:  # lxml and python-docx raise many types on damaged parts
        raise InputError(name, "Word 文件已损坏，无法解析：请在 Word 中打开并另存为 .docx 后重试") from exc
    if not blocks:
        raise InputError(name, "Word 文件中没有文字内容")
    yield Parsed(title=title, blocks=blocks, structured=True)
