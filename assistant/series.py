"""A fact's series: the figures of one subject and metric over time, and how an answer says them.

Owns: what a scored fact is (``Scored``), when two facts report the same thing (one subject, one metric, in the
wording lexicon's forms) at possibly different dates, which of them stand beside an answer's figure (the same
day's from other reports, the older ones, the undated ones), the names a list question gets, and how a figure is
said with its date. Does not own: scoring facts against a question or choosing the lead (``assistant.facts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb import quantity
from kb.entities import named
from kb.places import core, same_place
from kb.quantity import CHANGE_ASKED, change, with_qualifier
from kb.records import Fact, Hit
from kb.segment import normalize
from kb.wording import LIGHT_VERB, canonical

MAX_OLDER = 2  # older different figures mentioned beside the newest
SERIES_GAP = 0.2  # facts of the lead's series within this much of its score are its newer and older figures


@dataclass(frozen=True)
class Scored:
    fact: Fact
    score: float
    hit: Hit  # a retrieved chunk of the fact's document: its title, date and file
    subject: float  # how much of its subject the question names (1: all of it)
    rest: float  # how much of what the question says beyond the metric its subject holds
    near: bool  # its sentence or row is one of those the rules rank best


_UNIT_NOTE = re.compile(r"[（(][^（()）]{1,6}[)）]$")


def bare(metric: str) -> str:
    """A metric without the unit note it may carry (刷脸付受理终端（台） → 刷脸付受理终端)."""
    return _UNIT_NOTE.sub("", metric).strip()


# what a metric says its figure is of before what it measures: the projects (试点项目) whose loans are counted
_OF_PROJECTS = re.compile(r"^[\u4e00-\u9fff]*?项目的?([\u4e00-\u9fff]{2,})$")


def is_change(f: Fact) -> bool:
    """The figure is a change against a base (较上年末增加75.8亿元; a cell under 同比增长), not a level."""
    return bool(change(f.qualifier, len(f.qualifier))) or (
        f.source_kind == "cell" and bool(CHANGE_ASKED.search(f.metric))
    )


# what a change is measured against: the same period a year before, the period before, or the year's start
_BASES = (
    ("同比", re.compile(r"同比|比上年同期|较上年同期")),
    ("环比", re.compile(r"环比|比上季|较上季|比上月|较上月")),
    ("年初", re.compile(r"(?:较|比)(?:年初|上年末|去年末|上年底|去年底)")),
)


def change_base(text: str) -> str:
    """Which base a change (asked or stated) is against: 同比, 环比, 年初 (较上年末 is the year's start), or ""."""
    return next((name for name, pattern in _BASES if pattern.search(text)), "")


# a period's new figure (一季度新增放款, 当年新增): a flow of that period, not the level reached
_FLOW = re.compile(r"^(?:[一二三四]季度|上半年|下半年|前三季度|当年|全年|本年|今年|年内|当季|当月|去年|上年)?新增")


def flow(f: Fact) -> bool:
    """The fact is a period's new figure (新增服务0.36万户), not the level reached."""
    return bool(_FLOW.match(bare(f.metric)))


def flow_asked(question: str) -> bool:
    return "新增" in question or "新发放" in question


def same_head(a: Fact, b: Fact) -> bool:
    """Two figures of one subject whose metrics name one thing by their head, whatever words stand before it
    (全市普惠贷款项目累计放款 and 项目累计放款: 累计放款)."""
    x, y = normalize(bare(a.metric)), normalize(bare(b.metric))
    same_subject = bool(a.subject) and core(a.subject) == core(b.subject)
    return same_subject and len(x) >= 4 and len(y) >= 4 and x[-4:] == y[-4:] and is_change(a) == is_change(b)


def same_series(a: Fact, b: Fact) -> bool:
    """Two facts that answer the question about equally well report the same figure at possibly different dates:
    their subjects name the same place or institution (青岛市 9项, 青岛市 12个; not 山东省 33), or, where either
    names none, their metrics are the same words (刷脸付受理终端, 刷脸付受理终端（台）)."""
    if a.subject == b.subject:
        return True
    named_a, named_b = named(a.subject), named(b.subject)
    if named_a and named_b:  # 湖北 and 湖北省 are one place
        a_name, b_name = named_a[0], named_b[0]
        if a_name.kind == b_name.kind == "place":
            return same_place(a_name.name, b_name.name)
        return a_name.name == b_name.name
    shorter, longer = sorted((a.subject, b.subject), key=len)
    if len(shorter) >= MIN_NAME and shorter in longer:  # a table's project name, the sentence's 某行牵头的“…”项目
        return canonical(normalize(bare(a.metric))) == canonical(normalize(bare(b.metric)))
    if any(n.kind == "place" for n in (*named_a, *named_b)):
        return False  # a place's figure is no section's nor another subject's (河南省 试点项目 ≠ a heading's 试点项目)
    return normalize(bare(a.metric)) == normalize(bare(b.metric))


MIN_NAME = 4  # a subject this long inside another names the same project (two characters may be any word's)


GROUP_WORDS = ("同期另一出处为", "此前为", "另一出处为")  # before the same day's, the older and the undated figures


def older(lead: Scored, dated: list[Scored]) -> list[Scored]:
    """Earlier dated figures of the series that differ from the lead's, newest first."""
    return _differing(lead, [s for s in dated if s.fact.as_of and lead.fact.as_of and s.fact.as_of < lead.fact.as_of])


def same_day(lead: Scored, dated: list[Scored]) -> list[Scored]:
    """Figures of the same thing on the lead's own date in other documents that differ from it: never merged."""
    f = lead.fact
    return _differing(lead, [s for s in dated if s is not lead and f.as_of and s.fact.as_of == f.as_of
                             and s.fact.doc_id != f.doc_id and same_metric(s.fact, f)])  # fmt: skip


def same_metric(a: Fact, b: Fact) -> bool:
    """Two reports count the same thing at a date each states (刷脸付受理终端 and 刷脸付受理终端（台）, both
    截至2021年末; 服务市场主体 and 累计服务市场主体, in the wording lexicon's forms): not a total and a part of it
    (试点项目, 省级试点项目), nor two figures dated only by their documents."""
    x, y = (LIGHT_VERB.sub("", of_projects(canonical(normalize(bare(m.metric))))) for m in (a, b))
    return bool(x) and x == y and bool(a.as_of_text) and bool(b.as_of_text)


def of_projects(metric: str) -> str:
    owned = _OF_PROJECTS.match(metric)
    return owned.group(1) if owned else metric


def undated(lead: Scored, dated: list[Scored]) -> list[Scored]:
    """Figures of the series with no known date that differ from the lead's, shown after every dated one."""
    return _differing(lead, [s for s in dated if s.fact.as_of is None and lead.fact.as_of])


def _differing(lead: Scored, candidates: list[Scored]) -> list[Scored]:
    """Up to ``MAX_OLDER`` of ``candidates`` in order, each with a value the lead and those before it do not have."""
    out: list[Scored] = []
    seen = {amount(lead.fact)}
    for s in candidates:
        value = amount(s.fact)
        if value is not None and value not in seen:
            out.append(s)
            seen.add(value)
    return out[:MAX_OLDER]


def amount(f: Fact) -> float | None:
    """The fact's figure as a plain value (万/亿 in its unit applied), for telling figures apart."""
    return quantity.amount(f.value, f.unit)


MOST = re.compile(r"最(多|大|高|快|长|少|小|低|慢|短)")  # a superlative asked: figures compare, names do not
PLURAL = re.compile(r"哪些|哪几|分别")  # a question asking every one (哪几家银行牵头), not the one


def named_beside(lead: Scored, found: list[Scored]) -> list[Scored]:
    """The other names its document gives for the lead name's metric, as well matched (the rows of a city's
    projects led by 甲银行 and 乙银行; the question's place stands in each row): a list question's other answers."""
    f = lead.fact
    if f.value is not None:
        return []
    peers = [s for s in found if s.fact.value is None and s.fact.doc_id == f.doc_id and s.fact.metric == f.metric
             and s.score >= lead.score]  # fmt: skip
    return list({s.fact.text: s for s in reversed(peers) if s.fact.text != f.text}.values())[::-1]


def said(f: Fact, beside_dated: bool = False, quote: str = "") -> str:
    """A figure as the answer states it: 4821台（截至2020年9月3日）, 652（文史/历史类最低 · 法学）; one of no known
    date said beside dated ones as 超过100万张（日期不详）."""
    if f.source_kind == "cell":
        if f.as_of_text and f.as_of_text in f.header:  # a column of dated figures: 5120台（2020年末）
            unit = f.unit if f.value is not None and not f.text.endswith(f.unit) else ""
            if unit[:1] in ("万", "亿"):  # 158.4（万张，2021年末）: the cell's own figure, its unit beside it
                return f"{f.text}（{unit}，{f.as_of_text}）"
            return f"{f.text}{unit}（{f.as_of_text}）"
        return f"{f.text}（{f.metric} · {f.subject}）" if f.metric else f"{f.text}（{f.subject}）"
    # a date stated earlier in its section (not in the quote) is the fact's, but the answer says only what it quotes
    stated = f.as_of_text and (not quote or f.as_of_text in quote)
    when = f.as_of_text.removeprefix("截止").removeprefix("截至").strip() if stated else ""
    text = with_qualifier(f.text, f.qualifier)
    if when:
        return f"{text}（截至{when}）"
    return f"{text}（日期不详）" if beside_dated and not f.as_of else text
