"""Reading order of positioned text: pieces of text on a page into lines, lines into paragraphs.

Owns: grouping text pieces by baseline into lines (a printed line that its writer split into several text objects
is one line again), ordering them left to right, and joining lines into paragraphs by indent, short line ends,
vertical gaps and size changes; a line set in a larger size than the body is a heading. Pure geometry on plain
values (millimetres, y growing down the page). Does not own: reading a format (``ingest.loaders.ofd``).
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass

_LATIN = re.compile(r"[0-9A-Za-z]")
HEADING_SIZE = 1.2  # a line this many times the body size or larger is a heading
MAX_HEADING = 40  # characters


@dataclass(frozen=True)
class Piece:
    """A run of text on one baseline: where it starts and ends across, its baseline and its font size."""

    x0: float
    x1: float
    y: float
    size: float
    text: str


Line = Piece  # a line is its pieces joined: where it starts and ends across, its baseline, its size and its text


@dataclass(frozen=True)
class Paragraph:
    text: str
    heading: int = 0  # 1 for the largest size on the page set apart, 2 for other large lines; 0 for body text


def lines(pieces: list[Piece]) -> list[Line]:
    """Pieces grouped by baseline (within a third of their size), each line ordered left to right, lines top down."""
    rows: list[list[Piece]] = []
    for p in sorted(pieces, key=lambda p: (p.y, p.x0)):
        if p.text.strip() and rows and abs(p.y - rows[-1][0].y) <= 0.35 * min(p.size, rows[-1][0].size):
            rows[-1].append(p)
        elif p.text.strip():
            rows.append([p])
    return [_line(sorted(row, key=lambda p: p.x0)) for row in rows]


def _line(row: list[Piece]) -> Line:
    text, last = "", None
    for p in row:
        if last is not None:
            if p.text == last.text and abs(p.x0 - last.x0) < 0.5 * p.size:
                continue  # the same text drawn twice (a writer's bold)
            text += _gap(last, p)
        text += p.text
        last = p
    size = max(row, key=lambda p: len(p.text)).size
    return Line(row[0].x0, max(p.x1 for p in row), row[0].y, size, text.strip())


def _gap(left: Piece, right: Piece) -> str:
    """What stands between two pieces of one line: a space where the gap is wide (columns, a signature line) or
    between two Latin words; nothing inside Chinese text."""
    gap = right.x0 - left.x1
    if gap > 1.5 * right.size:
        return " "
    latin = _LATIN.match(left.text[-1:]) and _LATIN.match(right.text[:1])
    return " " if latin and gap > 0.15 * right.size else ""


def paragraphs(page: list[Line]) -> list[Paragraph]:
    """A page's lines joined into paragraphs: a new one after a short line, at an indented line, after a wide
    vertical gap, or where the size changes; lines of one paragraph joined without spaces (Chinese)."""
    if not page:
        return []
    body = _body_size(page)
    left, right = min(line.x0 for line in page), max(line.x1 for line in page)
    spacing = _spacing(page, body)
    biggest = max(line.size for line in page)
    out: list[Paragraph] = []
    prev: Line | None = None
    for line in page:
        heading = _heading(line, body, biggest)
        if prev is not None and not _breaks(prev, line, left, right, spacing, body) and not heading:
            out[-1] = Paragraph(_join(out[-1].text, line.text), out[-1].heading)
        elif prev is not None and heading and out[-1].heading == heading and _same(prev, line, spacing):
            out[-1] = Paragraph(_join(out[-1].text, line.text), heading)  # a heading set over two lines
        else:
            out.append(Paragraph(line.text, heading))
        prev = line
    return out


def _heading(line: Line, body: float, biggest: float) -> int:
    if line.size < HEADING_SIZE * body or len(line.text) > MAX_HEADING:
        return 0
    return 1 if line.size >= 0.95 * biggest else 2


def _breaks(prev: Line, line: Line, left: float, right: float, spacing: float, body: float) -> bool:
    if _heading_sized(prev, body) or abs(line.size - prev.size) > 0.15 * body:
        return True
    indented = line.x0 > left + 1.2 * line.size
    short = prev.x1 < right - 1.5 * prev.size
    return indented or short or line.y - prev.y > 1.6 * spacing


def _heading_sized(line: Line, body: float) -> bool:
    return line.size >= HEADING_SIZE * body and len(line.text) <= MAX_HEADING


def _same(prev: Line, line: Line, spacing: float) -> bool:
    return abs(prev.size - line.size) < 0.05 * line.size and line.y - prev.y <= 1.6 * max(spacing, line.size)


def _body_size(page: list[Line]) -> float:
    """The size most characters on the page are set in."""
    weights: dict[float, int] = {}
    for line in page:
        weights[round(line.size, 1)] = weights.get(round(line.size, 1), 0) + len(line.text)
    return max(weights, key=lambda s: weights[s])


def _spacing(page: list[Line], body: float) -> float:
    """The usual distance between the baselines of body lines (1.5 times the body size when there are too few)."""
    steps = [b.y - a.y for a, b in itertools.pairwise(page) if abs(a.size - body) < 0.1 * body]
    steps = [s for s in steps if s > 0]
    return statistics.median(steps) if steps else 1.5 * body


def _join(a: str, b: str) -> str:
    latin = _LATIN.match(a[-1:]) and _LATIN.match(b[:1])
    return a + (" " if latin else "") + b
