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

from kb.places import core
from kb.quantity import amount
from kb.records import CORRECTED, CORRECTION, Fact
from kb.wording import canonical

MARKER = re.compile(r"(?:应|已)?(?:更正|修正|订正)为|应为|正确的?(?:数据|数字|数值)?应?为|有误[，,]?(?:应|实际)为")
_NOTICE_TITLE = re.compile(r"更正|勘误|修正|订正|有误")
MIN_TAIL = 6  # a metric cut short (…用示范项目授信额度) matches the whole one it ends; 授信额度 alone is too short
# words that correct only in a document that corrects (修改为 and 调整为 are ordinary policy wording elsewhere)
_IN_A_NOTICE = re.compile(r"相应调整为|修改为")
# a figure the correcting sentence quotes as what was published (原通报所列336.2亿元), wherever it stands
_AS_PUBLISHED = r"原(?:通报|文|数据|报告|简报|文件|公告)?(?:中|所列|所载|所述|列|误|的)*"
_PUBLISHED = re.compile(rf"{_AS_PUBLISHED}为?$")
# what a correcting sentence says in place of a metric: 原文误为 (the figure as published) …
AS_PUBLISHED = re.compile(rf"^{_AS_PUBLISHED}$")
# … and 应为 / 相应调整为 after the metric of the right one (授信余额应为: 授信余额)
CORRECTING = re.compile(r"(?:应|相应)?(?:调整|修改|更正|修正|订正)$|应$")


def corrects(title: str, text: str) -> bool:
    """The document corrects figures: its title says so (…更正说明, 勘误), or a sentence does (应更正为, 正确数据为)."""
    return _NOTICE_TITLE.search(title) is not None or MARKER.search(text) is not None


def qualifier(sentence: str, at: int, notice: bool = False) -> str:
    """The figure at ``sentence[at:]`` is the wrong one a correction quotes (before its marker, or quoted as
    published: 原通报所列…), the right one (after it), or neither (""); ``notice``: the sentence's document corrects
    figures, where 相应调整为 corrects too."""
    m = MARKER.search(sentence) or (_IN_A_NOTICE.search(sentence) if notice else None)
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
    index = _Index(facts)
    out: dict[tuple[str, int], Fact] = {}
    for f in facts:
        hit = index.correction_of(f)
        if hit is not None:
            out[(f.doc_id, f.value_start)] = _placed(hit[1], f)
    return out


def _placed(right: Fact, published: Fact) -> Fact:
    """The correcting figure standing where ``published`` stood: its date and metric."""
    return replace(right, as_of=published.as_of, as_of_text=published.as_of_text,
                   metric=published.metric or right.metric)  # fmt: skip


class _Index:
    """The corrections among some facts, found by the figure they name: (value, place) → (wrong quote, right), and
    the published figures a correction restates without quoting them."""

    def __init__(self, facts: list[Fact]) -> None:
        self.pairs = _pairs(facts)
        self.by_figure: dict[tuple[float | None, str], list[tuple[Fact, Fact]]] = {}
        for w, r in self.pairs:
            self.by_figure.setdefault((amount(w.value, w.unit), core(w.subject)), []).append((w, r))
        self.restated = {id(p): (p, r) for p, r in _restated(facts, {id(r) for _, r in self.pairs})}

    def correction_of(self, f: Fact) -> tuple[Fact, Fact] | None:
        """(the wrong figure a correction quotes, or ``f`` itself when restated, the correction) for ``f``."""
        if f.subject:
            for w, r in self.by_figure.get((amount(f.value, f.unit), core(f.subject)), ()):
                if _names(f, w):
                    return w, r
        return self.restated.get(id(f))


def _restated(facts: list[Fact], paired: set[int]) -> list[tuple[Fact, Fact]]:
    """(published, right) for each correcting figure that quotes no wrong one (全省…相应调整为2,378.9亿元): the other
    documents' different figure of the same subject, metric and stated date."""
    rights = [f for f in facts if _kind(f) == CORRECTION and id(f) not in paired and f.as_of_text]
    if not rights:
        return []
    by_day: dict[tuple[str | None, str], list[Fact]] = {}
    for right in rights:
        by_day.setdefault((right.as_of, core(right.subject)), []).append(right)
    days = {day for day, _ in by_day}
    out: list[tuple[Fact, Fact]] = []
    for f in facts:
        if f.as_of not in days or _kind(f) or not f.subject:
            continue
        for right in by_day.get((f.as_of, core(f.subject)), ()):
            if (f.doc_id != right.doc_id and amount(f.value, f.unit) != amount(right.value, right.unit)
                    and _same_words(f.metric, right.metric)):  # fmt: skip
                out.append((f, right))
    return out


# a correcting sentence's words around its figure, which say nothing of what it measures (…发放贷款正确数据为), and a
# metric's own-place start (全省)
_NOT_MEASURE = re.compile(
    r"[（(][^（()）]*[)）]|累计|相应|调整|正确的?(?:数据|数字|数值)?|应?(?:更正|修正|订正)|有误|数据$|^[我本全][省市区县]"
)


def _same_words(a: str, b: str) -> bool:
    """Two metrics that name one thing once their unit notes and counting words are set aside (never a total
    and a part of it: 授信额度 and 涉农授信额度 differ)."""
    x, y = (_NOT_MEASURE.sub("", canonical(m)) for m in (a, b))
    short, long = sorted((x, y), key=len)
    return len(short) >= 2 and (x == y or (len(short) >= MIN_TAIL and long.endswith(short)))


def supersede(facts: list[Fact], keep_wrong: bool = False) -> list[Fact]:
    """``facts`` with every correction among them applied: a figure a correction names is dropped (with
    ``keep_wrong``, kept, marked 已更正, with the correction right after it) and the correction's figure stands in
    its place, with its date and metric — once for each place the figure was stated (a sentence and a table row);
    a correction's own quote of the wrong figure is dropped once the figure it names is found."""
    index = _Index(facts)
    out: list[Fact] = []
    placed: dict[int, list[Fact]] = {}
    found: set[int] = set()
    for f in facts:
        hit = index.correction_of(f)
        if hit is None:
            out.append(f)
            continue
        wrong, right = hit
        found.add(id(wrong))
        if keep_wrong:
            out += [replace(f, qualifier=CORRECTED + f.qualifier), _placed(right, f)]
            placed.setdefault(id(right), [])
        else:
            placed.setdefault(id(right), []).append(_placed(right, f))
    wrong_ids = {id(w) for w, _ in index.pairs}
    kept = [f for f in out if id(f) not in found and (keep_wrong or id(f) not in wrong_ids)]
    return [g for f in kept for g in placed.get(id(f), [f])]
