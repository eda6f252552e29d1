"""The last check every rules answer passes before it is given: does what it leads with answer what was asked?

Owns: the checks of a draft's lead against the question's type (a rate asked is answered by a rate, a how-many
question by a figure), its restriction (几个项目通过了验收 needs a sentence that says 通过验收) and, for a
when-question, that the evidence says the event asked (哪一年退出试点 is not answered by a date of 签约用户).
Does not own: choosing the lead (``assistant.facts``, ``assistant.extract``, ``assistant.rows``) or the subject
and time checks the fact registry already applies to each fact (``assistant.facts``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant import question as qn
from assistant.extract import Draft
from kb import dates
from kb.quantity import CHANGE_ASKED, MEASURE_WORDS, change, quantities, same_count, unit_end
from kb.segment import bigrams

# a question asking to add up figures of several subjects (深圳和广州加在一起): no document states such a total
SUM_ASKED = re.compile(r"加在一起|加起来|相加|之和|总和")
RATE_SAID = re.compile(r"\d\s*[%％]|百分点|百分之|[一二三四五六七八九十\d]成|\d\s*[:：]\s*\d|率(?:为|是|达到?)?约?\d")
# what a how-many question counts, named after its measure word, with what it says of it: 几家合作社完成了验收
_RESTRICTION = re.compile(rf"(?:多少|(?<![哪那这])几)[万亿]?[{MEASURE_WORDS}]([\u4e00-\u9fff]{{2,16}})[？?。]?$")
# words that ask nothing of what is counted: particles, and a colloquial doing-together at the end (一块儿办的)
_FILLER = re.compile(r"[了的呢吗啊]")
_DOING = re.compile(r"(?:一起|一块|共同)?(?:搞|弄|干|做|办)?$")
# what a when-question asks the date of, said after its question word (哪一年退出试点的 → 退出试点)
_EVENT = re.compile(r"(?:何时|什么时候|什么时间|哪一?年|哪一?天|哪个月|几月)([\u4e00-\u9fff]{2,12})[？?。]?$")


def check(q: qn.Question, draft: Draft) -> Draft:
    """``draft`` when its lead answers ``q`` by type and restriction (its lead replaced by the figure of the kind
    asked that its own sentence states, where it led with another), else a refusal saying which check failed."""
    if not draft.grounded or not draft.sentences:
        return draft
    if SUM_ASKED.search(q.text) and len(q.entities) > 1:
        return Draft("", (), False, "a total of several subjects no document states")
    draft = _of_the_kind_asked(q, draft)
    if not draft.grounded:
        return draft
    if qn.RATE_ASKED.search(q.text) and draft.lead and not _rate_named(q.text, draft.sentences[0].text, draft.lead):
        return Draft("", (), False, "type: the rate stated is of another thing than the rate asked")
    if qn.RATE_ASKED.search(q.text) and not draft.lead and not any(RATE_SAID.search(s.text) for s in draft.sentences):
        return Draft("", (), False, "type: a rate asked, the evidence states none")
    if q.kind is qn.QUANTITY and not any(_answering(q.text, s.text) for s in draft.sentences):
        return Draft("", (), False, "type: a figure asked, the evidence states none")
    if q.unit == "元" and draft.lead and "元" not in draft.lead:
        return Draft("", (), False, "type: an amount of money asked, the lead is not one")
    if draft.lead and _per_account(draft.lead, draft.sentences[0].text) and not _AVERAGE_ASKED.search(q.text):
        return Draft("", (), False, "type: an average (户均) does not answer a total")
    lead = draft.lead.split("（")[0]  # a fact's lead carries its date: 23万元（截至2024年末）
    if _PER_UNIT_ASKED.search(q.text) and not (lead and _per_account(lead, draft.sentences[0].text, _ANY_AVERAGE)):
        return Draft("", (), False, "type: an average asked (平均每家), the evidence states a total")
    counted = q.unit in COUNTED_UNITS or (q.unit == "家" and _HOW_MANY_OF.search(q.text) is not None)
    if not draft.lead and counted and not any(_counts_in(q.unit, c.text) for c in draft.sentences):
        return Draft("", (), False, f"type: a count in {q.unit} asked, the evidence states none")
    if (q.unit in COUNTED_UNITS or qn.asks_a_count(q.text)) and _AMOUNT_OR_SHARE.search(lead):
        return Draft("", (), False, f"type: a count asked, the lead is an amount or a share ({lead})")
    if not draft.lead and qn.asks_a_count(q.text) and not any(_counts_in(u, c.text) for c in draft.sentences
                                                               for u in _THOSE_SERVED):  # fmt: skip
        return Draft("", (), False, "type: a number of those served asked, the evidence counts none")
    restriction = _unsaid_restriction(_restriction(q.text), draft.sentences[0].text)
    if restriction:
        return Draft("", (), False, f"restriction not in evidence: {restriction}")
    # what the evidence says: its sentences or rows, with the header and caption a row is read under
    said = " ".join(f"{c.hit.chunk.caption} {c.hit.chunk.header} {c.text}" for c in draft.sentences)
    event = _event(q.text) if q.kind is qn.TIME and draft.lead else ""
    if event and _counting_day(draft.lead, said) and not (event[:2] in said or event[-2:] in said):
        return Draft("", (), False, f"event not in evidence: {event}")
    return draft


def _of_the_kind_asked(q: qn.Question, draft: Draft) -> Draft:
    """A rate, a change or a range asked: the draft leading with one (the sentence's own, where the lead is a
    figure of another kind), or a refusal. A registry fact's kind was matched to the question's already."""
    if RANGE_ASKED.search(q.text) and not RANGE.search(draft.lead):
        span = max((_nearest(RANGE, q.text, c.text) for c in draft.sentences), key=lambda r: r[0], default=(0, ""))
        if not span[1] and (q.kind is qn.QUANTITY or "区间" in q.text):  # a rate range asked is not answered by 96户
            return Draft("", (), False, "type: a range asked, the evidence states none")
        if span[1]:
            draft = replace(draft, lead=span[1])  # 利率区间3.1%至4.2%: the range its evidence states leads
    if draft.reason == "fact" or not draft.lead:
        return draft
    first = draft.sentences[0].text
    if q.kind is qn.QUANTITY and qn.RATE_ASKED.search(q.text) and not _rate_stated(draft.lead, draft):
        rate = _nearest(_RATE, q.text, first)[1]
        if not rate:  # a figure of another kind (42.3亿元 for 不良贷款率); a sentence that says 高 may answer
            return Draft("", (), False, "type: a rate asked, the lead is a figure of another kind")
        draft = replace(draft, lead=rate)  # 其中个体商户占比61.5%: the rate its sentence gives, not 300家
    asked = CHANGE_ASKED.search(q.text)
    own = asked is not None and asked.group(0) in _clause_before(draft.lead, first)  # 新增授信: the metric's name
    if asked and not own and not change(draft.lead, len(draft.lead)):
        moved = _change_in(first)
        if not moved:
            return Draft("", (), False, "type: a change asked, the lead is a level")
        draft = replace(draft, lead=moved)  # 较上年末增加6.5亿元: the change its sentence gives, not the level
    return draft


_RATE_WORD = re.compile(r"率|占比|比例|比重")
_PHRASE_START = re.compile(r".*[的，,、中里内是在为]")  # (某某贷里首贷户占比: the share of 首贷户)
RATE_NAME_SHARE = 0.5  # of the asked rate's name's bigrams that the words before the figure must hold


def _rate_named(question: str, sentence: str, lead: str) -> bool:
    """The rate the sentence states is the one asked: the words naming it around the figure hold most of the
    question's name for it (不良贷款率 is not answered by 逾期率0.9%, 女性客户占比 not by 新客户占比40%)."""
    m = _RATE_WORD.search(question)
    at = sentence.find(lead)
    if m is None or at < 0:
        return True
    end = at + len(lead)
    before = question[: m.start()]
    start = _PHRASE_START.match(before)
    name = before[start.end() if start else 0 :][-8:]
    own = set(bigrams(name))
    if len(name) < 2 or not own:
        return True
    said = set(bigrams(sentence[max(0, at - 16) : at])) | set(bigrams(sentence[end : end + 12]))  # 61.1％的…基督徒
    return len(own & said) >= RATE_NAME_SHARE * len(own)


