"""The fact registry's extraction: the figures a document states, as subject, metric, value, unit and as-of date.

Owns: every fact of a document (its tables' through ``ingest.table_facts``) and reading facts out of running text
(the number attached to what it counts: 33个项目, not 4个方向; its subject the nearest place, institution or project
before it, or the heading a 该方向/该项目 refers to, or the document's own place for 全市/我省; its date the 截至… or
period its sentence states, else the one its section counts at, else the document's). Does not own: table cells
(``ingest.table_facts``), numerals and units (``kb.quantity``), dates (``kb.dates``), storage (``kb.catalog``, in the
same transaction as the document) or answering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import replace

from ingest import table_facts
from ingest.metric import REFERS, metric_of
from ingest.respective import respective, restating
from kb import corrections, dates
from kb.entities import SELF_REFERENCE, named
from kb.places import PLACE, Named, lies_in, province_of
from kb.products import products, with_products
from kb.quantity import change, qualifier, quantities, unit_end
from kb.records import Document, Fact
from kb.segment import sentence_spans

_CITED = re.compile(r"据$|据(?=[\u4e00-\u9fff]{2,12}$)")  # 据某市…统计: the place whose statistics are cited
_REGULATOR = re.compile(r"人民银行|金融管理局|金融工作局|金融监督管理|监管|金融办")
_PARTS_OPEN = re.compile(r"^\s*(?:其中|分地区看|分地市看|从地区看|分城市看)")
_DATE_UNITS = ("年", "月", "日", "时", "季")
_ONLY_DATE = re.compile(
    r"(?:较|比|与|同)?(?:\d{4}年|上一?年|去年|今年|本年)?(?:\d{1,2}月|[一二三四]季度|[上下]半年|年)?(?:末|底|初)?(?:的|为)?"
)
_RANGE_TO = re.compile(r"\d[^，,；;。\d]{0,4}(?:至|到|~|～|－|—)\s*$")  # a range's low end just before a figure
_YEAR_BEFORE = re.compile(r"((?:去年|上年)同期)(?:为|是|达)?$")  # (not 为去年同期的1.5倍, a ratio)
OPENING_CHARS = 120  # a document's first lines, where an untitled place or issuer stands


def extract(doc: Document) -> list[Fact]:
    """Every fact ``doc`` states, table cells first, each pointing at its sentence or row."""
    return [*table_facts.facts(doc), *_text_facts(doc)]


# -- running text -------------------------------------------------------------------------------------------
def _text_facts(doc: Document) -> Iterator[Fact]:
    in_table = [(t.start, t.end) for t in doc.tables]
    notice = corrections.corrects(doc.title, doc.text)  # 相应调整为 corrects only in a document that corrects
    # the document's own place and issuer: its title's, else its first lines' (an official notice names its
    # issuer above a 关于…的通知 title)
    quoted = products(doc.title, doc.text)  # “海贸通”平台: a product that owns its figures
    in_title = _narrowest(_owners(doc.title, quoted) or _owners(doc.text[:OPENING_CHARS], quoted))
    for section in doc.sections:
        heading = section.heading_path[-1] if section.heading_path else ""
        # whose figures a section's sentences give when they name no one: its heading's place or institution, else
        # the document title's (山东省…一季度进展 › 总体进展: 山东省), else the heading's words
        owner = next((n.name for n in sorted([*_owners(heading), *in_title], key=_place_first)), heading)
        previous = ""  # the subject of the sentence before (该项目 refers to it)
        carried: dates.DateMention | None = None  # the date the section's figures are counted at so far
        whole: dict[str, str] = {}  # the metric of the last level so far in each unit (其中，甲市…亿元 divides it)
        topic, last_end = "", section.start  # the institution the paragraph so far is about
        last: list[Fact] = []  # the figures of the sentence before
        for a, b in sentence_spans(doc.text, section.start, section.end):
            if any(s <= a < e for s, e in in_table):
                continue
            names = _labelled(doc.text[a:b], with_products(named(doc.text[a:b]), doc.text[a:b], quoted))
            if "\n" in doc.text[last_end:a]:
                topic = ""  # a new paragraph: its own topic
            said = list(_sentence_facts(doc, a, b, names, (heading, owner, topic), previous, carried, notice, whole))
            said = respective(said, doc.text[a:b], a, last)  # 这两项数据分别为…: the figures just before
            last = said or last
            for fact in said:
                if not change(fact.qualifier, len(fact.qualifier)):  # a level, not 较年初增加…
                    whole[fact.unit] = fact.metric
                yield fact
            # 该项目 refers to the project or institution named last, not to a place it was carried out in
            projects = [n.name for n in names if n.kind == "project"]  # (某银行在某县推广的“某某贷”项目: the project)
            previous = next((n.name for n in names if n.kind != "place"), previous) if not projects else projects[-1]
            # the one bank a sentence names is what its paragraph goes on about (not a regulator, not one of two)
            orgs = [n.name for n in names if n.kind == "org"
                    and not _REGULATOR.search(doc.text[max(a, a + n.start - 4) : a + n.end])]  # fmt: skip
            topic = orgs[0] if len(orgs) == 1 else "" if orgs else topic
            last_end = b
            sentence = doc.text[a:b]
            # (not a date restating one figure: 9月末为5.63万户 leaves the sentences after at their own date)
            stated = [m for m in dates.mentions(sentence, doc.date) if _counted_at(sentence, m)
                      and _bracket(sentence, m.start) < 0 and not _RESTATES.match(sentence, m.end)
                      and not restating(sentence[m.end :])]  # fmt: skip
            carried = stated[-1] if stated else carried


def _owners(text: str, quoted: AbstractSet[str] = frozenset()) -> list[Named]:
    """The places, institutions and quoted products (``quoted``) ``text`` names that can own a figure: a place
    inside a longer name counts too (甘肃省 in 甘肃省试点项目…进展情况); not where a meeting is held, nor where
    a product or institution named before serves."""
    names = with_products(named(text), text, quoted)
    found = [n for n in names if n.kind != "project" or n.name.strip("“”") in quoted]
    found += [Named(m.group(0), m.start(), m.end(), "place") for m in PLACE.finditer(text)
              if all(m.start() != n.start or m.end() != n.end for n in found)]  # fmt: skip
    venues = [n for n in found if n.kind == "place" and _VENUE.match(text, n.end) and text[: n.start].endswith("在")]
    return [n for n in found if n not in venues and not _served_there(text, n, found)]


def _served_there(text: str, place: Named, names: list[Named]) -> bool:
    """``place`` is only where (or for whom) a product or institution named before it acts (“某某贷”为甲市、乙市
    小微企业融资): theirs are the figures, not the place's."""
    if place.kind != "place":
        return False
    before = sorted((n for n in names if n.end <= place.end), key=lambda n: n.start)
    first = _where_acted(text, before)
    return first is not None and any(n.kind != "place" for n in before[:first])


