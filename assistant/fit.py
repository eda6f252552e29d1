"""How well a fact fits a question: the share of its metric the question says, whether the question asks it by
its object alone (试点贷款累计数 → 发放贷款), and whether it is of the kind asked (a change for a change, a count of
the noun and unit asked, a share for a rate, a range for a range, no period's new figure for a level).

Owns: these measures of one fact against one question. Does not own: finding the facts (``assistant.facts``), the
question's reading (``assistant.question``) or the wording lexicon (``kb.wording``).
"""

from __future__ import annotations

import re

from assistant import question as qn
from assistant.match import RANGE, RANGE_ASKED
from assistant.series import bare, change_base, flow, flow_asked, is_change, of_projects
from kb.places import PLACE
from kb.quantity import CHANGE_ASKED, MEASURE_WORDS, same_count
from kb.records import Fact
from kb.segment import bigrams
from kb.wording import LIGHT_VERB, canonical


def measured(f: Fact) -> str:
    """What a fact's metric says it measures, without its unit note or its own subject's name (华沙大约有130万人:
    the metric 华沙大 names 华沙, which measures nothing)."""
    metric = bare(f.metric)
    return metric.replace(f.subject, "") if f.subject and f.subject != metric else metric


def metric_share(f: Fact, grams: set[str]) -> float:
    """How much of the fact's metric the question says, in the wording lexicon's forms: of the whole metric, or of
    what it measures of the projects it names first (金融科技应用试点项目累计发放贷款: the projects' 累计发放贷款),
    whichever the question says more of."""
    words = measured(f)
    return max(share(canonical(m), grams) for m in (words, of_projects(words)))


def object_asked(question: str, f: Fact) -> bool:
    """The question asks the object of the fact's metric by itself: the metric is a verb that says nothing beyond
    its object (发放贷款, 服务市场主体) and the question's metric phrase is that object alone, with nothing but
    its subject, 试点 and how it is counted before it (某省全省试点贷款的累计数 → 贷款)."""
    metric = canonical(of_projects(measured(f)) or measured(f))
    verb = LIGHT_VERB.match(metric)
    if not verb or len(metric) - verb.end() < 2:
        return False
    asked = _CHANGE_TAIL.sub("", qn.asked_phrase(question))  # 试点贷款新增了: a change of 贷款, its qualifier's
    obj = metric[verb.end() :]
    return asked.endswith(obj) and not _MODIFIED.sub("", PLACE.sub("", asked[: -len(obj)]))


_CHANGE_TAIL = re.compile(r"(?:同比|环比)?(?:新增|增加|增长|下降|减少|上涨|涨)了?$")


# what may stand before the object asked and still ask it alone (after its places): the programme's words
_MODIFIED = re.compile(
    r"[我本全][省市区县]|金融科技|应用|试点|项目|的|[\s，,]|[那这](?:边|里|个|几个|些)|目前|现在|至今|累计|一共"
    r"|哪[个家座一所]?(?:城市|地市|盟市|区县|市|区|县|省|银行|机构)?"  # (哪个区的试点贷款: each district's)
    r"|(?:\d{4}年)?\d{1,2}\s*[-—–~至到]\s*\d{1,2}月"  # (1—10月试点贷款: the period the question asks)
)


_COUNTED = re.compile(rf"(?:多少|(?<![哪那这])几)[万亿]?[{MEASURE_WORDS}]{qn.AMONG_SEVERAL}([\u4e00-\u9fff]{{1,10}})")
_NOT_NOUN = re.compile(r"[？?，,。的了是在有被]|通过|纳入|参与")


def counts_it(question: str, f: Fact) -> bool:
    """The question counts, in the fact's unit, a noun its metric holds (多少户民宿 for 民宿经营户 1,212户), or a
    one-character noun its metric is (多少个县 for 县 53个)."""
    noun = counted(question)
    unit = _COUNTED.search(question)
    named = (len(noun) >= 2 and noun in f.metric) or noun == f.metric  # 多少个县（市、区） for 五十三个县
    return named and unit is not None and same_unit(unit.group(0)[-len(noun) - 1], f.unit)


def counted(question: str) -> str:
    """What a how-many question counts, when it names it after the measure word (多少家合作药店 → 合作药店)."""
    m = _COUNTED.search(question)
    return _NOT_NOUN.split(m.group(1))[0] if m else ""


def _heads_agree(asked: str, metric: str) -> bool:
    """The noun counted and the fact's metric name one kind of thing: the last two characters (the head of a
    Chinese noun phrase) of one stand in the other (试点项目 and 项目 agree; 合作药店 and 项目 do not)."""
    if len(asked) < 2 or len(metric) < 2:
        return True
    return asked[-2:] in metric or metric[-2:] in asked


def share(phrase: str, grams: set[str]) -> float:
    """The share of ``phrase``'s bigrams that the question holds."""
    own = set(bigrams(phrase))
    return len(own & grams) / len(own) if own else 0.0


def same_unit(asked: str, unit: str) -> bool:
    unit = unit.lstrip("万亿")
    return same_count(asked, unit) or (asked == "元" and unit.endswith("元"))


def same_kind(q: qn.Question, f: Fact) -> bool:
    """The fact is of the kind the question asks: a change (against the base asked) for a change and a level for
    a level, no period's new figure (新增) for a level, a range for a range, a share for a rate or growth and only
    then, a count of the noun counted, in the unit asked."""
    moved = CHANGE_ASKED.search(q.text)
    own = moved is not None and moved.group(0) in f.metric  # 新增授信 may be the metric's own name
    if bool(moved) != is_change(f) and not own:
        return False  # a change (较上年末增加75.8亿元) answers only a question about a change, and only it does
    if moved and change_base(q.text) and change_base(f.qualifier) not in ("", change_base(q.text)):
        return False  # 同比 asked: a change against the year's start (较上年末增长) is another figure
    if flow(f) and not flow_asked(q.text):
        return False  # 一季度新增服务0.36万户 is no count of those served so far
    if RANGE_ASKED.search(q.text) and not RANGE.search(f.text):
        return False  # 利率区间 is answered by 3.1%至4.2%, not by one figure
    shared = "%" in f.text or "百分点" in f.unit or "%" in f.unit
    if shared != bool(qn.RATE_ASKED.search(q.text) or (shared and qn.GROWTH.search(q.text))):
        return False  # a share answers a rate or growth question (减少了多少股份 is no share), 百分之几 only a share
    if qn.asks_a_count(q.text) and (f.unit.endswith("元") or shared or bare(f.metric).endswith("项目")):
        return False  # 帮扶了多少经营主体 is no amount lent, nor a count of projects
    if not _heads_agree(counted(q.text), bare(f.metric)):
        return False  # 多少家合作药店 is not answered by a count of 项目
    return not q.unit or same_unit(q.unit, f.unit) or (f.source_kind == "cell" and not f.unit)


def plain_figure(f: Fact) -> bool:
    """A figure written in digits, or a Chinese numeral of more than one character (两个 and 三项 in running text
    are more often wording than figures)."""
    return f.text[:1].isdigit() or len(f.text) - len(f.unit) > 1
