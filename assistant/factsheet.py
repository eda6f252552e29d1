"""Facts for reading and checking: the registry's query with each fact's source, and disagreements marked.

Owns: turning ``KnowledgeBase.facts(FactQuery)`` into ``SourcedFact`` rows (title, date and file of the document,
the quote the fact stands in), marking facts that disagree with another of the same subject, metric and stated
date, numbering their sources (one number per sentence or row), a metric's comparison (dates down, subjects
across), a figure as it is written out (with its qualifier), and the Excel workbook of a set of facts. Used by
``pilotqa facts``, the 事实 page and its briefing. Does not own: the query itself (``kb.catalog.FactQuery``) or any
on-screen formatting.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.serialize import OCR_MARK
from assistant.series import amount, bare, is_change
from kb.catalog import FactQuery
from kb.corrections import CORRECTED, supersede
from kb.quantity import with_qualifier
from kb.records import Fact, SourcedFact
from kb.segment import normalize
from kb.store import KnowledgeBase
from kb.xlsx_io import write_xlsx

SourceKey = tuple[str, int, int]  # the sentence or row a fact stands in: (doc_id, start, end)


def lookup(kb: KnowledgeBase, query: FactQuery, limit: int | None = None) -> list[SourcedFact]:
    """The facts matching ``query`` (newest first, undated last), each with its source and quote; the first
    ``limit`` of them when given (disagreements are still judged among all that match)."""
    return sourced(kb, kb.facts(query), limit)


def sourced(kb: KnowledgeBase, facts: list[Fact], limit: int | None = None) -> list[SourcedFact]:
    """``facts`` (as the registry returned them) with their sources and quotes, the first ``limit`` when given;
    disagreements judged among all of them. A figure some document corrects stays, marked 已更正, beside the
    correction's figure in its place."""
    facts = corrected(kb, facts)
    disagree = conflicts(facts)
    shown = facts[:limit] if limit is not None else facts
    infos = kb.doc_infos([f.doc_id for f in shown]) if shown else {}
    quotes = kb.quotes([(f.doc_id, f.start, f.end) for f in shown])
    ocr = kb.recognised([f.doc_id for f in shown]) if shown else {}
    return [
        SourcedFact(f, info.title, info.date, info.source, quote, i in disagree,
                    any(a <= f.start and f.end <= b for a, b in ocr.get(f.doc_id, ())))
        for i, (f, quote) in enumerate(zip(shown, quotes, strict=True))
        for info in [infos.get(f.doc_id)] if info is not None
    ]  # fmt: skip


def corrected(kb: KnowledgeBase, facts: list[Fact]) -> list[Fact]:
    """``facts`` with every correction of the knowledge base applied: a corrected figure kept, marked 已更正, and the
    correcting figure after it with its date and metric; corrections of figures not among ``facts`` left out."""
    every = kb.facts(FactQuery(corrections=True))
    if not every:
        return facts  # nothing corrects anything: the common case costs one indexed query
    have = set(facts)
    extra = [c for c in every if c not in have]
    unchanged = {id(c) for c in extra}
    return [f for f in supersede(facts + extra, keep_wrong=True) if id(f) not in unchanged]


def conflicts(facts: list[Fact]) -> set[int]:
    """The indices of facts whose subject, metric and stated date another fact shares with a different value (a
    corrected figure disagrees with no one: its correction replaces it)."""
    groups: dict[tuple[str, str, str, bool, bool], list[int]] = defaultdict(list)
    for i, f in enumerate(facts):
        if f.as_of and f.as_of_text and f.value is not None and not f.qualifier.startswith(CORRECTED):
            # a level and its change (30.8亿元, 环比增长6.1%), or an amount and a share, never disagree
            kind = (is_change(f), "%" in f.unit or "百分点" in f.unit)
            groups[(normalize(f.subject), normalize(bare(f.metric)), f.as_of, *kind)].append(i)
    return {i for members in groups.values() if len({amount(facts[i]) for i in members}) > 1 for i in members}


