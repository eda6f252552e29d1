"""Key facts: what a sentence states that answers a question of a given type.

Owns: the patterns for dates, quantities with their units and ranges, enumerations,
institutions and titled persons; how well a sentence fits a question type; and
pulling the fact to lead an answer with (4821台, 2020年9月10日, a list of banks) out of
the sentences the answerer chose. Does not own: choosing or scoring sentences
(``assistant.extract``) or reading numerals and units (``kb.quantity``).
"""

from __future__ import annotations

import re
from itertools import pairwise

from assistant import question as qn
from kb.entities import named
from kb.quantity import Quantity, counted_in, quantities, unit_end
from kb.segment import normalize

_DATE = re.compile(
    r"(?:(?:19|20)\d{2}年(?:（[^）]{1,8}）)?)?\d{1,2}月(?:\d{1,2}[日号]|[上中下]旬|末|底|初)?|(?:19|20)\d{2}年(?:[上下]半年|末|底|初)?"
)
_DAY_END = re.compile(r"\d{1,2}[日号]")  # a period's far end within its month (11月20日至30日)
_ORG = re.compile(r"[\u4e00-\u9fff]{1,10}?(?:银行|农商行|农联社|分行|支行|公司|集团|部门|委员会|厅|局|署|中心)")
ENUM = re.compile(r"(?:[\u4e00-\u9fffA-Za-z0-9]{1,14}、)+[\u4e00-\u9fffA-Za-z0-9]{1,14}?(?=等|和|及|与|[,，。；]|$)")
_PERSON = re.compile(r"(?:行长|副行长|主任|局长|厅长|董事长|总经理|书记|主席|部长|教授|院长)([\u4e00-\u9fff]{2,3})")
# where a clause runs into or out of a list; not inside 有限公司, 华为 or 在线
_CUT = re.compile(r"[于是括：:]|在(?!线)|有(?!限)|(?<!华)为|(?<![自经理])由")
_BREAKS = ("，", ",", "；", ";", "。", "：", ":")  # clause breaks (、 joins items, it does not break)
_NEGATION = re.compile(r"没有|未|不|无|尚未")
_FIT_KINDS = {qn.QUANTITY, qn.TIME, qn.INSTITUTION, qn.PERSON, qn.LIST}
# How well a sentence whose figures are all in another unit fits a how-many question (of 1; no figure: 0). Set with
# the type-fit weight on the cmrc trial set; not swept since.
OTHER_UNIT_FIT = 0.6
# A yes/no question is answered 是/否 only when the sentence holds this share of the question's weight; below it the
# sentence is quoted without a verdict (chinesesquad2's yes/no questions: a lower share said 是 of unrelated text).
YESNO_MIN_COVERAGE = 0.8


def fit(q: qn.Question, text: str) -> float:
    """How well a sentence's content fits the question type (0..1)."""
    if q.kind not in _FIT_KINDS:
        return 0.5
    if q.kind == qn.QUANTITY:
        found = _amounts(text)
        if not found:
            return 0.0
        return 1.0 if not q.unit or any(_has_unit(text, x, q.unit) for x in found) else OTHER_UNIT_FIT
    if q.kind == qn.TIME:
        return 1.0 if _DATE.search(text) else 0.0
    if q.kind == qn.PERSON:
        return 1.0 if _PERSON.search(text) else 0.2
    return 1.0 if (ENUM.search(text) or _ORG.search(text)) else 0.2


def _amounts(text: str) -> list[Quantity]:
    """The quantities of ``text`` that are not parts of a date (2020 in 2020年)."""
    return [x for x in quantities(text) if text[x.end : x.end + 1] not in ("年", "月", "日")]


