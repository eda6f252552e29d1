"""PDF tables: the only pdfplumber import. Ruled tables found on each page, with the page's other lines in reading
order around them.

Owns: finding tables (pdfplumber's table finder: ruled cells), their rows of cells (the first row the header; a
cell's line breaks joined, an empty or merged cell kept empty so columns line up) and the page's lines outside them,
each placed by its height on the page. Does not own: opening, encryption, metadata or pages without tables
(``ingest.loaders.pdf`` reads those with pypdf, faster), or what a row means (``ingest.tables``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import pdfplumber

from kb.records import CELL_SEP, Block

log = logging.getLogger(__name__)
logging.getLogger("pdfminer").setLevel(logging.ERROR)


# a piece of a page's text where it stands: (x of its start, its baseline from the page's top, its text)
Run = tuple[float, float, str]
Runs = Callable[[int], list[Run]]
LINE_TOLERANCE = 2.0  # runs whose baselines differ by less (points) stand on one line


def pages_with_tables(data: bytes, max_pages: int, runs: Runs | None = None) -> dict[int, list[Block]]:
    """For each page (1-based) that holds a ruled table of two or more rows: its blocks in reading order, table
    rows as row blocks. Where pdfplumber reads no character of a page (a font map it cannot decode), the table's
    cells and the page's lines are filled from ``runs`` (the page's text pieces where they stand, read by another
    reader). Pages beyond ``max_pages`` are not searched; a file pdfplumber cannot read gives {}."""
    out: dict[int, list[Block]] = {}
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages[:max_pages], start=1):
                blocks = _page(page, number) if page.chars or runs is None else _placed(page, number, runs(number))
                if blocks:
                    out[number] = blocks
                page.flush_cache()
    except Exception as exc:  # pdfminer raises many types on damaged files; the text layer alone stands
        log.info("no table search in this PDF: %s", exc)
        return {}
    return out


def _page(page: pdfplumber.page.Page, number: int) -> list[Block]:
    tables = [t for t in page.find_tables() if len(t.rows) >= 2]
    if not tables:
        return []
    placed: list[tuple[float, int, Block]] = []
    rest = page
    for t in tables:
        rows = [[_cell(c) for c in row] for row in t.extract()]
        rows = [r for r in rows if any(r)]
        for i, cells in enumerate(rows):
            placed.append((t.bbox[1], i, Block(CELL_SEP.join(cells), kind="row", page=number, cells=tuple(cells),
                                               header=i == 0)))  # fmt: skip
        rest = rest.outside_bbox(t.bbox)
    for line in rest.extract_text_lines():
        text = str(line["text"]).strip()
        if text:
            placed.append((float(line["top"]), 0, Block(text, page=number)))
    return [b for _, _, b in sorted(placed, key=lambda p: (p[0], p[1]))]


def _cell(value: object) -> str:
    """A cell's text on one line (a Chinese cell wraps without spaces, so its breaks are joined)."""
    return "".join(str(value).split("\n")).strip() if value is not None else ""


def _placed(page: pdfplumber.page.Page, number: int, runs: list[Run]) -> list[Block]:
    """A page whose characters pdfplumber cannot read: its ruled tables' cells filled with the ``runs`` whose start
    lies in them, the other runs joined into lines by baseline, all in reading order."""
    tables = [t for t in page.find_tables() if len(t.rows) >= 2]
    if not tables or not runs:
        return []
    placed: list[tuple[float, int, Block]] = []
    used: set[int] = set()
    for t in tables:
        for i, row in enumerate(t.rows):
            cells = [_filled(box, runs, used) for box in row.cells]
            if any(cells):
                placed.append((row.bbox[1], i, Block(CELL_SEP.join(cells), kind="row", page=number,
                                                     cells=tuple(cells), header=i == 0)))  # fmt: skip
    lines: dict[float, list[Run]] = {}
    for k, run in enumerate(runs):
        if k not in used:
            at = next((y for y in lines if abs(y - run[1]) < LINE_TOLERANCE), run[1])
            lines.setdefault(at, []).append(run)
    for y, line in lines.items():
        text = "".join(r[2] for r in sorted(line)).strip()
        if text:
            placed.append((y, 0, Block(text, page=number)))
    return [b for _, _, b in sorted(placed, key=lambda p: (p[0], p[1]))]


def _filled(box: tuple[float, float, float, float] | None, runs: list[Run], used: set[int]) -> str:
    """The text of the runs that start inside ``box`` (x0, top, x1, bottom), marked used; "" for a merged cell."""
    if box is None:
        return ""
    x0, top, x1, bottom = box
    inside = [k for k, (x, y, _) in enumerate(runs) if x0 - 1 <= x < x1 and top <= y <= bottom]
    used.update(inside)
    return "".join(runs[k][2] for k in sorted(inside, key=lambda k: runs[k][0])).strip()
