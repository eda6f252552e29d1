"""Figures that refer back to figures before them: 这两项数据分别为986家和33.57亿元.

Owns: reading "分别为 A 和 B" after figures of the same units — each figure after it is the earlier figure's
subject and metric, at its own date (去年底，这两项数据分别为…: last year's values of the two just given). Does not
own: finding the figures or their dates (``ingest.facts``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from kb.records import Fact

# 这两项数据分别为, 上述指标分别为, 两项分别为: what follows restates the figures named just before
_RESPECTIVELY = re.compile(
    r"(?:(?:这|上述|以上|前述)[两二三四]?[项个]?|[两二三四][项个])(?:数据|指标|数字|数值)?分别(?:为|是|达到?)"
)  # (not 甲市、乙市分别为…, the places' own figures)


def restating(sentence: str) -> bool:
    """The sentence restates the figures before it at another date (去年底，这两项数据分别为…): its date is theirs
    then, and counts no figure after it."""
    return _RESPECTIVELY.search(sentence) is not None


def respective(facts: list[Fact], sentence: str, start: int, last: list[Fact]) -> list[Fact]:
    """``facts`` of the sentence at ``start``, those after a 分别为 given the subjects and metrics of as many figures
    before it (in it, else in the sentence before, ``last``), in order, where their units agree one by one; else
    as they are."""
    m = _RESPECTIVELY.search(sentence)
    if m is None:
        return facts
    at, said = start + m.end(), start + m.start()
    ends = _CLAUSE_END.search(sentence, m.end())
    until = start + (ends.start() if ends else len(sentence))
    after = [f for f in facts if at <= f.value_start < until]
    before = [f for f in facts if f.value_start < said and not f.qualifier]
    before = before if len(before) >= len(after) else [f for f in last if not f.qualifier]
    if not after or len(before) < len(after):
        return facts
    earlier = before[-len(after) :]
    if any(a.unit != b.unit for a, b in zip(after, earlier, strict=True)):
        return facts
    named = {id(a): replace(a, subject=b.subject, metric=b.metric) for a, b in zip(after, earlier, strict=True)}
    # 这两项: a reference to the figures, no figure of its own
    return [named.get(id(f), f) for f in facts if not said <= f.value_start < at]


_CLAUSE_END = re.compile(r"[，；。;]")
