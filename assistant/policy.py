"""The answer policy: which strategy answers a question, in what order, and when the answer is a refusal.

Owns the order the rules' strategies are tried in — a comparison or a total asked (``assistant.compare``), a table
row asked by its position (``assistant.rows``), a registry fact (``assistant.facts``), the best sentences
(``assistant.extract``) — the one check every draft passes (``assistant.match``, then the registry's reading of a
sentence's figure), and, for a time no evidence covers, the refusal that says what the documents hold instead.
Does not own the strategies, retrieval or how an answer is worded with its citations (``assistant.core``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant import compare, issued, match, rows
from assistant import question as qn
from assistant.extract import Candidate, Draft, Extractor
from assistant.facts import FactAnswerer
from kb import dates
from kb.entities import named
from kb.quantity import MEASURE_WORDS, quantities
from kb.records import Hit
from kb.store import KnowledgeBase


@dataclass(frozen=True)
class Strategies:
    """What drafts an answer: the registry, the sentence extractor and the knowledge base (for table rows)."""

    facts: FactAnswerer
    extractor: Extractor
    kb: KnowledgeBase


@dataclass(frozen=True)
class Found:
    """A question's evidence: every hit (any date), those of the time asked, the ones answered from, and their
    ranked sentences."""

    any_time: list[Hit]
    in_time: list[Hit]
    hits: list[Hit]
    cands: list[Candidate]


def decide(s: Strategies, q: qn.Question, found: Found, asked: dates.TimeAsked | None,
           from_facts: Draft | None) -> Draft:  # fmt: skip
    """The rules' draft for ``q``: the first strategy that answers, checked; else a refusal with its reason (and,
    for a time asked that nothing covers, what the documents hold instead)."""
    if asked and not found.in_time:
        rules = Draft("", (), False, f"no evidence dated {asked.text}")
    else:
        which = compare.asked(q.text)
        compared = compare.answer(s.facts, q, found.in_time, asked) if which else None
        compared = compared or compare.total(s.facts, q, found.in_time, asked)
        at_row = rows.answer(s.kb, q, found.hits)  # a row asked by its position (第三名) is the table's to answer
        at_row = at_row or issued.answer(s.kb, q, found.hits)  # 那份通知是什么时候下发的: the document's own date
        from_facts = None if which else from_facts  # 哪个城市…最大 asks a name of figures compared, not one figure
        rules = match.check(q, compared or at_row or from_facts or s.extractor.answer(q, found.cands))
        if which and not compared and rules.grounded and _only_a_figure(rules.lead):
            rules = Draft("", (), False, "kind: which one is asked, and a figure names none")
        rules = s.facts.checked(q, rules, found.in_time, asked)  # another place's or date's figure, or corrected
    if asked and not rules.grounded and not rules.instead:
        rules = instead(s.facts, q, found.any_time, asked, rules)
    return rules


def _only_a_figure(lead: str) -> bool:
    """A lead that states a figure and names nothing (161.37亿元): no answer to which one has the most."""
    return bool(quantities(lead)) and not named(lead)


def instead(facts: FactAnswerer, q: qn.Question, found: list[Hit], asked: dates.TimeAsked, refused: Draft) -> Draft:
    """For a question whose time the rules could not answer: a fact of that time that names the whole metric
    asked, else the refusal with the newest figure of the same subject and metric the documents do hold
    (资料中没有2019年末的“移动支付终端布放”；最新为3200台（2018年末）)."""
    dated = facts.answer(q, found, asked, whole_metric=True)  # a fact of that time whose whole metric is asked
    if dated is not None and dated.grounded and match.check(q, dated).grounded:
        return match.check(q, dated)
    newest = facts.answer(q, found, None, whole_metric=True)
    if newest is None or not newest.grounded or not newest.sentences:
        return refused
    if not dates.mentions(newest.lead, newest.sentences[0].hit.date):  # 截至三季度: its report's year's
        return refused  # a figure of no stated date: nothing to say against the time asked
    what = topic(without_words(q.text, asked.text))
    when = asked.text.removesuffix("时")
    if _RELATIVE_YEAR.search(when):  # 今年 is read against today: say which year that is
        when += f"（{asked.until[:4]}年）"  # (截至今年3月5日 asks from the beginning of time until then)
    said = f"资料中没有{when}的“{what}”；最新为{newest.lead.split('；')[0]}"
    return replace(refused, sentences=newest.sentences[:1], instead=said)


_RELATIVE_YEAR = re.compile(r"今年|去年|本年|上年|前年|当年")
_ASKING = re.compile(rf"(?:了|有|是|为)?(?:多少|(?<![哪那这])几)[万亿]?[{MEASURE_WORDS}元]?.*$")
_TRAILING = re.compile(r"(是多少|有多少|是什么|有哪些|是哪些|是谁|是哪[一几]?家|是否|吗|呢|么)?[？?。！!\s]*$")


def without_words(question: str, words: str) -> str:
    """The question without the words of the time it asks and what asks for the figure (2019年末移动支付终端布放了
    多少台 → 移动支付终端布放)."""
    framed = re.sub(
        rf"(?:以|按|截至|截止|到|在)?{re.escape(words)}(?:为时点|的口径|那天|的时候|时)?[，,的]?", "", question
    )
    return _ASKING.sub("", framed).strip("，,、 的") or question


def topic(question: str) -> str:
    """The subject of a question, for the refusal sentence (广东省试点项目数量是多少？ → 广东省试点项目数量)."""
    return _TRAILING.sub("", question.strip()) or question.strip()
