"""Format loaders: bytes on disk to titled lists of blocks.

Owns: choosing the loader by extension, the size and emptiness checks every file
gets, and the ``Parsed`` record loaders return. Each format's library lives in its
own module here. Does not own: cleaning, headings in plain text, chunking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InputError
from kb.records import Block

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl")


@dataclass(frozen=True)
class Parsed:
    """One document as a loader sees it."""

    title: str
    blocks: list[Block]
    date: str | None = None
    doc_id: str | None = None  # only jsonl records carry their own id
    source: str = ""
    structured: bool = False  # True when blocks already carry headings (html, docx, md)
    meta: dict[str, str] = field(default_factory=dict)


Loader = Callable[[Path, bytes], Iterator["Parsed | InputError"]]


def _loader(suffix: str) -> Loader:
    from ingest.loaders import docx, html, jsonl, pdf, text

    table: dict[str, Loader] = {
        ".txt": text.load, ".md": text.load, ".markdown": text.load, ".html": html.load,
        ".htm": html.load, ".pdf": pdf.load, ".docx": docx.load, ".jsonl": jsonl.load,
    }  # fmt: skip
    return table[suffix]


def load(path: Path, max_bytes: int) -> Iterator[Parsed | InputError]:
    """Parse ``path``; problems come back as ``InputError`` values, never raised."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        yield InputError(name, f"不支持的文件类型“{suffix or '无扩展名'}”（支持 txt、md、html、pdf、docx、jsonl）")
        return
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield InputError(name, f"无法读取文件：{exc.strerror or exc}")
        return
    if size == 0:
        yield InputError(name, "文件为空")
        return
    if size > max_bytes:
        yield InputError(
            name, f"文件过大（{size / 1e6:.1f} MB，上限 {max_bytes / 1e6:.0f} MB，可调 PILOTQA_MAX_FILE_MB）"
        )
        return
    data = path.read_bytes()
    try:
        yield from _loader(suffix)(path, data)
    except InputError as exc:
        yield exc
