"""Tables: recognising them in text, and recording where their rows and cells stand.

Owns: reading ``a | b | c`` and Markdown ``| a | b |`` lines (with the ``|---|`` line that marks the row above
it as the header) into row blocks, and the ``Table`` records of a document: which consecutive rows form one
table, its header rows, its caption (the heading or short paragraph right before it) and each cell's offsets in
the stored text. Does not own: the formats that mark rows themselves (HTML, DOCX loaders), chunking.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from kb.records import CELL_SEP, Block, Table

_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
MAX_CAPTION = 80  # a longer paragraph before a table is prose, not its caption
MAX_COLUMNS = 64  # more pipes than this on a line is not a table row
# a cell that is a figure (1,183.5, 27.65亿, 45%); a date (2022年末, 6月末, 2023-06-30) is none
_FIGURE = re.compile(r"[-+]?[\d,.]+\s*(?:[%％]|[万亿千百]?[^\s\d年月日季末底初号-]{0,2})")


def pipe_cells(line: str) -> tuple[str, ...] | None:
    """The cells of a pipe-table line, empty cells kept; None when the line is not one."""
    text = line.strip()
    if "|" not in text or text.count("|") > MAX_COLUMNS:
        return None
    markdown = text.startswith("|")
    if not markdown and CELL_SEP not in line and not text.endswith("|"):
        return None  # a lone "|" inside prose (新闻|某网) is no row
    parts = text.split("|")
    if markdown:
        parts = parts[1:-1] if text.endswith("|") and len(parts) > 2 else parts[1:]
    cells = tuple(p.strip() for p in parts)
    return cells if len(cells) >= 2 and sum(bool(c) for c in cells) >= 1 else None


def mark_rows(blocks: Sequence[Block]) -> list[Block]:
    """Plain-text blocks with pipe-table rows (two or more in a run) turned into row blocks; a ``|---|`` line
    makes the rows above it header rows and is dropped."""
    cells = [pipe_cells(b.text) if b.kind == "paragraph" else None for b in blocks]
    seps = [b.kind == "paragraph" and bool(_SEPARATOR.match(b.text.strip())) for b in blocks]
    out: list[Block] = []
    for i, b in enumerate(blocks):
        if seps[i] and out and out[-1].kind == "row":
            run = _run_start(out)
            out[run:] = [_with(x, header=True) for x in out[run:]]
            continue
        near = any(0 <= j < len(blocks) and (cells[j] is not None or seps[j]) for j in (i - 1, i + 1))
        c = cells[i]
        if c is not None and near:
            b = replace(b, text=CELL_SEP.join(c), kind="row", level=0, cells=c, header=False)
        out.append(b)
    return out


def _run_start(blocks: list[Block]) -> int:
    i = len(blocks)
    while i > 0 and blocks[i - 1].kind == "row" and not blocks[i - 1].header:
        i -= 1
    return i


def _with(b: Block, header: bool) -> Block:
    return replace(b, header=header)


def cell_spans(start: int, b: Block) -> tuple[tuple[int, int], ...]:
    """Document spans of a row block's cells, the row's text starting at ``start``."""
    if not b.cells:
        return ((start, start + len(b.text)),)
    spans, pos = [], start
    for c in b.cells:
        spans.append((pos, pos + len(c)))
        pos += len(c) + len(CELL_SEP)
    return tuple(spans)


class TableBuilder:
    """Collects the tables of a document while its blocks are joined into its text."""

    def __init__(self) -> None:
        self.tables: list[Table] = []
        self._rows: list[tuple[int, int]] = []
        self._cells: list[tuple[tuple[int, int], ...]] = []
        self._headers = 0
        self._caption = ""
        self._before = ""  # the text of the block before the current table
        self._top = ""  # the first cell of the current table's first row

    def add(self, b: Block, start: int) -> None:
        """Note block ``b`` whose text starts at ``start``."""
        if b.kind != "row":
            self.close()
            short = len(b.text) <= MAX_CAPTION
            self._before = b.text if short else ""
            return
        if not self._rows:
            self._caption = self._before
        if (b.header or self._continues_header(b)) and len(self._rows) == self._headers:
            self._headers += 1
        if not self._rows:
            self._top = b.cells[0] if b.cells else ""
        self._rows.append((start, start + len(b.text)))
        self._cells.append(cell_spans(start, b))

    def _continues_header(self, b: Block) -> bool:
        """A second header row: right under the header, its first cell the header's own (a vertically merged
        地区 | 地区 over two rows), and no figure in it (地区 | 2023年6月末 | 2023年9月末)."""
        return (self._headers >= 1 and bool(b.cells) and b.cells[0] == self._top
                and not any(_FIGURE.fullmatch(c.strip()) for c in b.cells))  # fmt: skip

    def close(self) -> None:
        """End the current table, if any (a single row is a table too: it still has cells)."""
        if self._rows:
            headers = self._headers or (1 if len(self._rows) > 1 else 0)
            self.tables.append(Table(self._caption, tuple(self._rows), tuple(self._cells), headers))
        self._rows, self._cells, self._headers, self._caption = [], [], 0, ""