# a per-account figure (户均贷款23.6万元), never a total; 平均 and 人均 are left alone: in general text they name rates
# and shares as often (素数的密度平均为…, 人均国民收入的305.1％)
_AVERAGE = re.compile(r"户均|笔均|件均|每户|每笔|单户|单笔")
_ANY_AVERAGE = re.compile(r"户均|笔均|件均|人均|平均|每户|每笔|每家|单户|单笔")  # what answers 平均每家…多少
_BOUND = re.compile(r"(?:及)?(?:以下|以内|以上)")  # 单户授信1000万元以下: a bound defining a kind of loan
_LIMIT = re.compile(r"最高|最多|最低|上限|下限|不超过|不低于")  # 单户额度最高30万元: a cap, not an average


def _per_account(lead: str, sentence: str, average: re.Pattern[str] = _AVERAGE) -> bool:
    """The lead is a per-account figure (户均贷款20万元, 单户额度3万元至50万元), not a bound that defines a
    kind of loan (单户授信1000万元以下的普惠小微贷款); ``average``: the words that make it one."""
    at = sentence.find(lead)
    before = re.split(r"\d[\d,.]*\s*[万亿]?[^\d\s]{0,2}", _clause_before(lead, sentence))[-1]  # after its last figure
    bound = _LIMIT.search(before) or (at >= 0 and _BOUND.match(sentence, at + len(lead)))
    return bool(average.search(before)) and not bound