def key_fact(q: qn.Question, texts: list[str], anchors: tuple[str, ...] = (), coverage: float = 0.0) -> str:
    """The fact to lead with, copied from the best sentence (``texts[0]``; a list may go on in the
    others), or "" when there is none. ``anchors``: the question's own words; ``coverage``: how much
    of the question the best sentence holds (a yes/no answer needs nearly all of it)."""
    text = texts[0]
    if q.kind == qn.QUANTITY:
        return _quantity(q, text)
    if q.kind == qn.TIME:
        return _date(q, text, anchors)
    if q.kind == qn.PERSON:
        m = _PERSON.search(text)
        return m.group(1) if m else ""
    if q.kind is qn.INSTITUTION and (doer := _doer(q.text, text)):
        return doer
    if q.kind in (qn.LIST, qn.INSTITUTION):
        lists = [enum_items(t, anchors) for t in texts]
        # a list goes on in the next sentence only as a list of the same kind (names after names)
        kept = [items for items in lists if lists[0] and _names(items) == _names(lists[0])] or lists
        return "、".join(dict.fromkeys(i for items in kept for i in items))
    if q.kind == qn.YESNO and coverage >= YESNO_MIN_COVERAGE:
        return "否" if _NEGATION.search(text) else "是"
    return ""


_DEED = re.compile(qn.ORG_DEEDS)
_LIST_JOINS = ("、", "和", "及", "与")


def _clause(text: str, at: int) -> str:
    """The clause of ``text`` up to ``at`` (from the last break before it)."""
    return text[max(text.rfind(p, 0, at) for p in _BREAKS) + 1 : at]


def _doer(question: str, text: str) -> str:
    """The institution ``text`` says does what ``question`` asks who does (是谁牵头的: 甲银行牵头的“…”项目; 由乙银行
    承建; 甲银行和乙银行联合牵头: both), or "" when the sentence says no such deed, says it of two different
    clauses' institutions, or of a list (read as a list)."""
    deed = _DEED.search(question)
    if deed is None:
        return ""
    doers = {_doers(_clause(text, m.start())) for m in re.finditer(deed.group(0), text)} - {""}
    return doers.pop() if len(doers) == 1 else ""


def _doers(before: str) -> str:
    """The institutions that end ``before`` (the words before a deed), joined by 和/及/与 alone: 甲银行和乙银行
    (联合), or "" (none, or a list with 、, read as a list)."""
    orgs = [n for n in named(before) if n.kind == "org"]
    if not orgs or re.fullmatch(r"(?:联合|共同)?", before[orgs[-1].end :]) is None:
        return ""
    joined = [orgs[-1]]
    for a in reversed(orgs[:-1]):
        between = before[a.end : joined[0].start]
        if between == "、":
            return ""
        if between not in _LIST_JOINS:
            break
        joined.insert(0, a)
    return "" if "、" in before[: joined[0].start][-1:] else "、".join(n.name for n in joined)


def enum_items(text: str, anchors: tuple[str, ...] = ()) -> list[str]:
    """The items of the first enumeration (甲、乙、丙) in ``text`` whose clause names one of ``anchors``
    (any enumeration when there are none), cut at word boundaries."""
    m = next((m for m in ENUM.finditer(text) if not anchors or _named(text, m, anchors)), None)
    if not m:
        return _pair(text)
    items = [i for i in re.sub(r"^(?:如|例如|包括)[,，]?", "", m.group(0)).split("、") if i]
    before = text[m.start() - 1] if m.start() else ""
    if before.isascii() and before.isalnum():
        items = items[1:]  # the match began inside a number or a word (…19|89年…)
    elif before and _CUT.search(items[0]):  # began mid-clause: keep what follows 于/为/是…
        items[0] = _CUT.split(items[0])[-1]
    cut = _CUT.search(items[-1], 1) if items else None
    if cut:
        items[-1] = items[-1][: cut.start()]  # 孙禹于美国华府演出 → 孙禹
    return [i for i in items if i] + _joined_last(text, m.end(), items)


_LAST_JOIN = re.compile(r"(?:以及|和|及|与)")


def _names(items: list[str]) -> bool:
    """Every item is a name (of an institution or a place), as the items of one list of names are."""
    return bool(items) and all((n := named(i)) and n[0].name == i for i in items)


