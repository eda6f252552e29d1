"""Plain text and Markdown: encoding detection, then one block per line.

Owns: decoding (BOM, UTF-8, GB18030/GBK, UTF-16 with a BOM or without one, told by
where its zero bytes fall) and refusing binary data. Headings in plain text are
found later (``ingest.structure``); Markdown ``#`` headings are recognised there too. Does not own: cleaning.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from ingest.loaders import Parsed
from kb.errors import InputError
from kb.records import Block

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_PLAUSIBLE = re.compile(
    r"[\s\u0020-\u007e\u00a0-\u024f\u2000-\u206f\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    r"\ufb00-\ufb06\ufeff\uff00-\uffef]"
)


def decode(path: Path, data: bytes) -> str:
    """Decode text bytes or raise an InputError that says why not."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(str(path), f"文件以 {codec} 标记开头但内容损坏：{exc.reason}") from exc
    if b"\x00" in data[:4096]:
        text = _utf16(data)
        if text is None:
            raise InputError(str(path), "不是文本文件（含二进制内容）")
        return text
    for codec in ("utf-8", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if plausible(text):
            return text
    raise InputError(str(path), "无法识别文件编码或内容不是文本（请另存为 UTF-8 后重试）")


def _utf16(data: bytes) -> str | None:
    """UTF-16 text without a BOM, or None. ASCII characters (digits, spaces, line breaks) put a zero byte at odd
    offsets in little-endian and at even offsets in big-endian text; binary data does not decode to plausible text."""
    head = data[:4096]
    odd = head[1::2].count(0)
    codec = "utf-16-le" if odd >= head[0::2].count(0) else "utf-16-be"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return text if plausible(text) else None


def plausible(text: str) -> bool:
    """True when nearly all characters are ones real Chinese or English text uses."""
    sample = text[:20000]
    if not sample.strip():
        return False
    good = len(_PLAUSIBLE.findall(sample))
    return good >= 0.95 * len(sample)


def lines_to_blocks(text: str) -> list[Block]:
    return [Block(line.strip()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def load(path: Path, data: bytes) -> Iterator[Parsed]:
    text = decode(path, data)
    blocks = lines_to_blocks(text)
    if not blocks:
        raise InputError(str(path), "文件中没有文字内容")
    yield Parsed(title="", blocks=blocks)