# where a meeting is held (在石家庄召开), not whose figures the document gives
_VENUE = re.compile(r"(?:市|省)?(?:召开|举行|举办)")


def _narrowest(names: list[Named]) -> list[Named]:
    """``names`` without a place that one other named place lies in (上海市浦东新区…: the district's document)."""
    places = {n.name for n in names if n.kind == "place"}
    return [n for n in names if n.kind != "place" or sum(lies_in(p, n.name) for p in places) != 1]


def _place_first(n: Named) -> int:
    return 0 if n.kind == "place" else 1


def _sentence_facts(doc: Document, start: int, end: int, names: list[Named], context: tuple[str, str, str],
                    previous: str, carried: dates.DateMention | None = None, notice: bool = False,
                    whole: dict[str, str] | None = None) -> Iterator[Fact]:  # fmt: skip
    """The figures of the sentence ``doc.text[start:end]``, which names ``names``; ``context``: its section's
    heading, the owner of figures no name claims and the institution its paragraph is about so far; ``notice``:
    the document corrects figures; ``whole``: the metric of the last level before in each unit, which a sentence
    opening with 其中 divides."""
    sentence = doc.text[start:end]
    when = dates.mentions(sentence, doc.date)
    in_dates = [(m.start, m.end) for m in when]
    divides = _PARTS_OPEN.match(sentence) is not None
    last_metric, last_moved = "", ""
    for q in quantities(sentence):
        stop = unit_end(sentence, q.end)
        if (
            (stop == q.end and not q.percent)
            or any(s <= q.start < e for s, e in in_dates)
            or sentence[q.end : q.end + 1] in _DATE_UNITS
        ):
            continue  # a figure has a unit (a share its %); a year or a day is no figure
        moved = change(sentence, q.start)  # 较上年末增加75.8亿元: a change of the figure before it
        ranged = _RANGE_TO.search(sentence, 0, q.start) is not None  # 5万元至30万元: the range's high end
        named_as = metric_of(sentence, q, stop)
        year_before = _YEAR_BEFORE.search(sentence, max(0, q.start - 8), q.start)  # 去年同期为48.06亿元
        named_as = "" if year_before else named_as
        if _ONLY_DATE.fullmatch(named_as) and re.search(r"[年月季]", named_as):  # 较6月末的, （6月末为…）
            named_as = ""  # the figure before it, restated at another date: its metric
        if corrections.AS_PUBLISHED.match(named_as):  # …应为8.42亿元，原文误为7.96亿元: the one before, as published
            named_as, moved = "", moved or last_moved  # （原为3.89亿元） after a corrected change is that change's
        named_as = corrections.CORRECTING.sub("", named_as) if notice else named_as  # 授信余额应为: the metric
        metric = (last_metric if moved or ranged else "") or named_as or last_metric
        if not metric and divides and whole:  # 其中，甲市12.3亿元: the metric of the whole it divides
            metric = whole.get(sentence[q.end : stop].lstrip("余"), "")
        if not metric:
            continue
        last_metric, last_moved = metric, moved
        as_of = _as_of(sentence, when, q.start) or carried
        if year_before and as_of:  # the figure before, a year earlier: 1至9月…，去年同期为… is last year's 1至9月
            as_of = replace(as_of, iso=f"{int(as_of.iso[:4]) - 1}{as_of.iso[4:]}", text=year_before.group(1))
        yield Fact(
            doc_id=doc.doc_id, subject=_subject(sentence, q.start, names, context, previous, doc.title), metric=metric,
            value=q.value, text=sentence[q.start : stop],
            unit="%" if q.percent else sentence[q.end : stop].lstrip("余"),
            # 更正后 and 较上年末增加 may both hold (应更正为“…比年初增加79.4亿元”)
            qualifier=corrections.qualifier(sentence, q.start, notice) + (moved or qualifier(sentence, q.start, stop)),
            as_of=as_of.iso if as_of else doc.date,
            as_of_text=as_of.text if as_of else "", start=start, end=end, value_start=start + q.start,
            value_end=start + stop,
        )  # fmt: skip


