"""The facts shown on the 事实 page as a briefing: a table whose every figure carries its footnote citation.

Owns: the Markdown form (a table, figures with ``[^n]``; every cell, title and quote escaped) and the Word form
(a bordered table, figures with ``[n]``, then 资料来源), one footnote per source sentence or table row, the newest
截至 date and the export time. Does not own: choosing the facts (the page's filters) or the answers' briefing
(``assistant.briefing``, whose escaping and Word writer it shares).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from assistant.briefing import Briefing, line_md, table_md
from kb.docx_io import Grid, Runs, write_docx
from kb.records import SourcedFact

TITLE = "事实简报"
COLUMNS = ("主体", "指标", "数值", "截至", "文档")


def build(rows: Sequence[SourcedFact], now: dt.datetime | None = None, compare: bool = False) -> Briefing:
    """The briefing of ``rows``: each figure cited to the sentence or row it stands in; with ``compare`` (one
    metric chosen) first a comparison, dates down and subjects across, each figure cited the same way."""
    now = now or dt.datetime.now()
    exported = now.strftime("%Y-%m-%d %H:%M")
    dated = [r.fact.as_of for r in rows if r.fact.as_of]
    latest = max(dated) if dated else None
    head = f"资料截至 {latest}；导出时间 {exported}" if latest else f"导出时间 {exported}（来源未注明日期）"
    numbers: dict[tuple[str, int, int], int] = {}
    sources: list[SourcedFact] = []
    for r in rows:
        key = (r.fact.doc_id, r.fact.start, r.fact.end)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            sources.append(r)
    cells = [(_cells(r), numbers[(r.fact.doc_id, r.fact.start, r.fact.end)]) for r in rows]
    md_rows = [tuple(line_md(c) + (f"[^{n}]" if j == 2 else "") for j, c in enumerate(row)) for row, n in cells]
    lines = [f"# {TITLE}", "", head, ""]
    parts: list[tuple[str, str | Runs | Grid]] = [("note", head)]
    if compare:
        table = comparison(rows, numbers)
        if len(table) > 2:
            md_table = [tuple(line_md(c).replace("\\[", "[^").replace("\\]", "]") for c in r) for r in table]
            lines += ["## 对比", "", *table_md(tuple(md_table), escaped=True), ""]
            parts += [("heading", "对比"), ("table", table)]
    lines += ["## 明细", "", *table_md((COLUMNS, *md_rows), escaped=True), "", "## 资料来源", ""]
    lines += [f"[^{i}]: {line_md(_source(r))}" for i, r in enumerate(sources, start=1)]
    grid: Grid = (COLUMNS, *((row[0], row[1], f"{row[2]}[{n}]", *row[3:]) for row, n in cells))
    parts += [("heading", "明细"), ("table", grid), ("heading", "资料来源")]
    parts += [("paragraph", f"[{i}] {_source(r)}") for i, r in enumerate(sources, start=1)]
    return Briefing("\n".join(lines) + "\n", write_docx(TITLE, parts), latest, exported)


def comparison(rows: Sequence[SourcedFact], numbers: dict[tuple[str, int, int], int]) -> Grid:
    """Dates down, subjects across; a cell is the first (newest report's) figure of that subject and date with its
    source number, ``9120台[3]``."""
    cell: dict[tuple[str, str], str] = {}
    for r in rows:
        f = r.fact
        if f.as_of and (f.as_of, f.subject) not in cell:
            cell[(f.as_of, f.subject)] = f"{_cells(r)[2]}[{numbers[(f.doc_id, f.start, f.end)]}]"
    dates = sorted({d for d, _ in cell})
    subjects = sorted({s for _, s in cell})
    return (("截至", *subjects), *((d, *(cell.get((d, s), "") for s in subjects)) for d in dates))


def _cells(r: SourcedFact) -> tuple[str, ...]:
    f = r.fact
    figure = f"{f.qualifier}{f.text}" if f.qualifier and f.qualifier not in f.text else f.text
    return (f.subject, f.metric, figure, f.as_of or "日期不详", r.title)


def _source(r: SourcedFact) -> str:
    """《title》（date），file：“quote”."""
    date = f"（{r.doc_date}）" if r.doc_date else ""
    return f"《{r.title}》{date}，{Path(r.source).name}：“{r.quote}”"
