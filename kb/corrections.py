"""Corrections: a document that corrects a figure (……应更正为……, 由“571.8”更正为“591.8”) supersedes it everywhere.

Owns: the qualifiers the registry gives the figures of a correcting sentence (``CORRECTED`` before its marker,
``CORRECTION`` after it), pairing them in order, and ``supersede``: the facts as they stand once every correction
among them is applied — the figure a correction names (same subject, same value, in another document) is marked
``已更正`` and its correction takes its date and metric. Does not own: reading the sentence (``ingest.facts``) or how
an answer or a page shows the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from kb.entities import core
from kb.quantity import amount
from kb.records import Fact

CORRECTED = "已更正"  # a figure a correction says was wrong
CORRECTION = "更正后"  # the figure that replaces it
MARKER = re.compile(
    r"(?:应|已)?(?:更正|修正|订正|修改)为|应为|正确的?(?:数据|数字|数值)?应?为|相应调整为|有误[，,]?(?:应|实际)为"
)
# a figure the correcting sentence quotes as what was published (原通报所列336.2亿元), wherever it stands
_PUBLISHED = re.compile(r"原(?:通报|文|数据|报告|简报|文件|公告)?(?:中|所列|所载|所述|列|为|的)*$")


def qualifier(sentence: str, at: int) -> str:
    """The figure at ``sentence[at:]`` is the wrong one a correction quotes (before its marker), the right one
    (after it), or neither ("")."""
    m = MARKER.search(sentence)
    if m is None:
        return ""
    if _PUBLISHED.search(sentence[max(0, at - 8) : at]):
        return CORRECTED
    return CORRECTED if at < m.start() else CORRECTION


def _kind(f: Fact) -> str:
    """CORRECTED, CORRECTION or "" (the qualifier may go on: 更正后比年初增加)."""
    return next((k for k in (CORRECTED, CORRECTION) if f.qualifier.startswith(k)), "")


def _pairs(facts: Iterable[Fact]) -> list[tuple[Fact, Fact]]:
    """(wrong, right) of each correcting sentence, the k-th figure before the marker with the k-th after it."""
    sentences: dict[tuple[str, int], list[Fact]] = {}
    for f in facts:
        if _kind(f):
            sentences.setdefault((f.doc_id, f.start), []).append(f)
    pairs: list[tuple[Fact, Fact]] = []
    for group in sentences.values():
        ordered = sorted(group, key=lambda f: f.value_start)
        wrong = [f for f in ordered if _kind(f) == CORRECTED]
        right = [f for f in ordered if _kind(f) == CORRECTION]
        pairs += list(zip(wrong, right, strict=False))
    return pairs


def _names(f: Fact, wrong: Fact) -> bool:
    """``f`` is the figure ``wrong`` quotes: another document's, same value, same subject (by place)."""
    return (f.doc_id != wrong.doc_id and not _kind(f) and amount(f.value, f.unit) == amount(wrong.value, wrong.unit)
            and bool(f.subject) and core(f.subject) == core(wrong.subject))  # fmt: skip


def replacements(facts: list[Fact]) -> dict[tuple[str, int], Fact]:
    """Each figure a correction among ``facts`` names, by (document, where its figure stands) → the correcting
    figure, dated and named as the figure it replaces (for answers that quote the wrong figure's sentence)."""
    pairs = _pairs(facts)
    restated = _restated(facts, {id(r) for _, r in pairs})
    out: dict[tuple[str, int], Fact] = {}
    for f in facts:
        hit = _correction_of(f, pairs, restated)
        if hit is not None:
            out[(f.doc_id, f.value_start)] = replace(hit[1], as_of=f.as_of, as_of_text=f.as_of_text,
                                                     metric=f.metric or hit[1].metric)  # fmt: skip
    return out


def _restated(facts: Iterable[Fact], paired: set[int]) -> list[tuple[Fact, Fact]]:
    """(published, right) for each correcting figure that quotes no wrong one (全省…相应调整为2,378.9亿元): the other
    documents' figure of the same subject, metric and stated date it restates."""
    out: list[tuple[Fact, Fact]] = []
    rights = [f for f in facts if _kind(f) == CORRECTION and id(f) not in paired and f.as_of_text]
    for right in rights:
        for f in facts:
            if (not _kind(f) and f.doc_id != right.doc_id and f.as_of == right.as_of and bool(f.subject)
                    and core(f.subject) == core(right.subject) and _same_words(f.metric, right.metric)):  # fmt: skip
                out.append((f, right))
    return out


def _correction_of(f: Fact, pairs: list[tuple[Fact, Fact]], restated: list[tuple[Fact, Fact]]
                   ) -> tuple[Fact, Fact] | None:  # fmt: skip
    """(the wrong figure a correction quotes, or ``f`` itself when restated, the correction) for ``f``, or None."""
    return next(((w, r) for w, r in pairs if _names(f, w)), None) or next(((f, r) for p, r in restated if p is f),
                                                                          None)  # fmt: skip


# a correcting sentence's words around its figure, which say nothing of what it measures (…发放贷款正确数据为)
_NOT_MEASURE = re.compile(
    r"[（(][^（()）]*[)）]|累计|相应|调整|正确的?(?:数据|数字|数值)?|应?(?:更正|修正|订正)|有误|数据$"
)


def _same_words(a: str, b: str) -> bool:
    """Two metrics that name one thing once their unit notes and counting words are set aside."""
    x, y = (_NOT_MEASURE.sub("", m) for m in (a, b))
    return bool(x) and (x == y or x.endswith(y) or y.endswith(x)) and min(len(x), len(y)) >= 4


def supersede(facts: list[Fact], keep_wrong: bool = False) -> list[Fact]:
    """``facts`` with every correction among them applied: a figure a correction names is dropped (with
    ``keep_wrong``, kept and marked 已更正) and the correction's figure stands in its place, with its date and
    metric — once for each place the figure was stated (a sentence and a table row); a correction's own quote of
    the wrong figure is dropped once the figure it names is found."""
    pairs = _pairs(facts)
    restated = _restated(facts, {id(r) for _, r in pairs})
    out: list[Fact] = []
    placed: dict[int, list[Fact]] = {}
    found: set[int] = set()
    for f in facts:
        hit = _correction_of(f, pairs, restated)
        if hit is None:
            out.append(f)
            continue
        wrong, right = hit
        found.add(id(wrong))
        placed.setdefault(id(right), []).append(
            replace(right, as_of=f.as_of, as_of_text=f.as_of_text, metric=f.metric or right.metric)
        )
        if keep_wrong:
            out.append(replace(f, qualifier=CORRECTED + f.qualifier))
    wrong_ids = {id(w) for w, _ in pairs}
    kept = [f for f in out if id(f) not in found and (keep_wrong or id(f) not in wrong_ids)]
    return [g for f in kept for g in placed.get(id(f), [f])]