def _subject(sentence: str, at: int, names: list[Named], context: tuple[str, str, str], previous: str, title: str
             ) -> str:  # fmt: skip
    """Whose figure it is: the nearest place, institution or project named before it in its sentence (after it,
    when none is before); what 该方向/该项目 refers to (the heading, or the sentence before's subject); else the
    place or institution its heading or the document's title names, else the heading or the title."""
    heading, owner, topic = context
    # a name in a bracketed scope note (全省（含深圳市）…) says what a subject includes: no subject of the figures
    # after the note (those inside it are its own: 33个项目(含青岛市9项))
    before = [n for n in names if n.end <= at and not _in_closed_note(sentence, n, at)]
    own = [m for m in SELF_REFERENCE.finditer(sentence, 0, at) if all(m.start() >= n.end for n in before)]
    if own and owner:  # 我市17个试点项目…912.7亿元: the document's own place, not a name before 我市
        return _own_place(sentence, own[-1].group(0), before, owner)
    if before:
        return _listed(sentence, before) or _actor(sentence, before).name
    refer = REFERS.search(sentence, 0, at)
    if refer:
        return previous if "项目" in refer.group(0) and previous else heading or previous or title
    if names:
        return names[0].name
    return topic or owner or title  # a sentence naming no one goes on about its paragraph's institution


