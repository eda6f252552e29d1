"""Understanding a question: its type, the unit it asks for, its key entities.

Owns: the one ``Question`` every step of an answer reads, built once: the question-type
rules (quantity, time, person, institution, list, method/reason, yes/no), the measure word
a quantity question expects (多少台 → 台), the key entities (places, institutions, years)
that evidence must mention before an answer may be given, and its search terms (jieba runs
once per question). Does not own: retrieval or scoring.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from kb import dates
from kb.entities import NOT_A_NAME, named, other_forms
from kb.places import PLACE, SHORT_NAME, also_called, begins_name, full_names, says_short
from kb.quantity import MEASURE_WORDS, MEASURES
from kb.segment import Segmenter, aliases


class Kind(StrEnum):
    """What a question asks for."""

    QUANTITY = "quantity"
    TIME = "time"
    PERSON = "person"
    INSTITUTION = "institution"
    LIST = "list"
    REASON = "reason"
    YESNO = "yesno"
    OTHER = "other"


QUANTITY, TIME, PERSON, INSTITUTION, LIST, REASON, YESNO, OTHER = Kind

# what an institution, not a person, does for a pilot: 谁牵头, 由谁承建, 牵头的是谁 ask an institution
ORG_DEEDS = "(?:牵头|承建|推出|发起|开发|运营|申报|承担)"
_RULES: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (TIME, re.compile(r"何时|什么时候|啥时候?|哪天|哪一天|哪年|哪一年|几月|哪个月|什么时间|日期|截至何|多久")),
    (PERSON, re.compile(rf"谁(?!{ORG_DEEDS})(?<!{ORG_DEEDS}的是谁)|哪位|什么人|何人|姓名")),
    (
        INSTITUTION,
        re.compile(
            r"哪[一几]?家|哪些(?:银行|机构|单位|部门|企业|公司)|哪个(?:银行|机构|单位|部门)|什么(?:银行|机构)|谁"
        ),
    ),
    (
        QUANTITY,
        re.compile(rf"多少|(?<![哪那这])几[万亿]?[{MEASURE_WORDS}]|数量|规模|比例|百分之几|多大|多长|多高|多重"),
    ),
    (LIST, re.compile(r"哪些|哪几|有什么|包括什么|包含什么|分别")),
    (REASON, re.compile(r"如何|怎样|怎么|为什么|为何|原因|方式|措施|办法|目的")),
    (YESNO, re.compile(r"是否|有没有|是不是|能否|可否|吗[？?]?$")),
)
# the measure word asked (多少台, 几万户); 那几个项目, 这几家银行 point at things, asking no number
# 湖南几个试点地区里，哪个…: "the several" the question goes on to choose among, no number asked
AMONG_SEVERAL = r"(?![^，,？?]{0,8}?(?:里|当中|之中|中)[，,])"
_UNIT = re.compile(
    rf"(?:多少|(?<![哪那这])几)(万|亿)?({MEASURES}|[{MEASURE_WORDS}元])(?!体|(?:百分)?点)"  # (多少个体户: 户)
    + AMONG_SEVERAL
)
_YEAR = re.compile(r"((?:19|20)\d{2})年")
# a question asking for a rate or share: 不良贷款率, 占比多少, 百分之几, 线上化率提高了多少
RATE_ASKED = re.compile(
    r"(?:率|比例|占比|比重|百分比)(?:是|为|有|达到?|约|大约|控制在|保持在|大概|大约在)?(?:多少|几|多高|多大)"
    r"|百分之几|百分之多少|几成|增幅|增速|降幅|涨幅|(?:几|多少)个(?:百分)?点"  # (利率大概几个点: percentage points)
    r"|(?:率|比例|占比|比重).{0,8}(?:提高|提升|下降|上升|降低|增加|减少)了?(?:多少|几)"
)
# what a how-many question counts by its noun when it names no measure word: 放款笔数 → 笔, 贷款户数 → 户
_COUNT_NOUN = re.compile(rf"([{MEASURE_WORDS}])数(?!字|据|量)")
# a how-many question ending on a noun a counter ends (惠及多少养殖户, 有多少商户): that counter, whatever the
# project's name holds (…授信项目惠及多少养殖户 asks 户, not 元)
_COUNTED_AT_END = re.compile(
    r"(?:多少|几)[万亿]?(?:(?!资金|贷款|钱|元|给|向|流|投|用于|放)[\u4e00-\u9fff]){1,5}?([户台张笔])[？?。！!\s]*$"
)  # not 多少资金流向农户 (an amount), nor 拿出多少贷款给种植户
# a how-many question about those served or counted (帮扶了多少经营主体, 有多少客户): a number of them, never an
# amount of money nor a share, in whatever counter (户, 家, 个)
_WHO_COUNTED = re.compile(
    r"(?:多少|(?<![哪那这])几)[万千]?[户家个名位]?(?:(?!资金|贷款|钱|元|给|向|流|投|用于|放|额)[\u4e00-\u9fff]){0,10}?"
    r"(?:企业|主体|户|家庭|会员)[？?。！!\s]*$"
)


def asks_a_count(text: str) -> bool:
    """The question asks how many of those a pilot serves or counts (多少家商户): a count, not 亿元 nor %."""
    return bool(_WHO_COUNTED.search(text))


# an amount of money asked without 元: 贷出多少资金, 金额合计多大, 带动了多少消费
_MONEY_ASKED = re.compile(r"贷款|放贷|放款|投放|金额|资金|融资|授信|多少钱|额")
GROWTH = re.compile(r"(?:同比|环比)(?:增长|增加|下降|减少|上涨|涨)")
_PEOPLE = re.compile(r"多少(?:名|位|个)?(?:学生|员工|教师|老师|职工|考生|人员|毕业生|新生|本科生|研究生)")
# Institutions the alias table does not know (招商银行, 某某农商行): a name, not a question word.
_ORG_NAME = re.compile(r"[\u4e00-\u9fff]{2,8}?(?:银行|农商行|农商银行|信用社|证券|保险公司)")
# A school of a university (经济学院, 艺术学院) or a school (富平中学): evidence about others does not answer for it.
_SCHOOL = re.compile(r"学院|研究院|中学|小学")
_STAGE = re.compile(r"就读|时期|时|期间|阶段")  # 渠成小学就读于: a person's school years
_ORDINAL_CUT = re.compile(r".*第[一二三四五六七八九十\d]+[个所名位家]")  # 第二所…中学; 第一中学 is a name
_SCHOOL_CUT = re.compile(r".*(?:大学|人大|[的在是和与了及对为从把被由等、，,\s])")


@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind
    unit: str  # the measure word or unit asked for ("台", "公里"), or ""
    entities: tuple[str, ...]  # names the evidence must contain (any alias counts)
    terms: tuple[str, ...]  # jieba search terms with institution aliases, in question order
    # terms all evidence holds by how it was chosen (the words of a time asked, once evidence is chosen by
    # date): counted as held when the evidence's coverage decides a refusal, not when sentences are ranked
    given: tuple[str, ...] = ()


def classify(text: str) -> Kind:
    for kind, pattern in _RULES:
        if pattern.search(text):
            return kind
    return OTHER


def entities(text: str) -> tuple[str, ...]:
    """Places, institutions and years named in ``text``, longest names first."""
    found: list[str] = [m.group(1) for m in PLACE.finditer(text)]
    names = sorted(aliases(), key=len, reverse=True)
    rest = text
    for name in names:
        if name in rest:
            found.append(name)
            rest = rest.replace(name, " ")
    found += [
        m.group(0) for m in _ORG_NAME.finditer(rest) if not NOT_A_NAME.search(m.group(0)) and "的" not in m.group(0)
    ]
    found += [s for s in (_school(rest, m.start()) for m in _SCHOOL.finditer(rest)) if s]
    found += [m.group(0) for m in _YEAR.finditer(text)]
    return tuple(dict.fromkeys(found))


def _school(text: str, at: int) -> str:
    """The school named right before ``at`` (中国人民大学经济学院 → 经济学院, 林蕾在国学院 → 国学院), or "" when
    the words before 学院 are not a name (…本科专业的学院)."""
    before = text[max(0, at - 8) : at]
    m = _SCHOOL_CUT.match(before)
    name = before[m.end() :] if m else before
    name = _ORDINAL_CUT.sub("", name)  # 第二所推荐资格中学 names no school
    if not name or NOT_A_NAME.search(name) or not all("\u4e00" <= ch <= "\u9fff" for ch in name):
        return ""
    if text.startswith(("中学", "小学"), at) and (PLACE.fullmatch(name) or _STAGE.match(text, at + 2)):
        return ""  # 山西中学 in …的山西中学中: the province's schools; 渠成小学就读于: his primary school years
    return name + text[at : at + (3 if text.startswith("研究院", at) else 2)]


def parse(text: str, segmenter: Segmenter, products: Iterable[str] = ()) -> Question:
    """The question with everything the answer steps read, segmented once; ``products``: the names of products
    and projects the knowledge base knows (a question naming one asks about it: its evidence must name it)."""
    kind = classify(text)
    terms = tuple(segmenter.query_terms(text))
    known = sorted(products, key=len, reverse=True)
    named = entities(text) + tuple(p for p in known if p in text) + tuple(n for p in known for n in _near(text, p))
    return Question(text=text, kind=kind, unit=_unit(text, kind), entities=tuple(dict.fromkeys(named)), terms=terms)


def _near(text: str, name: str) -> list[str]:
    """The names in ``text`` one character apart from a known product's ``name`` of four characters or more
    (金帆数仓贷 beside 金帆数链贷): another product, which the evidence must name."""
    if len(name) < 4 or name in text:
        return []
    n = len(name)
    windows = (text[i : i + n] for i in range(len(text) - n + 1))
    return [
        w
        for w in windows
        if w[0] == name[0] and w[-1] == name[-1] and sum(a != b for a, b in zip(w, name, strict=True)) == 1
    ]


def _unit(text: str, kind: Kind) -> str:
    """The measure word or unit the answer's figure must have: the one asked for (多少台, 几万户), a head count
    (多少学生: 人), the noun counted (放款笔数: 笔), an amount of money (贷出多少资金: 元), or "" (a rate, or
    nothing said)."""
    m = _UNIT.search(text)
    if m:
        return m.group(2)
    if _PEOPLE.search(text):  # 多少(个)学生: a head count (359人, 30名), not a pass rate
        return "人"
    if kind is not QUANTITY or RATE_ASKED.search(text):
        return "元" if "多少钱" in text else ""  # a price is counted in 元, not in 台
    counted = _COUNT_NOUN.search(text) or _COUNTED_AT_END.search(text)
    if counted:
        return counted.group(1)
    if GROWTH.search(text):  # 贷款环比增长了多少: a growth is said as a share (6.0%) as often as in 元
        return ""
    return "元" if _MONEY_ASKED.search(text) and "率" not in text else ""  # 贷款利率 asks a rate, not an amount


# what ends a how-much question after its metric: the interrogative, how the figure is counted, a change asked
_ASKING_TAIL = re.compile(
    r"(?:(?:最新的?|目前的?|现在的?)?(?:累计)?(?:数|数额|规模|总额|总量|金额)?"
    # how it is asked in speech: 贷款迄今总共放了多少, 放款做到多少了 (the figure so far, of the thing before)
    r"(?:(?:到现在|到目前|截至目前|目前|现在|至今)(?:为止)?)?(?:一共|总共|累计|共计|总计|合计)?"
    r"(?:[放投发借](?:了|出去|出)+|(?<=[共计])[放投发借]|做到了?|做了)?"
    r"(?:(?:同比|环比)?(?:增速|增幅|增长率|增长|降幅))?(?:是|有|为|达|达到)?(?:多少|几)[万亿]?\S*"
    r"|(?:[放投贷借发]得)?最[多大高快少小低慢]\S*)$"  # (哪个县的贷款发得最多: 贷款)
)
_TIME_WORDS = re.compile(r"(?:\d{4}年)?(?:[一二三四1-4]季度|[上下]半年|\d{1,2}月)?(?:末|底|初)?")


def asked_phrase(text: str) -> str:
    """The metric phrase a how-much question asks, with its subject still in front: the words before its
    interrogative, without how the figure is counted, a change asked or the time (某省全省试点贷款最新的累计数是多少？
    → 某省全省试点贷款; 某市试点贷款三季度环比增速是多少 → 某市试点贷款)."""
    body = text.strip().rstrip("？?。！! ")
    m = _ASKING_TAIL.search(body)
    if m is None:
        return ""
    head = body[: m.start()]
    for d in reversed(dates.mentions(head)):  # 在2023年底的, 截至2024年末，: the time is no part of the metric
        head = head[: d.start] + head[d.end :]
    head = re.sub(rf"(?:{_TIME_WORDS.pattern})$", "", head)
    return _FRAMING.sub("", head)


_FRAMING = re.compile(r"^[，,\s]+|(?:在|于|到|截至|截止)?(?:的|时)?[，,\s]*$")  # what framed the time removed


def subjects(q: Question) -> tuple[str, ...]:
    """The places and institutions the question names (not its years, nor a school's name, which may stand inside
    another's: 法学院 in 中法学院): its evidence must name each."""
    return tuple(e for e in q.entities if PLACE.fullmatch(e) or any(n.name == e for n in named(e)))


def mentions(entity: str, text: str) -> bool:
    """True when ``text`` names ``entity`` or one of its aliases."""
    if entity in text:
        return True
    if says_short(text, entity):  # 浦东 in the text names 浦东新区
        return True
    return any(alias in text for alias in (*aliases().get(entity, ()), *other_forms(entity), *also_called(entity)))


def with_full_places(text: str, known: Callable[[str], bool]) -> str:
    """``text`` with each county-level place said short written in full (浦东的… → 浦东新区的…), where the knowledge
    base ``known`` names that place: a district or county is told from its city only by its full name."""
    places = [(m.start(), m.end()) for m in PLACE.finditer(text)]
    out, last = [], 0
    for m in SHORT_NAME.finditer(text):
        if any(a < m.end() and m.start() < b for a, b in places) or not begins_name(text, m.start()):
            continue
        full = next((n for n in full_names(m.group(1)) if known(n)), "")
        if not full:
            continue
        out += [text[last : m.start()], full]
        last = m.end()
    return "".join(out) + text[last:]
