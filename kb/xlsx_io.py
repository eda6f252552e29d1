"""Excel workbooks: the only openpyxl import, for writing (the facts page's export).

Owns: writing sheets of rows (a note line, a bold header row, then the rows; columns sized to their text; every
value written as data, never as a formula: ``kb.cells``' rule, the same as every CSV's). Does not own: what the
sheets say (``assistant.factsheet``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from kb.cells import as_data

Sheet = tuple[str, str, Sequence[str], Sequence[Sequence[object]]]  # name, note, header, rows


def write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, note, header, rows in sheets:
        ws = book.create_sheet(name)
        ws.append([note])
        ws.append(list(header))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([as_data(v) for v in row])
        for column in ws.iter_cols(min_row=2):
            width = max((len(str(c.value)) for c in column if c.value is not None), default=4)
            ws.column_dimensions[column[0].column_letter].width = min(60, max(6, width * 2))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
