"""Facts for reading and checking: the registry's query with each fact's source, and disagreements marked.

Owns: turning ``KnowledgeBase.facts(FactQuery)`` into ``SourcedFact`` rows (title, date and file of the document,
the quote the fact stands in), marking facts that disagree with another of the same subject, metric and stated
date, and the Excel workbook of a set of facts. Used by ``pilotqa facts`` and the 事实 page. Does not own: the
query itself (``kb.catalog.FactQuery``) or any on-screen formatting.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from kb.catalog import FactQuery
from kb.quantity import scaled
from kb.records import Fact, SourcedFact
from kb.segment import normalize
from kb.store import KnowledgeBase
from kb.xlsx_io import write_xlsx


def lookup(kb: KnowledgeBase, query: FactQuery, limit: int | None = None) -> list[SourcedFact]:
    """The facts matching ``query`` (newest first, undated last), each with its source and quote; the first
    ``limit`` of them when given (disagreements are still judged among all that match)."""
    facts = kb.facts(query)
    disagree = conflicts(facts)
    shown = facts[:limit] if limit is not None else facts
    infos = kb.doc_infos([f.doc_id for f in shown]) if shown else {}
    quotes = kb.quotes([(f.doc_id, f.start, f.end) for f in shown])
    return [
        SourcedFact(f, info.title, info.date, info.source, quote, i in disagree)
        for i, (f, quote) in enumerate(zip(shown, quotes, strict=True))
        for info in [infos.get(f.doc_id)] if info is not None
    ]  # fmt: skip


def conflicts(facts: list[Fact]) -> set[int]:
    """The indices of facts whose subject, metric and stated date another fact shares with a different value."""
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, f in enumerate(facts):
        if f.as_of and f.as_of_text and f.value is not None:
            groups[(normalize(f.subject), _metric(f.metric), f.as_of)].append(i)
    out: set[int] = set()
    for members in groups.values():
        if len({round(scaled(facts[i].value or 0.0, facts[i].unit), 6) for i in members}) > 1:
            out.update(members)
    return out


def _metric(metric: str) -> str:
    """A metric without its unit note (刷脸付受理终端（台） and 刷脸付受理终端 are one metric)."""
    return normalize(metric.split("（")[0].split("(")[0])


def workbook(rows: list[SourcedFact], now: dt.datetime | None = None) -> bytes:
    """The facts shown as an Excel workbook: 事实 (one row a fact, its 资料来源 number) and 资料来源 (each source
    once, with its quote); both say the newest 截至 date and the export time."""
    now = now or dt.datetime.now()
    dated = [r.fact.as_of for r in rows if r.fact.as_of]
    note = (f"资料截至 {max(dated)}；" if dated else "") + f"导出时间 {now.strftime('%Y-%m-%d %H:%M')}"
    numbers: dict[tuple[str, int, int], int] = {}
    for r in rows:
        numbers.setdefault((r.fact.doc_id, r.fact.start, r.fact.end), len(numbers) + 1)
    key = {id(r): numbers[(r.fact.doc_id, r.fact.start, r.fact.end)] for r in rows}
    facts = [
        [r.fact.subject, r.fact.metric, r.fact.value, r.fact.unit, _figure(r.fact), r.fact.as_of or "日期不详",
         r.fact.as_of_text, "≠" if r.conflict else "", r.title, f"[{key[id(r)]}]"]
        for r in rows
    ]  # fmt: skip
    seen: dict[int, SourcedFact] = {}
    for r in rows:
        seen.setdefault(key[id(r)], r)
    sources = [[f"[{n}]", r.title, r.doc_date or "", Path(r.source).name, r.quote] for n, r in seen.items()]
    return write_xlsx([
        ("事实", note, FACT_COLUMNS, facts),
        ("资料来源", note, ("编号", "文档", "日期", "文件", "原句或表格行"), sources),
    ])  # fmt: skip


FACT_COLUMNS = ("主体", "指标", "数值", "单位", "原文数值", "截至", "日期原文", "不一致", "文档", "资料来源")


def _figure(f: Fact) -> str:
    return f"{f.qualifier}{f.text}" if f.qualifier and f.qualifier not in f.text else f.text
