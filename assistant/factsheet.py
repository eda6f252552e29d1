"""Facts for reading and checking: the registry's query with each fact's source, and disagreements marked.

Owns: turning ``KnowledgeBase.facts(FactQuery)`` into ``SourcedFact`` rows (title, date and file of the document,
the quote the fact stands in) and marking facts that disagree with another of the same subject, metric and stated
date. Used by ``pilotqa facts`` (and the facts page, exports and API to come). Does not own: the query itself
(``kb.catalog.FactQuery``) or any formatting.
"""

from __future__ import annotations

from collections import defaultdict

from kb.catalog import FactQuery
from kb.quantity import scaled
from kb.records import Fact, SourcedFact
from kb.segment import normalize
from kb.store import KnowledgeBase


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
