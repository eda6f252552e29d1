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
from kb.records import Document, Fact, SourcedFact
from kb.segment import normalize
from kb.store import KnowledgeBase


def lookup(kb: KnowledgeBase, query: FactQuery) -> list[SourcedFact]:
    """The facts matching ``query`` (newest first, undated last), each with its source and quote."""
    facts = kb.facts(query)
    docs: dict[str, Document | None] = {}
    rows = []
    for f in facts:
        if f.doc_id not in docs:
            docs[f.doc_id] = kb.document(f.doc_id)
        doc = docs[f.doc_id]
        if doc is not None:
            rows.append(SourcedFact(f, doc.title, doc.date, doc.source, doc.text[f.start : f.end]))
    disagree = conflicts([r.fact for r in rows])
    return [SourcedFact(r.fact, r.title, r.doc_date, r.source, r.quote, i in disagree) for i, r in enumerate(rows)]


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
