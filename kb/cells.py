"""What a spreadsheet reads as a formula, and the one CSV writer that never gives it one.

Owns: the rule that a text value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading apostrophe, so that Excel, LibreOffice or WPS shows it as text instead of running it
(``=HYPERLINK(…)``, ``+cmd``, ``@SUM(…)``); every CSV the project writes (``write_csv``) and every cell of the
xlsx export (``kb.xlsx_io``) goes through it. Numbers stay numbers (a spreadsheet runs none). Does not own: what
the rows say or the xlsx format.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def as_data(value: object) -> object:
    """``value`` as a spreadsheet cell shows it: text a spreadsheet would run gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_LEAD):
        return "'" + value
    return value


def write_csv(out: TextIO, fieldnames: Sequence[str], rows: Iterable[Mapping[str, object]]) -> None:
    """A header row, then ``rows`` (by ``fieldnames``), every text field safe to open in a spreadsheet."""
    writer = csv.DictWriter(out, fieldnames=list(fieldnames))
    writer.writeheader()
    writer.writerows({k: as_data(v) for k, v in row.items()} for row in rows)
