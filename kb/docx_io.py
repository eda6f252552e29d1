"""Word documents: the only python-docx import, for reading (ingest) and writing (briefings).

Owns: turning a .docx into blocks (paragraphs with heading levels, tables as rows, in
document order) and writing a simple .docx from titled paragraphs (markers as superscript runs). Does not own:
what a briefing says (``assistant.briefing``) or error wording for damaged files
(``ingest.loaders.docx``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import cast

import docx
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from kb.records import CELL_SEP, Block

_HEADING = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)


def _style(p: Paragraph, names: dict[str | None, str]) -> str:
    """The paragraph's style name, looked up once per style id (python-docx searches the styles part on every
    lookup: a thousandfold slower on long documents)."""
    style_id = p._p.style
    if style_id not in names:
        names[style_id] = ((p.style.name if p.style is not None else "") or "").strip()
    return names[style_id]


def _paragraph(p: Paragraph, names: dict[str | None, str]) -> Block | None:
    text = p.text.strip()
    if not text:
        return None
    style = _style(p, names)
    m = _HEADING.match(style)
    if m:
        return Block(text, kind="heading", level=int(m.group(1)))
    if style.lower() == "title":
        return Block(text, kind="heading", level=1)
    return Block(text)


def _rows(t: Table) -> list[Block]:
    """A table's rows with every cell (a merged cell repeats in each column it spans, so columns line up);
    the first row is the header."""
    out: list[Block] = []
    for row in t.rows:
        cells = tuple(" ".join(cell.text.split()) for cell in row.cells)
        if any(cells):
            out.append(Block(CELL_SEP.join(cells), kind="row", cells=cells, header=not out))
    return out


class TablesTooDeep(ValueError):
    """A .docx nests tables deeper than its reader allows; ``depth`` is how deep they went before reading stopped."""

    def __init__(self, depth: int) -> None:
        super().__init__(f"tables nested {depth} deep")
        self.depth = depth


def read_docx(data: bytes, max_table_depth: int = 0) -> tuple[str, list[Block]]:
    """(core-properties title, blocks) of a .docx; python-docx/zip errors propagate, and ``TablesTooDeep`` when
    tables nest deeper than ``max_table_depth`` (0: no limit), checked before any text is read."""
    document = docx.Document(io.BytesIO(data))
    if max_table_depth:
        _check_depth(document, max_table_depth)
    blocks: list[Block] = []
    names: dict[str | None, str] = {}
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            block = _paragraph(item, names)
            if block:
                blocks.append(block)
        elif isinstance(item, Table):
            blocks.extend(_rows(item))
    return (document.core_properties.title or "").strip(), blocks


def _check_depth(document: docx.document.Document, limit: int) -> None:
    tag = qn("w:tbl")
    for table in document.element.body.iter(tag):
        depth = 1 + sum(1 for _ in table.iterancestors(tag))
        if depth > limit:
            raise TablesTooDeep(depth)


Runs = tuple[tuple[str, bool], ...]  # a paragraph's pieces: (text, superscript)
Grid = tuple[tuple[str, ...], ...]  # a table's rows of cells, the first row its header


def write_docx(title: str, parts: Sequence[tuple[str, str | Runs | Grid]]) -> bytes:
    """A .docx of ``parts``: (kind, text) with kind in heading/paragraph/note/table; a paragraph may be given as
    runs, the superscript ones (citation markers) set apart from the text around them; a table as its rows."""
    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    for kind, text in parts:
        if kind == "table":
            _table(document, cast(Grid, text))
            continue
        runs = ((text, False),) if isinstance(text, str) else cast(Runs, text)
        if kind == "heading":
            document.add_heading("".join(t for t, _ in runs), level=1)
        elif kind == "note":
            run = document.add_paragraph().add_run("".join(t for t, _ in runs))
            run.font.size = Pt(9)
            run.italic = True
        else:
            paragraph = document.add_paragraph()
            for piece, superscript in runs:
                paragraph.add_run(piece).font.superscript = superscript or None
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _table(document: docx.document.Document, rows: Grid) -> None:
    """A bordered table of ``rows``, the first in bold (its header)."""
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            run = table.cell(i, j).paragraphs[0].add_run(value)
            run.bold = i == 0 or None
