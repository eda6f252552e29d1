"""PDF tables on a page whose characters pdfplumber cannot read (ingest.loaders.pdf_tables): the ruled table's cells
are filled from text pieces placed by position (``runs``: start x, baseline from the page's top, text — pypdf's in
the loader), so neighbouring figures stay in their own cells (512.4 | 571.8, not 512.4571.8), and the pieces outside
the table become lines in reading order.

The PDFs are made here with tests/pdfgen.py: a ruled 3×3 grid drawn with lines and no text at all (pdfplumber reads
no character), or the same grid with two Helvetica words in it (pdfplumber reads them). The runs are hand-made and
stand inside the grid's cell boxes.
"""

from __future__ import annotations

import io

import pdfplumber

from ingest.loaders.pdf_tables import Run, _placed, pages_with_tables
from kb.records import Block
from tests.pdfgen import _FONT, _stream, build

HEIGHT = 792
XS = (72, 192, 312, 432)  # the grid's vertical rules: three columns 120 points wide
TOPS = (100, 120, 140, 160)  # its horizontal rules, from the page's top: three rows 20 points high


def _grid() -> str:
    ops = ["0.5 w"]
    ops += [f"{XS[0]} {HEIGHT - t} m {XS[-1]} {HEIGHT - t} l S" for t in TOPS]
    ops += [f"{x} {HEIGHT - TOPS[0]} m {x} {HEIGHT - TOPS[-1]} l S" for x in XS]
    return "\n".join(ops)


def _pdf(content: str) -> bytes:
    return build([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R "
        b">> >> >>", _stream(content.encode()), _FONT,
    ])  # fmt: skip


def _text(x: float, top: float, word: str) -> str:
    return f"BT /F1 10 Tf {x} {HEIGHT - top} Td ({word}) Tj ET"


UNREADABLE = _pdf(_grid())  # rules only: pdfplumber finds the table but reads no character
READABLE = _pdf("\n".join([_grid(), _text(76, 115, "Region"), _text(196, 135, "512.4")]))

# baselines 5 points above each row's bottom rule; listed out of order on purpose
RUNS: list[Run] = [
    (196, 135, "512.4"), (316, 135, "571.8"), (76, 135, "长沙市"),
    (240, 115, "末"), (196, 115, "2022年"), (76, 115, "地区"), (316, 115, "2023年末"),
    (76, 155, "株洲市"), (196, 155, "98.6"), (316, 155, "104.2"),
    (150, 200.5, "为累计发放贷款。"), (76, 200, "注：表中数据"),  # one line below the table, in two pieces
    (76, 80, "单位：亿元"),  # a line above it
]  # fmt: skip
EXPECTED = [
    Block("单位：亿元", page=1),
    Block("地区 | 2022年末 | 2023年末", kind="row", page=1, cells=("地区", "2022年末", "2023年末"), header=True),
    Block("长沙市 | 512.4 | 571.8", kind="row", page=1, cells=("长沙市", "512.4", "571.8")),
    Block("株洲市 | 98.6 | 104.2", kind="row", page=1, cells=("株洲市", "98.6", "104.2")),
    Block("注：表中数据为累计发放贷款。", page=1),
]


def test_the_fixture_pdfs_are_as_described() -> None:
    with pdfplumber.open(io.BytesIO(UNREADABLE)) as pdf:
        page = pdf.pages[0]
        assert not page.chars and len(page.find_tables()[0].rows) == 3
    with pdfplumber.open(io.BytesIO(READABLE)) as pdf:
        assert pdf.pages[0].chars


def test_an_unreadable_pages_cells_are_filled_from_runs_by_position() -> None:
    # rule: where pdfplumber reads no character, each cell holds the runs starting inside its box (in x order: 2022年
    # + 末), the first row is the header, the runs outside the table are lines by baseline (two pieces within the
    # line tolerance are one line), all in reading order
    calls: list[int] = []

    def runs(number: int) -> list[Run]:
        calls.append(number)
        return list(RUNS)

    assert pages_with_tables(UNREADABLE, 5, runs) == {1: EXPECTED}
    assert calls == [1]  # asked for the page by its 1-based number


def test_without_runs_an_unreadable_table_gives_nothing() -> None:
    # rule: no runs, no characters: the page is left to the plain text layer (no empty table rows)
    assert pages_with_tables(UNREADABLE, 5) == {}
    assert pages_with_tables(UNREADABLE, 5, lambda _: []) == {}


def test_a_readable_page_never_asks_for_runs() -> None:
    # rule: runs are only the fallback: a page pdfplumber can read is read by pdfplumber
    def runs(_: int) -> list[Run]:
        raise AssertionError("runs asked for a page pdfplumber reads")

    blocks = pages_with_tables(READABLE, 5, runs)[1]
    assert [b.cells for b in blocks] == [("Region", "", ""), ("", "512.4", "")]


def test_placed_fills_the_cells_from_the_runs_given() -> None:
    # rule: _placed takes its text from the runs alone (the page's own characters are not mixed in)
    with pdfplumber.open(io.BytesIO(READABLE)) as pdf:
        assert _placed(pdf.pages[0], 1, list(RUNS)) == EXPECTED
        assert _placed(pdf.pages[0], 1, []) == []


def test_pages_beyond_the_limit_are_not_searched() -> None:
    # rule: max_pages bounds the table search (and the runs asked for)
    assert pages_with_tables(UNREADABLE, 0, lambda _: list(RUNS)) == {}
