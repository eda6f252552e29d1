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
MARKER = re.compile(r"(?:应|已)?(?:更正|修正|订正)为|应为")


def qualifier(sentence: str, at: int) -> str:
    """The figure at ``sentence[at:]`` is the wrong one a correction quotes (before its marker), the right one
    (after it), or neither ("")."""
    m = MARKER.search(sentence)
    if m is None:
        return ""
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
    out: dict[tuple[str, int], Fact] = {}
    for f in facts:
        hit = next(((w, r) for w, r in pairs if _names(f, w)), None)
        if hit is not None:
            out[(f.doc_id, f.value_start)] = replace(hit[1], as_of=f.as_of, as_of_text=f.as_of_text,
                                                     metric=f.metric or hit[1].metric)  # fmt: skip
    return out


def supersede(facts: list[Fact], keep_wrong: bool = False) -> list[Fact]:
    """``facts`` with every correction among them applied: a figure a correction names is dropped (with
    ``keep_wrong``, kept and marked 已更正) and the correction's figure takes its date and metric; a correction's
    own quote of the wrong figure is dropped once the figure it names is found."""
    pairs = _pairs(facts)
    out: list[Fact] = []
    dated: dict[int, Fact] = {}
    found: set[int] = set()
    for f in facts:
        hit = next(((w, r) for w, r in pairs if _names(f, w)), None)
        if hit is None:
            out.append(f)
            continue
        wrong, right = hit
        found.add(id(wrong))
        dated[id(right)] = replace(right, as_of=f.as_of, as_of_text=f.as_of_text, metric=f.metric or right.metric)
        if keep_wrong:
            out.append(replace(f, qualifier=CORRECTED + f.qualifier))
    wrong_ids = {id(w) for w, _ in pairs}
    return [dated.get(id(f), f) for f in out if id(f) not in found and (keep_wrong or id(f) not in wrong_ids)]
