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
from assistant.factsheet import Comparison, SourceKey, comparison, figure, numbered, recognised, source_key
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
    numbers, sources = numbered(rows)
    lines = [f"# {TITLE}", "", head, ""]
    parts: list[tuple[str, str | Runs | Grid]] = [("note", head)]
    table = comparison(rows) if compare else None
    if table is not None and len(table.dates) > 1:
        lines += ["## 对比", "", *table_md(_compared(table, numbers, True), escaped=True), ""]
        parts += [("heading", "对比"), ("table", _compared(table, numbers, False))]
    details = (COLUMNS, *(_detail(r, numbers, True) for r in rows))
    lines += ["## 明细", "", *table_md(details, escaped=True), "", "## 资料来源", ""]
    lines += [f"[^{i}]: {line_md(_source(r))}" for i, r in enumerate(sources, start=1)]
    parts += [("heading", "明细"), ("table", (COLUMNS, *(_detail(r, numbers, False) for r in rows)))]
    parts += [("heading", "资料来源"), *(("paragraph", f"[{i}] {_source(r)}") for i, r in enumerate(sources, 1))]
    return Briefing("\n".join(lines) + "\n", write_docx(TITLE, parts), latest, exported)


def _cited(r: SourcedFact | None, numbers: dict[SourceKey, int], markdown: bool) -> str:
    """A figure with its source's mark: ``[^3]`` after the escaped figure in Markdown, ``[3]`` in Word; "" for none."""
    if r is None:
        return ""
    n = numbers[source_key(r)]
    return f"{line_md(figure(r.fact))}[^{n}]" if markdown else f"{figure(r.fact)}[{n}]"


def _detail(r: SourcedFact, numbers: dict[SourceKey, int], markdown: bool) -> tuple[str, ...]:
    """One fact's row: subject, metric, the cited figure, 截至, document (escaped for Markdown)."""
    text = line_md if markdown else str
    f = r.fact
    return (text(f.subject), text(f.metric), _cited(r, numbers, markdown), text(f.as_of or "日期不详"), text(r.title))


def _compared(table: Comparison, numbers: dict[SourceKey, int], markdown: bool) -> Grid:
    """The comparison as rows: a header of subjects, then each date with each subject's cited figure."""
    text = line_md if markdown else str
    header = (text("截至"), *map(text, table.subjects))
    body = ((text(d), *(_cited(table.cells.get((d, s)), numbers, markdown) for s in table.subjects))
            for d in table.dates)  # fmt: skip
    return (header, *body)


def _source(r: SourcedFact) -> str:
    """《title》（date），file（识别文字 when the quote was recognised）：“quote”."""
    date = f"（{r.doc_date}）" if r.doc_date else ""
    return f"《{r.title}》{date}，{Path(r.source).name}{recognised(r)}：“{r.quote}”"
