"""Recognised lines of one page put back in reading order: boxes into lines, lines into paragraphs.

Owns: the page's skew (the median slope of the boxes' top edges, so a slightly rotated photo still reads line by
line), grouping boxes that stand on one line (left to right), the page numbers printed at the top or bottom
(dropped), and paragraphs: a paragraph breaks where a line is indented (Chinese paragraphs start two characters
in), where the line before it stops short of the right margin, where the spacing or the type size changes, and
around a centred line (a title); the lines of one paragraph are joined without spaces (a space only between two
Latin letters). A paragraph in type much larger than the body's is a title; other headings come out as their own
short paragraphs, for ``ingest.structure`` to mark. Does not own:
recognition (``models.ocr``) or confidence (``ingest.loaders.ocr``). One column only: a two-column page reads
across its columns.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from dataclasses import dataclass, field

from models.ocr import TextBox

_PAGE_NUMBER = re.compile(
    r"^[-—–－·\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/／]\s*\d{1,4}|\s*共\s*\d{1,4}\s*页)?[-—–－·\s]*$"
)
_LATIN = re.compile(r"[A-Za-z]")
TITLE_SIZE = 1.3  # a short paragraph whose lines are this many times as tall as the body's is set in title type
MAX_TITLE = 60


@dataclass
class _Box:
    text: str
    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class _Line:
    boxes: list[_Box] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return min(b.x0 for b in self.boxes)

    @property
    def x1(self) -> float:
        return max(b.x1 for b in self.boxes)

    @property
    def y0(self) -> float:
        return statistics.median(b.y0 for b in self.boxes)

    @property
    def y1(self) -> float:
        return statistics.median(b.y1 for b in self.boxes)

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def em(self) -> float:
        """The type size, measured across: width per full-width character (Latin letters and digits count about
        half). Detected boxes' heights vary with the glyphs (digits, brackets) far more than their pitch does."""
        units = sum(_units(b.text) for b in self.boxes)
        return sum(b.x1 - b.x0 for b in self.boxes) / max(units, 1.0)

    def text(self) -> str:
        out, prev = "", None
        for b in sorted(self.boxes, key=lambda b: b.x0):
            if prev is not None and (b.x0 - prev.x1 > 0.8 * max(b.height, prev.height) or _latin_pair(out, b.text)):
                out += " "
            out += b.text
            prev = b
        return out


def _units(text: str) -> float:
    return sum(0.55 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def _latin_pair(left: str, right: str) -> bool:
    return bool(left and right and _LATIN.match(left[-1]) and _LATIN.match(right[0]))


def skew(boxes: list[TextBox]) -> float:
    """The page's rotation in radians: the median slope of the top edges of boxes wider than they are tall."""
    angles = []
    for b in boxes:
        (ax, ay), (bx, by) = b.quad[0], b.quad[1]
        width = math.hypot(bx - ax, by - ay)
        if width > 2 * math.dist(b.quad[0], b.quad[3]) and bx > ax:
            angles.append(math.atan2(by - ay, bx - ax))
    return statistics.median(angles) if angles else 0.0


def _straightened(boxes: list[TextBox]) -> list[_Box]:
    """Each box as an upright rectangle after turning the page by minus its skew."""
    angle = -skew(boxes)
    cos, sin = math.cos(angle), math.sin(angle)
    out = []
    for b in boxes:
        xs = [x * cos - y * sin for x, y in b.quad]
        ys = [x * sin + y * cos for x, y in b.quad]
        out.append(_Box(b.text.strip(), min(xs), max(xs), min(ys), max(ys)))
    return out


def lines(boxes: list[TextBox]) -> list[_Line]:
    """Boxes grouped into lines, top to bottom: a box joins a line its vertical middle falls within."""
    out: list[_Line] = []
    for b in sorted(_straightened(boxes), key=lambda b: b.middle):
        for line in reversed(out[-3:]):
            near = abs(b.middle - (line.y0 + line.y1) / 2) < 0.5 * min(b.height, line.height)
            if near and all(b.x0 >= o.x1 - 0.2 * b.height or b.x1 <= o.x0 + 0.2 * b.height for o in line.boxes):
                line.boxes.append(b)
                break
        else:
            out.append(_Line([b]))
    return sorted(out, key=lambda line: line.y0)


def _furniture(line: _Line, top: float, bottom: float) -> bool:
    """A page number alone on a line near the top or bottom of the text."""
    span = max(bottom - top, 1.0)
    edge = line.y0 - top < 0.08 * span or bottom - line.y1 < 0.08 * span
    return edge and bool(_PAGE_NUMBER.match(line.text()))


def paragraphs(boxes: list[TextBox]) -> list[tuple[str, bool]]:
    """The page's text as paragraphs in reading order, each with whether it is a title (large type)."""
    found = lines(boxes)
    if not found:
        return []
    top, bottom = min(line.y0 for line in found), max(line.y1 for line in found)
    found = [line for line in found if not _furniture(line, top, bottom)] if len(found) > 2 else found
    if not found:
        return []
    size = statistics.median(line.em for line in found)
    body = [line for line in found if line.x1 - line.x0 > 3 * size] or found
    left, right = _quantile([line.x0 for line in body], 0.05), _quantile([line.x1 for line in body], 0.9)
    gaps = [b.y0 - a.y1 for a, b in itertools.pairwise(found)]
    usual_gap = statistics.median(gaps) if gaps else 0.0
    out: list[list[_Line]] = []
    for line in found:
        if not out or _breaks(out[-1][-1], line, size, left, right, usual_gap):
            out.append([])
        out[-1].append(line)
    texts = [_join([line.text() for line in group]) for group in out]
    return [
        (text, len(text) <= MAX_TITLE and statistics.median(line.em for line in group) > TITLE_SIZE * size)
        for text, group in zip(texts, out, strict=True)
    ]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def _centred(line: _Line, size: float, left: float, right: float) -> bool:
    before, after = line.x0 - left, right - line.x1
    return before > 2.5 * size and after > 2.5 * size and abs(before - after) < 2 * size


def _breaks(prev: _Line, line: _Line, size: float, left: float, right: float, usual_gap: float) -> bool:
    """Whether ``line`` starts a new paragraph after ``prev``."""
    return (
        line.x0 - left > 1.2 * size  # indented: a paragraph's first line
        or right - prev.x1 > 1.5 * size  # the line before stopped short: its paragraph ended
        or line.y0 - prev.y1 > max(1.0 * size, usual_gap + 0.6 * size)  # more space than between lines
        or (_sized(prev) and _sized(line) and abs(line.em - prev.em) > 0.25 * max(line.em, prev.em))  # type size
        or _centred(prev, size, left, right)
        or _centred(line, size, left, right)
    )


def _sized(line: _Line) -> bool:
    """Whether a line is long enough for its type size to be measured (one or two characters are not)."""
    return sum(_units(b.text) for b in line.boxes) >= 4


def _join(parts: list[str]) -> str:
    out = ""
    for part in parts:
        out += (" " if _latin_pair(out, part) else "") + part
    return out