def _pair(text: str) -> list[str]:
    """Two institutions joined by 和/及/与 (甲银行和乙银行已完成改造), the list of two a sentence without 、
    gives; [] otherwise (places joined so say where, not which)."""
    found = [n for n in named(text) if n.kind == "org"]
    for before, (a, b) in zip([None, *found], pairwise(found), strict=False):
        glued = before is not None and before.end == a.start  # 工商银行常德分行和…: 常德分行 is part of a name
        if _LAST_JOIN.fullmatch(text[a.end : b.start]) and not glued:
            return [a.name, b.name]
    return []


def _joined_last(text: str, end: int, items: list[str]) -> list[str]:
    """The item a list of names closes with after 和/及/与 (甲银行、乙银行和丙银行牵头: 丙银行), when the item
    before 和 is a name; [] otherwise (what follows 和 in other lists is no item one can cut out for sure)."""
    join = _LAST_JOIN.match(text, end)
    last = named(items[-1]) if items else []
    if not join or not last or last[0].name != items[-1]:  # the item before 和 is a name: so is the one after
        return []
    after = named(text[join.end() : join.end() + 24])
    return [after[0].name] if after and after[0].start == 0 else []


def _named(text: str, m: re.Match[str], anchors: tuple[str, ...]) -> int:
    """How many of ``anchors`` the clause around ``m`` names (from the last break before it to the next after)."""
    start = max(text.rfind(p, 0, m.start()) for p in _BREAKS) + 1
    ends = [i for i in (text.find(p, m.end()) for p in _BREAKS) if i >= 0]
    clause = normalize(text[start : min(ends, default=len(text))])
    return sum(a in clause for a in anchors)


def _quantity(q: qn.Question, text: str) -> str:
    found = [x for x in _amounts(text) if x.text not in q.text]
    if q.unit:  # 多少公里: a quantity in kilometres or no key fact at all
        found = [x for x in found if _has_unit(text, x, q.unit)]
        best = _counting(q, text, found) or next((x for x in found if not _counts_other(q, text, x)), None)
        return _with_unit(text, best) if best else ""
    found = [x for x in found if x.text[0].isdigit() or len(x.text) > 1]  # 一个, 两次 answer nothing
    if not found:
        return ""
    best = _counting(q, text, found) or _right_after_question_words(q, text, found)
    return _with_unit(text, best or _nearest_after_anchor(q, text, found))


def _counting(q: qn.Question, text: str, found: list[Quantity]) -> Quantity | None:
    """The quantity that counts what the question asks about: the noun after its unit is the question's
    (涉及4个方向的33个项目 → 33个 for 多少个试点项目)."""

    def named(x: Quantity) -> int:
        after = text[unit_end(text, x.end) :].removeprefix("的")
        return max((n for n in range(2, 5) if after[:n] in q.text and len(after) >= n), default=0)

    starts = [x for x in found if text[x.start - 1 : x.start] not in _RANGE_MARKS]  # 2,800米 in 100米至2,800米
    best = max(starts, key=named, default=None)
    return best if best is not None and named(best) else None


def _counts_other(q: qn.Question, text: str, x: Quantity) -> bool:
    """The quantity counts a thing the question does not name (年、季、周3个层次 for 多少个试点项目)."""
    after = text[x.start + len(_with_unit(text, x)) :].removeprefix("的")[:1]  # past its unit and range
    return "\u4e00" <= after <= "\u9fff" and after not in q.text


def _date(q: qn.Question, text: str, anchors: tuple[str, ...]) -> str:
    """The date whose clause names most of what the question asks about
    (…1981年7月参加工作，1982年7月加入中国共产党 → 1982年7月 for 何时加入中国共产党)."""
    dates = [m for m in _DATE.finditer(text) if m.group(0) not in q.text]
    if asks_day(q.text):  # 哪一天, 几月几号: a day, not a month or year
        dates = [m for m in dates if re.search("[日号]", m.group(0))]
    if not dates:
        return ""
    named = [_named(text, m, anchors) for m in dates]
    best = dates[named.index(max(named))]
    if _END_ASKED.search(q.text):  # 报名时间到几月几号 of 11月20日至11月30日: the period's end
        return _period_end(text, best, asks_day(q.text)) or best.group(0)
    return best.group(0)