def figure(f: Fact) -> str:
    """The figure as written, its qualifier where the text had it (超过100万张, 80人左右)."""
    return with_qualifier(f.text, f.qualifier)


def record(r: SourcedFact) -> dict[str, object]:
    """One fact as the command line's JSON and CSV and the service write it (``document.text[start:end] == quote``;
    the keys are ``RECORD_KEYS``)."""
    f = r.fact
    return {
        "subject": f.subject, "metric": f.metric, "value": f.value, "unit": f.unit, "qualifier": f.qualifier,
        "text": f.text, "as_of": f.as_of, "as_of_text": f.as_of_text, "doc_id": f.doc_id, "title": r.title,
        "source": r.source, "quote": r.quote, "start": f.start, "end": f.end, "conflict": r.conflict, "ocr": r.ocr,
    }  # fmt: skip


RECORD_KEYS = ("subject", "metric", "value", "unit", "qualifier", "text", "as_of", "as_of_text", "doc_id", "title",
               "source", "quote", "start", "end", "conflict", "ocr")  # fmt: skip


def recognised(r: SourcedFact) -> str:
    """What follows a fact's file name where its quote was recognised from an image: （识别文字）, else ""."""
    return f"（{OCR_MARK}）" if r.ocr else ""


def source_key(r: SourcedFact) -> SourceKey:
    return (r.fact.doc_id, r.fact.start, r.fact.end)


def numbered(rows: Sequence[SourcedFact]) -> tuple[dict[SourceKey, int], list[SourcedFact]]:
    """One number per source sentence or row, in the order the rows first cite it, and those sources in order."""
    numbers: dict[SourceKey, int] = {}
    sources: list[SourcedFact] = []
    for r in rows:
        if source_key(r) not in numbers:
            numbers[source_key(r)] = len(numbers) + 1
            sources.append(r)
    return numbers, sources


@dataclass(frozen=True)
class Comparison:
    """A metric's figures with dates down and subjects across: each cell the first (newest report's) fact of that
    date and subject."""

    dates: list[str]
    subjects: list[str]
    cells: dict[tuple[str, str], SourcedFact]


def comparison(rows: Sequence[SourcedFact]) -> Comparison:
    cells: dict[tuple[str, str], SourcedFact] = {}
    for r in rows:
        if r.fact.as_of:
            cells.setdefault((r.fact.as_of, r.fact.subject), r)
    return Comparison(sorted({d for d, _ in cells}), sorted({s for _, s in cells}), cells)


def workbook(rows: list[SourcedFact], now: dt.datetime | None = None) -> bytes:
    """The facts shown as an Excel workbook: 事实 (one row a fact, its 资料来源 number) and 资料来源 (each source
    once, with its quote); both say the newest 截至 date and the export time."""
    now = now or dt.datetime.now()
    dated = [r.fact.as_of for r in rows if r.fact.as_of]
    note = (f"资料截至 {max(dated)}；" if dated else "") + f"导出时间 {now.strftime('%Y-%m-%d %H:%M')}"
    numbers, sources = numbered(rows)
    facts = [
        [r.fact.subject, r.fact.metric, r.fact.value, r.fact.unit, figure(r.fact), r.fact.as_of or "日期不详",
         r.fact.as_of_text, "≠" if r.conflict else "", r.title, f"[{numbers[source_key(r)]}]"]
        for r in rows
    ]  # fmt: skip
    cited = [[f"[{n}]", r.title, r.doc_date or "", Path(r.source).name + recognised(r), r.quote]
             for n, r in enumerate(sources, 1)]  # fmt: skip
    return write_xlsx([
        ("事实", note, FACT_COLUMNS, facts),
        ("资料来源", note, ("编号", "文档", "日期", "文件", "原句或表格行"), cited),
    ])  # fmt: skip


FACT_COLUMNS = ("主体", "指标", "数值", "单位", "原文数值", "截至", "日期原文", "不一致", "文档", "资料来源")
