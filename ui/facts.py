"""The 事实 page: the fact registry as a table, filtered, each fact opening its source, a metric compared.

Owns: the filters (words, subject, metric, a date range), the table (subject, metric, figure, 截至, document;
figures that disagree with another of the same subject, metric and stated date marked ≠), its downloads (Excel;
a briefing table in Word and Markdown, ``assistant.fact_briefing``),
opening one fact's
source (its sentence with the figure highlighted, or its table row under its header), and, for a chosen metric,
the comparison of its values across subjects and dates (a table and a chart). Does not own: the lookup
(``assistant.factsheet``) or storage.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from assistant import fact_briefing
from assistant.briefing import table_md
from assistant.core import Assistant
from assistant.factsheet import SourceKey, comparison, figure, numbered, recognised, source_key, sourced, workbook
from kb.catalog import FactQuery
from kb.quantity import scaled
from kb.records import SourcedFact
from ui.chat import row_table
from ui.text import highlight, md_escape, title_escape

MAX_SHOWN = 2000  # rows drawn in the table; the filters narrow the rest
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def page(assistant: Assistant) -> None:
    st.subheader("事实")
    query = _filters()
    kb = assistant.res.kb
    facts = kb.facts(query)
    rows = sourced(kb, facts, MAX_SHOWN)
    if not rows:
        st.info("没有找到符合条件的事实。可放宽筛选条件；导入带数字的报告后，这里会列出其中的数据及出处。")
        return
    total = len(facts)
    marked = sum(r.conflict for r in rows)
    shown = f"显示前 {len(rows)} 条（共 {total} 条，可用筛选缩小）" if total > len(rows) else f"共 {total} 条事实"
    st.caption(shown + (f"；{marked} 条与同一主体、指标、日期的另一数值不一致（标 ≠）" if marked else ""))
    st.dataframe([_row(r) for r in rows], hide_index=True, width="stretch")
    stamp = dt.date.today().isoformat()
    # built only when clicked: the rows shown, each with its 资料来源 number, and a sheet of the sources' quotes
    c1, c2, c3 = st.columns(3)
    c1.download_button("下载 Excel", lambda: workbook(rows), f"事实-{stamp}.xlsx", XLSX, on_click="ignore")
    # the same facts as a briefing table, each figure with its footnote citation
    compare = bool(query.metric)  # one metric chosen: the briefing starts with its comparison
    c2.download_button("下载简报 Word", lambda: fact_briefing.build(rows, compare=compare).docx,
                       f"事实简报-{stamp}.docx", DOCX, on_click="ignore")  # fmt: skip
    c3.download_button("下载简报 Markdown", lambda: fact_briefing.build(rows, compare=compare).markdown.encode("utf-8"),
                       f"事实简报-{stamp}.md", "text/markdown", on_click="ignore")  # fmt: skip
    _source(rows)
    if query.metric:
        _compare(rows)


def _filters() -> FactQuery:
    c1, c2, c3 = st.columns(3)
    text = c1.text_input("查找", placeholder="主体、指标、表格标题中的文字", key="facts_text")
    subject = c2.text_input("主体", placeholder="如 青岛市、齐鲁银行", key="facts_subject")
    metric = c3.text_input("指标", placeholder="如 受理终端、试点项目", key="facts_metric")
    d1, d2 = st.columns(2)
    since = d1.date_input("截至日期不早于", value=None, key="facts_since")
    until = d2.date_input("截至日期不晚于", value=None, key="facts_until")
    return FactQuery(subject=subject.strip(), metric=metric.strip(), text=text.strip(), since=_iso(since),
                     until=_iso(until))  # fmt: skip


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else None


def _row(r: SourcedFact) -> dict[str, str]:
    f = r.fact
    return {"": "≠" if r.conflict else "", "主体": f.subject, "指标": f.metric, "数值": figure(f),
            "截至": f.as_of or "日期不详", "文档": r.title}  # fmt: skip


def _label(r: SourcedFact) -> str:
    f = r.fact
    return f"{f.subject} · {f.metric} · {f.text}（{f.as_of or '日期不详'}）· {r.title}"


def _source(rows: list[SourcedFact]) -> None:
    """One chosen fact's source: the sentence with the figure highlighted, or the row under its header."""
    shown = rows
    i = st.selectbox("查看出处", range(len(shown)), format_func=lambda i: _label(shown[i]), index=None,
                     placeholder="选择一条事实，查看它的原句或表格行", key="facts_source")  # fmt: skip
    if i is None:
        return
    r = shown[i]
    f = r.fact
    date = f"（{r.doc_date}）" if r.doc_date else ""
    st.markdown(md_escape(f"《{r.title}》{date} · {Path(r.source).name}{recognised(r)}"))
    if f.source_kind == "cell" and f.header:
        st.table(row_table(f.header, r.quote))
        if f.caption:
            st.caption(md_escape(f.caption))
    else:
        at = f.value_start - f.start
        st.markdown(highlight(r.quote, [(at, at + len(f.text))]))


def _compare(rows: list[SourcedFact]) -> None:
    """The chosen metric's dated values: dates down, subjects across, each figure linked to its numbered source
    (hovering shows the quote), then the sources, and a chart."""
    table = comparison(rows)
    if len(table.dates) < 2:
        return
    numbers, _ = numbered(rows)
    st.markdown("**对比**（按截至日期；同一主体同一日期有多个数值时取最新文档中的第一个，详见上表）")
    header = tuple(map(md_escape, ("截至", *table.subjects)))
    body = [(md_escape(d), *(_linked(table.cells.get((d, s)), numbers) for s in table.subjects)) for d in table.dates]
    st.markdown("\n".join(table_md((header, *body), escaped=True)))
    st.subheader("对比出处", anchor="fact-sources", divider=False)
    used = {numbers[source_key(r)]: r for r in table.cells.values()}
    st.markdown("  \n".join(md_escape(f"[{n}] 《{r.title}》：“{r.quote}”") for n, r in sorted(used.items())))
    data = [{"截至": d, "主体": s, "数值": scaled(r.fact.value, r.fact.unit)}
            for (d, s), r in sorted(table.cells.items()) if r.fact.value is not None]  # fmt: skip
    st.line_chart(data, x="截至", y="数值", color="主体")


def _linked(r: SourcedFact | None, numbers: dict[SourceKey, int]) -> str:
    """A comparison cell: the escaped figure with its source number a link whose title is the quote."""
    if r is None:
        return ""
    n = numbers[source_key(r)]
    return f'{md_escape(figure(r.fact))}[\\[{n}\\]](#fact-sources "{title_escape(r.quote)}")'