_AVERAGE_ASKED = re.compile(r"均|每|单户|单笔")
# a question asking an average per account (平均每家企业贷了多少, 户均多少): a total does not answer it
_PER_UNIT_ASKED = re.compile(r"平均每[家户个人笔]|[户人笔]均[\u4e00-\u9fff]{0,6}?(?:多少|几)|每[家户]平均")
# the counts reports state in figures (a sentence answering 多少户 states 户); 几家 is often answered by naming them
COUNTED_UNITS = ("户", "笔", "台", "张")
_HOW_MANY_OF = re.compile(r"多少家[\u4e00-\u9fff]")  # 多少家网店: a count of them (几家 may be answered by names)
_THOSE_SERVED = ("户", "家", "个", "人")  # what a number of enterprises, households or people is counted in
_AMOUNT_OR_SHARE = re.compile(r"\d(?:万|亿|千)?元|%")  # 12.5亿元, 36.2%: no count of anything


def _counts_in(unit: str, text: str) -> bool:
    """``text`` states a figure counted in ``unit`` (8,412户, 2.17万户)."""
    return any(unit_end(text, q.end) > q.end and same_count(unit, text[q.end : unit_end(text, q.end)].lstrip("万亿"))
               for q in quantities(text))  # fmt: skip


_NUMERAL = re.compile(r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万亿半]+")


def _answering(question: str, text: str) -> bool:
    """``text`` states a number that could answer (年仅两岁, 一半以上 count): not an ordinal (第二批) unless the
    question asks one (第几张), nor a number the question itself says."""
    ordinal = "第几" in question
    in_dates = (
        [(d.start, d.end) for d in dates.mentions(text, dates.ANY_YEAR)] if not _TIME_ASKED.search(question) else []
    )
    said = {n.group(0) for n in _NUMERAL.finditer(question)}  # the question's own numbers, whole (2 is no 2023)
    return any((ordinal or text[max(0, m.start() - 1) : m.start()] != "第") and m.group(0) not in said
               and not any(a <= m.start() < b for a, b in in_dates)  # 2024年2月上线 counts nothing
               for m in _NUMERAL.finditer(text))  # fmt: skip


_TIME_ASKED = re.compile(r"(?:多少|几|哪)(?:年|个月|月|日|天|号|岁)|什么时候|何时|日期|时间")


def _rate_stated(lead: str, draft: Draft) -> bool:
    """The lead is a rate, or its evidence states it as one (收视率为7.07, 比例约为1：7)."""
    if RATE_SAID.search(lead):
        return True
    for c in draft.sentences:
        at = c.text.find(lead)
        if at >= 0 and RATE_SAID.search(c.text[max(0, at - 6) : at + len(lead) + 3]):
            return True
    return False