def _own_place(sentence: str, word: str, before: list[Named], owner: str) -> str:
    """The place 全市/本省 means: the document's own place, unless the sentence cites another's statistics (据某市
    金融部门统计，全市…: that city's, as in a bank's release) or the document has no place of its own (then the
    nearest place of its level named before it)."""
    level = word[1:]
    named_before = [n for n in before if n.kind == "place" and n.name.endswith(level)]
    if not named_before:
        return _of_level(owner, level)
    cited = _CITED.search(sentence, 0, named_before[-1].start + 1)
    return named_before[-1].name if cited or not PLACE.fullmatch(owner) else owner


def _of_level(owner: str, level: str) -> str:
    """The document's own place at the level 全省/全区 says: a city's document (a meeting held in 石家庄, a
    provincial branch speaking) means its province by 全省."""
    if not PLACE.fullmatch(owner) or owner.endswith(level):
        return owner
    province = province_of(owner)
    return province if province.endswith(level) else owner


def _actor(sentence: str, before: list[Named]) -> Named:
    """The nearest name before a figure, unless it is only where an institution or project named before it acts
    (广发银行牵头的…项目于2021年9月在广州上线，…累计放款64.28亿元: the project's figure, not 广州's), or whom it
    serves (“某某贷”累计为佛山、东莞两地…发放贷款: the product's)."""
    first = _where_acted(sentence, before)
    if first is not None:
        acting = [n for n in before[:first] if n.kind != "place"]
        if acting:
            return acting[-1]
    return before[-1]


def _where_acted(sentence: str, names: list[Named]) -> int | None:
    """The index of the first place of the run of places (甲市、乙市) ``names`` ends with, when a preposition of
    where or for whom something is done stands before it (在, 于, 为, 向, 给); else None."""
    if not names or names[-1].kind != "place":
        return None
    first = len(names) - 1
    while first > 0 and names[first - 1].kind == "place" and _joined(sentence, names[first - 1], names[first]):
        first -= 1
    lead = names[first]
    return first if sentence[max(0, lead.start - 2) : lead.start].endswith(_WHERE_FOR) else None


_JOINS = ("、", "和", "及", "与")


def _joined(sentence: str, a: Named, b: Named) -> bool:
    return sentence[a.end : b.start] in _JOINS


_WHERE_FOR = ("在", "于", "为", "向", "给")


def _listed(sentence: str, before: list[Named]) -> str:
    """The whole list when the nearest name closes one (省工行、农行、中行等5家银行: the five together, not 中行),
    else ""."""
    last = before[-1]
    if not _LIST_END.match(sentence, last.end):
        return ""
    first = len(before) - 1
    while first > 0 and sentence[before[first - 1].end : before[first].start] in _JOINS:
        first -= 1
    return sentence[before[first].start : last.end] if first < len(before) - 1 else ""


_LIST_END = re.compile(r"等")
_SCOPE_NOTE = re.compile(r"[（(](?:含|包括|包含|不含|除)$")


def _labelled(sentence: str, names: list[Named]) -> list[Named]:
    """``names`` with the label a list item opens with when an institution in brackets follows it (社区商户数字
    信用画像（某农商银行）：截至6月末…): the project the item is about, which owns its figures."""
    m = _LABEL.match(sentence)
    if m is None or any(n.start < m.end(1) for n in names):
        return names
    inside = [n for n in names if m.start(2) <= n.start and n.end <= m.end(2)]
    if not inside or any(n.kind != "org" for n in inside):
        return names
    label = m.group(1).strip()  # the institution in brackets leads it: the label's, not a subject of its own
    return [Named(label, m.start(1), m.start(1) + len(label), "project"), *(n for n in names if n not in inside)]


