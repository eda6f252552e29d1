"""Comparisons and totals: "which one has the most" (哪座城市承担的项目最多, 哪家银行放款最快) and "the two added
up" (甲市和乙市的贷款加起来) answered from the registry.

Owns: reading a superlative which-question (the kind of subject asked — a place or an institution — and whether
the most or the least), and answering it by comparing the figures of each subject that match the question's metric
and time: the subject named, its figure and each other subject's, every one cited. Refuses (None) when fewer than
two subjects have a comparable figure, or the top two are equal. A total no document states stays a refusal; where
every subject named has a figure of the metric on one common date, the refusal shows the sum as computed (计算得出),
each part cited. Does not own: matching a fact to the question
(``assistant.facts``) or what the figures mean.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from assistant import question as qn
from assistant.extract import Candidate, Draft
from assistant.facts import FactAnswerer
from assistant.match import SUM_ASKED
from assistant.series import MOST, SERIES_GAP, Scored, amount, is_change, said
from kb.dates import TimeAsked
from kb.entities import named
from kb.places import PLACE, lies_in, same_place
from kb.quantity import CHANGE_ASKED, scaled
from kb.records import Fact, Hit

# which subject: a kind of place or institution asked (哪个城市, 哪家银行), not which year or quarter
_WHICH = re.compile(
    r"哪家|哪[个一座些所]?(?:城市|市|地市|盟市|地区|地方|省|县|区|州|盟|银行|机构|单位|项目|农商行|分行|企业|公司)"
)
_LEAST = "少小低慢短"
_PLACE_ASKED = re.compile(r"哪[个座一]?(?:城市|市|地市|盟市|地区|地方|省|县|区|州|盟)")
# which of the two named (甲市和乙市比，哪边…更多; 甲市与乙市哪个放款更快): the named ones compared
_WHICH_OF = re.compile(r"哪边|哪个|哪一个|哪方|谁")
_MORE = re.compile(r"更(多|大|高|快|长|少|小|低|慢|短)")
_ORG_ASKED = re.compile(r"哪[个家一所]?(?:银行|机构|单位|法人|农商行|分行)")
# 除武汉外 / 除了武汉以外 / 除了武汉，: the subject left out
_EXCEPT = re.compile(r"除(?:了)?([^，,。？?]{1,16}?)(?:以外|之外|外)[，,]?|除了([^，,。？?]{1,16}?)[，,]")
MAX_SHOWN = 4  # subjects quoted: the one named and the next ones


def asked(text: str) -> bool:
    """``text`` asks which subject has the most or least of something, or which of two it names has more."""
    return bool(_WHICH.search(text) and MOST.search(text)) or _of_two(text)  # 哪个城市…最多, 最多的是哪个城市


def _of_two(text: str) -> bool:
    """``text`` names two places or more, none inside another, and asks which of them has more (甲市和乙市相比，哪个
    …更多); not which bank or project of them (哪个项目…最多)."""
    places = list(dict.fromkeys(m.group(0) for m in PLACE.finditer(text)))
    apart = [p for p in places if not any(lies_in(p, o) or lies_in(o, p) for o in places if o != p)]
    other_kind = _WHICH.search(text) and not _PLACE_ASKED.search(text)
    return (
        len(apart) >= 2
        and not other_kind
        and bool(_WHICH_OF.search(text) and (_MORE.search(text) or MOST.search(text)))
    )


def answer(facts: FactAnswerer, q: qn.Question, hits: Sequence[Hit], asked_time: TimeAsked | None) -> Draft | None:
    """The subject with the most (or least) of what ``q`` asks, with its figure and the others', each cited; None
    when the documents give fewer than two comparable figures, or the first two are equal."""
    most = MOST.search(q.text) or _MORE.search(q.text)
    if most is None:
        return None
    excluded = _EXCEPT.search(q.text)  # 除武汉外，湖北哪个城市…: 武汉 is no candidate, nor a name evidence must hold
    text = q.text.replace(excluded.group(0), "") if excluded else q.text
    left_out = {n.name for n in named(excluded.group(1) or excluded.group(2))} if excluded else set()
    kept = tuple(e for e in q.entities if not any(e == x or same_place(e, x) for x in left_out))
    if _of_two(text):  # 甲区和乙区比: each compared figure names one of them, not both
        kept = tuple(e for e in kept if not PLACE.fullmatch(e))
    alone = replace(q, text=text, kind=qn.QUANTITY, entities=kept)
    found = facts.matches(alone, hits, asked_time)
    found = [s for s in found if not any(same_place(s.fact.subject, x) or s.fact.subject == x for x in left_out)]
    if _ORG_ASKED.search(text) and not _PLACE_ASKED.search(text):
        found = _by_institution(facts, found)
    best = _each_subject(found, text, facts.knobs.fact_w_subject)
    if len(best) < 2:
        return None
    least = most.group(1) in _LEAST
    ranked = sorted(best.values(), key=lambda s: amount(s.fact) or 0.0, reverse=not least)
    if amount(ranked[0].fact) == amount(ranked[1].fact):
        return None
    cands: list[Candidate] = []
    for s in ranked[:MAX_SHOWN]:
        cand = facts.candidate(s)
        if cand is None:
            return None
        cands.append(cand)
    first = ranked[0].fact
    shown = zip(ranked[1:], cands[1:], strict=False)  # ranked may hold more subjects than are shown
    others = "、".join(f"{s.fact.subject}{said(s.fact, quote=c.text)}" for s, c in shown)
    lead = f"{first.subject}{most.group(0)}：{said(first, quote=cands[0].text)}；{others}"
    return Draft(lead, tuple(cands), True, reason="fact")


def _by_institution(facts: FactAnswerer, found: list[Scored]) -> list[Scored]:
    """For 哪家银行…最多: a table row's figure of a project is the figure of the one institution its row names
    (某产业链贷 | 甲银行 | 某市 | 累计放款 | 5.2亿元 → 甲银行's); none when a bank leads more than one row."""
    out, rows_of = [], Counter[tuple[str, str, str | None]]()
    for s in found:
        if s.fact.source_kind == "cell" and not any(n.kind == "org" for n in named(s.fact.subject)):
            orgs = {n.name for n in named(facts.row(s.fact)) if n.kind == "org"}
            if len(orgs) == 1:
                s = replace(s, fact=replace(s.fact, subject=orgs.pop()))
                rows_of[(s.fact.subject, s.fact.metric, s.fact.as_of)] += 1
        out.append(s)
    # a bank that leads several projects has their sum, which no row states: no comparison by bank then
    return [] if any(n > 1 for n in rows_of.values()) else out


def _each_subject(found: list[Scored], question: str, w_subject: float) -> dict[str, Scored]:
    """Each subject's figure (of the kind of subject asked, not the place asked within): the best match of the
    metric (the subjects compared are none the question names), newest of those as good; a subject that lists
    several (佛山、东莞等市) is no one subject."""
    kind = "place" if _PLACE_ASKED.search(question) else "org" if _ORG_ASKED.search(question) else ""
    fit = [s for s in found if _compared(s, kind, question)]
    if not fit:
        return {}
    top = max(s.score - s.subject * w_subject for s in fit)
    out: dict[str, Scored] = {}
    for s in fit:
        name = named(s.fact.subject)[0].name
        held = out.get(name)
        newer = held is None or (s.fact.as_of or "") > (held.fact.as_of or "")
        if s.score - s.subject * w_subject >= top - SERIES_GAP and newer:
            out[name] = s
    return out


def _compared(s: Scored, kind: str, question: str) -> bool:
    """The figure is a level of one subject of the kind asked (a city for 哪个城市, not the province asked within)."""
    f = s.fact
    names = named(f.subject)
    moved = CHANGE_ASKED.search(question)
    own = moved is not None and moved.group(0) in f.metric  # 新增贷款 may be the metric's own name
    if (bool(moved) != is_change(f) and not own) or amount(f) is None or len(names) != 1:
        return False  # levels compared, or changes where a change is asked (较上年末增长最多, 同比增速最快)
    if _of_two(question):  # the named ones, and only they
        return bool(PLACE.fullmatch(f.subject)) and _named_in(f.subject, question)
    if kind == "place":
        return bool(PLACE.fullmatch(f.subject)) and not _named_in(f.subject, question)
    return kind != "org" or names[0].kind == "org"


def _named_in(subject: str, question: str) -> bool:
    return any(same_place(m.group(0), subject) for m in PLACE.finditer(question))


def total(facts: FactAnswerer, q: qn.Question, hits: Sequence[Hit], asked_time: TimeAsked | None) -> Draft | None:
    """For a question adding up the figures of two or more subjects it names: a refusal that says no document
    states the total, and — when each subject has a figure of the metric on one common date — the sum computed from
    them, each part cited; None when the question names fewer than two subjects."""
    orgs = [n for n in named(q.text) if n.kind == "org"]
    places = [m.group(0) for m in PLACE.finditer(q.text) if not any(o.start <= m.start() < o.end for o in orgs)]
    names = places + [o.name for o in orgs]  # 杭州银行 is one bank, not 杭州 too
    subjects = list(dict.fromkeys(names))
    if len(subjects) < 2 or not SUM_ASKED.search(q.text):
        return None
    refusal = Draft("", (), False, "a total of several subjects no document states")
    parts = [_figures(facts, q, name, [o for o in subjects if o != name], hits, asked_time) for name in subjects]
    common = set.intersection(*({s.fact.as_of for s in p if s.fact.as_of} for p in parts))
    if not common:
        return refusal
    day = max(common)
    chosen = [next(s for s in p if s.fact.as_of == day) for p in parts]
    units = {s.fact.unit.lstrip("万亿") for s in chosen}
    cands = [facts.candidate(s) for s in chosen]
    if len(units) != 1 or any(c is None for c in cands):
        return refusal
    unit = _written_unit(chosen[0].fact)
    whole = sum(scaled(s.fact.value or 0.0, s.fact.unit) for s in chosen) / scaled(1.0, unit)
    terms = "＋".join(f"{s.fact.subject}{_figure(s)}[{i}]" for i, s in enumerate(chosen, start=1))
    said_day = chosen[0].fact.as_of_text or day
    instead = (
        f"资料中没有直接给出{'、'.join(subjects)}的合计；按各自{said_day}的数字计算得出：{terms}＝{_plain(whole)}{unit}"
    )
    return replace(refusal, sentences=tuple(c for c in cands if c is not None), instead=instead)


def _figures(facts: FactAnswerer, q: qn.Question, name: str, others: list[str], hits: Sequence[Hit],
             asked_time: TimeAsked | None) -> list[Scored]:  # fmt: skip
    """The levels of ``name``'s metric the question asks, best first: the question read without the other
    subjects it names."""
    text = q.text
    for other in others:
        text = text.replace(other, "")
    alone = replace(q, text=text, kind=qn.QUANTITY, entities=tuple(e for e in q.entities if e not in "".join(others)))
    found = facts.matches(alone, hits, asked_time)
    return [s for s in found if s.subject == 1.0 and not is_change(s.fact) and amount(s.fact) is not None]


def _figure(s: Scored) -> str:
    """A figure with its unit (a table cell's unit stands in its header: 836.9 → 836.9亿元)."""
    f = s.fact
    return f.text if f.text.endswith(f.unit) else f"{f.text}{f.unit}"


def _written_unit(f: Fact) -> str:
    """The unit a figure is written in (72.4亿元: 亿元, though the registry keeps its value in 元)."""
    text = f.text.strip()
    digits = len(text) - len(text.lstrip("0123456789.,，"))
    return text[digits:] if digits and text[digits:] else f.unit


def _plain(x: float) -> str:
    """A sum written as figures are (1354.2, 1046720, not 1.04672e+06)."""
    return f"{x:.4f}".rstrip("0").rstrip(".")