def _restriction(question: str) -> str:
    """What a how-many question counts and requires of it, said after its measure word (合作社完成验收), or
    ""; the evidence must hold most of it."""
    m = _RESTRICTION.search(question)
    words = _DOING.sub("", _FILLER.sub("", m.group(1))) if m else ""
    return words if len(words) >= 2 else ""


# 增长幅度 asks a magnitude and 在全省范围内 a scope, not a range
RANGE_ASKED = re.compile(r"区间|上下限|从多少到多少|范围(?:是|为|在)?(?:多少|多大|怎样|如何|哪里)|什么范围|哪个范围")
_FIGURE = r"\d[\d,.]*\s*(?:[%％]|[万亿]?[元户人家笔个项台张]|个百分点)?"
RANGE = re.compile(rf"{_FIGURE}\s*(?:至|到|~|～|—|－|-)\s*{_FIGURE}")


def _nearest(pattern: re.Pattern[str], question: str, sentence: str) -> tuple[int, str]:
    """The ``pattern`` figure in ``sentence`` whose preceding words share most bigrams with ``question`` (其中个体
    商户占比61.5% for 个体商户占比多少; 利率区间3.1%至4.2% for 利率在什么范围), with how many they share; (0, "") when
    none shares any."""
    asked = set(bigrams(question))
    found = [(len(asked & set(bigrams(sentence[max(0, m.start() - 12) : m.start()]))), m.group(0).strip())
             for m in pattern.finditer(sentence)]  # fmt: skip
    best = max(found, default=(0, ""))
    return best if best[0] > 0 else (0, "")


_RATE = re.compile(r"\d[\d.]*\s*[%％]|\d[\d.]*个?百分点")


def _clause_before(lead: str, sentence: str) -> str:
    """The words of ``sentence`` before the lead's figure in its clause (计划新增授信 before 3.2亿元)."""
    at = sentence.find(lead)
    return re.split(r"[，,；;。：:]", sentence[:at])[-1] if at > 0 else ""


def _change_in(sentence: str) -> str:
    """The first change against a base the sentence states, with its words (较上年末增加6.5亿元), or ""."""
    for x in quantities(sentence):
        words = change(sentence, x.start)
        if words:
            return words + sentence[x.start : unit_end(sentence, x.end)]
    return ""


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _unsaid_restriction(tail: str, sentence: str) -> str:
    """What the question requires of what it counts that the sentence's own count leaves out: where the sentence
    counts the question's noun (共有8个项目 for 几家合作社完成了验收), the words after that noun in the question
    (通过验收) must stand in the sentence by their head; "" when they do, or the sentence counts something else (3名
    子女 for 几个孩子: a synonym is no restriction)."""
    for x in quantities(sentence):
        stop = unit_end(sentence, x.end)
        noun = sentence[stop:][:2]
        if stop > x.end and not _CJK.fullmatch(noun[:1] or "。"):  # 洛阳市5个。: the noun counted is left out
            if len(tail) >= 4 and tail[-2:] not in sentence:
                return tail
            continue
        at = tail.find(noun) if len(noun) == 2 and noun.isalpha() else -1
        rest = tail[at + 2 :] if at >= 0 else ""
        if len(rest) >= 2 and rest[-2:] not in sentence:
            return rest
    return ""


def _counting_day(lead: str, text: str) -> bool:
    """The evidence words the lead's date as the day a figure was counted at (截至2020年9月3日)."""
    at = text.find(lead)
    return at > 0 and text[max(0, at - 3) : at].endswith(("截至", "截止"))  # 11月20日至11月30日 is a period


def _event(question: str) -> str:
    """What a when-question asks the date of (退出试点), or ""; its evidence must say it: its first or last two
    characters (the verb, or the head of what it does) stand there (a date of 签约用户 does not say 停止)."""
    m = _EVENT.search(question)
    words = _FILLER.sub("", m.group(1)).removeprefix("是") if m else ""
    return words if len(words) >= 2 and not re.search(r"[几哪]|多少", words) else ""  # 几月几号 asks a day