_LABEL = re.compile(r"^[\s\-*·•]*([^：:（()），,。；;\d*]{4,20})\**[（(]([^（()）]{2,20})[）)]\**[：:]")


def _in_closed_note(sentence: str, n: Named, at: int) -> bool:
    return bool(_SCOPE_NOTE.search(sentence, 0, n.start)) and any(c in sentence[n.end : at] for c in "）)")


def _counted_at(sentence: str, m: dates.DateMention) -> bool:
    """The date is worded as the day figures are counted at (截至2021年3月末, 2021年末), not a day something was
    published or happened (发布时间：2021-10-20), nor a change's base: the figures after it in its section are as of
    it until another is stated."""
    worded = m.text.startswith(("截至", "截止")) or m.text.endswith(("末", "底"))
    return worded and not _is_base(sentence, m, len(sentence))


def _is_base(sentence: str, m: dates.DateMention, at: int) -> bool:
    """The date is what a change is measured against (较上年末, 比年初, 与2020年末相比), not the date of the figure at
    ``at`` — unless that figure is the base's own (较2021年末的367.5亿元)."""
    base = sentence[max(0, m.start - 2) : m.start].endswith(("较", "比", "与", "同")) or sentence.startswith(
        "相比", m.end
    )
    return base and not (m.end <= at and sentence[m.end : at] in ("", "的"))


def _since(sentence: str, m: dates.DateMention) -> bool:
    """The date is when something began (自2022年3月投产以来, 从2021年起), not the day figures are counted at."""
    return sentence[max(0, m.start - 2) : m.start].endswith(("自", "从", "自从", "于")) and bool(
        re.match(r"[^，,；;。]{0,8}(?:以来|起|开始)", sentence[m.end :])
    )


_EVENT = re.compile(r"[^，,；;。\d]{0,10}?(?:上线|投产|开通|成立|启动|签约|发布|落地|推出)")
_EVENT_NEAR = re.compile(r"(?:正式)?(?:上线|投产|开通|成立|启动|签约|发布|落地|推出)")


def _event_day(sentence: str, m: dates.DateMention) -> bool:
    """The date is when something happened (于2023年9月在昆明上线), not a day figures are counted at."""
    if m.as_of:
        return False
    after_at = sentence[max(0, m.start - 1) : m.start] in ("于", "在")  # 于2023年9月在昆明上线
    return bool(_EVENT.match(sentence, m.end) if after_at else _EVENT_NEAR.match(sentence, m.end))


def _bracket(sentence: str, at: int) -> int:
    """Where the bracket holding ``sentence[at]`` opens, or -1: a date in brackets (6月末为892.16亿元) dates only
    the figures in them."""
    opened = max(sentence.rfind("（", 0, at), sentence.rfind("(", 0, at))
    closed = max(sentence.rfind("）", 0, at), sentence.rfind(")", 0, at))
    return opened if opened > closed else -1


def _as_of(sentence: str, when: list[dates.DateMention], at: int) -> dates.DateMention | None:
    """The date a figure at ``at`` is counted at: the last point-in-time date before it in its sentence, else
    any date before it, else the first after it (never a change's base date)."""
    when = [m for m in when if not _is_base(sentence, m, at) and not _since(sentence, m) and not _event_day(sentence, m)
            and _bracket(sentence, m.start) == _bracket(sentence, at)]  # fmt: skip
    before = [m for m in when if m.end <= at]
    points = [m for m in before if m.as_of]
    if points or before:
        return (points or before)[-1]
    # a date after the figure dates it, unless it introduces a figure of its own (5.79万户，9月末为5.63万户)
    after = [m for m in when if m.start >= at and not _RESTATES.match(sentence, m.end)]
    return after[0] if after else None


_RESTATES = re.compile(r"(?:的|时)?(?:为|是|达到?)\s*[\d一二三四五六七八九十两]")