def _period_end(text: str, start: re.Match[str], day: bool) -> str:
    """The far end of the period ``start`` opens (11月20日至11月30日 → 11月30日; 11月20日至30日 → 11月30日), or ""
    (none, or not a day where a day is asked)."""
    if text[start.end() : start.end() + 1] not in _RANGE_MARKS:
        return ""
    far = _DATE.match(text, start.end() + 1)
    if far is not None:
        end = far.group(0)
    else:
        bare = _DAY_END.match(text, start.end() + 1)
        month = re.search(r"\d{1,2}月", start.group(0))
        end = month.group(0) + bare.group(0) if bare and month else ""
    return end if end and (not day or re.search("[日号]", end)) else ""


_DAY_ASKED = re.compile(r"哪一?天|哪日|几月几[日号]|几号|具体日期")
_END_ASKED = re.compile(r"到几|到哪|截止|截至|结束|为止")


def asks_day(question: str) -> bool:
    """The question asks for a day (截止时间是哪一天？), which a month or a year does not answer."""
    return _DAY_ASKED.search(question) is not None


def coarser_dates_only(text: str) -> bool:
    """``text`` states dates, none of them a day (2020年, 12月): no answer to a question asking for a day."""
    found = [m.group(0) for m in _DATE.finditer(text)]
    return bool(found) and not any(re.search("[日号]", d) for d in found)


def extend_span(text: str, start: int, end: int) -> str:
    """``text[start:end]`` as the text writes it: a number keeps its unit and its range's far end (33 → 33个)."""
    if text[start:end][-1:].isdigit():
        end = unit_end(text, end)
        far = _RANGE.match(text, end)
        if far:
            end = unit_end(text, far.end())
    return text[start:end]


# the money 多少钱 asks for
_MONEY = re.compile(r"余?[万亿]?(?:(?:美|港|欧|日|韩|澳|加|新台|人民币)?元|英镑|美金|卢布|法郎)")


def _has_unit(text: str, x: Quantity, unit: str) -> bool:
    """The quantity is counted in ``unit`` (4821台, 8公斤, 10.29万户, 15至20厘米; not 33个项目 for 项)."""
    far = _RANGE.match(text, x.end)
    counted = _MONEY if unit == "元" else re.compile(rf"余?[万亿]?{counted_in(unit)}")
    return any(counted.match(text, e) for e in (x.end, far.end() if far else x.end))


def _with_unit(text: str, x: Quantity) -> str:
    """The quantity as the text writes it, with its unit and the far end of a range (100米至2,800米)."""
    end = unit_end(text, x.end)
    far = _RANGE.match(text, end)
    return text[x.start : unit_end(text, far.end()) if far else end]


def _right_after_question_words(q: qn.Question, text: str, found: list[Quantity]) -> Quantity | None:
    """The quantity the question's own words lead straight into (…缩短到 → 20分钟)."""

    def lead_in(x: Quantity) -> int:
        size = 0
        while size < x.start and text[x.start - size - 1 : x.start] in q.text:
            size += 1
        return size

    best = max(found, key=lead_in)
    return best if lead_in(best) >= 2 else None


def _nearest_after_anchor(q: qn.Question, text: str, found: list[Quantity]) -> Quantity:
    """The quantity right after the longest piece of the question the sentence repeats (缩短到 → 20分钟)."""
    best_end, best_len = -1, 0
    for size in range(min(len(q.text), 8), 1, -1):
        for i in range(len(q.text) - size + 1):
            piece = q.text[i : i + size]
            at = text.rfind(piece)
            if at >= 0 and size > best_len and any(x.start >= at + size for x in found):
                best_end, best_len = at + size, size
        if best_len:
            break
    after = [x for x in found if x.start >= best_end]
    return min(after, key=lambda x: x.start - best_end) if best_end >= 0 and after else found[0]


_RANGE = re.compile(r"(?:至|到|~|～|－|-)\d[\d,.]*")  # the far end of a range (…至2,800米)
_RANGE_MARKS = ("至", "到", "~", "～", "－", "-", "—", "–")
