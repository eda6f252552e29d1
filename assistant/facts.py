"""Answers from the fact registry: a quantity or look-up question matched to facts by subject, metric and time.

Owns: reading the facts of the documents retrieval found, scoring each against the question (its subject named
in the question, its metric's words in the question, every place and year the question names in the fact's
context, the unit asked for, the time asked for), choosing the figure (the one dated in the time asked, else the
newest dated one) and the lead that says it with its date, and the older different figures beside it, each
quoted from its sentence or table row. Does not own: extracting facts (``ingest.facts``), which facts form one
series and how a figure is said (``assistant.series``), sentences (``assistant.extract``) or citations as records
(``assistant.cite``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from assistant import question as qn
from assistant.extract import Candidate, Draft
from assistant.fit import counts_it, measured, metric_share, object_asked, plain_figure, same_kind, same_unit, share
from assistant.series import (
    GROUP_WORDS,
    MOST,
    PLURAL,
    SERIES_GAP,
    Scored,
    change_base,
    flow,
    flow_asked,
    named_beside,
    older,
    said,
    same_day,
    same_head,
    same_metric,
    same_series,
    undated,
)
from kb.catalog import FactQuery
from kb.corrections import replacements, supersede
from kb.dates import TimeAsked
from kb.places import PLACE, asked_among, core, lies_in, other_place, same_place
from kb.quantity import CHANGE_ASKED, with_qualifier
from kb.records import Fact, Hit
from kb.segment import aliases, bigrams, normalize
from kb.settings import AnswerKnobs
from kb.store import KnowledgeBase
from kb.wording import canonical, squeezed

_NOT_CONTENT = set(bigrams("多少是什么哪些几个一共总共分别请问有没有"))
OPENING_CHARS = 160  # a document's first lines: its title, issuer and date
# the newest facts of a subject the question names read from the registry beyond the retrieved documents' (a
# bound on the work of one question at 100k chunks, far above one subject's facts in any report set here)
SUBJECT_FACTS = 300


class FactAnswerer:
    """Matches questions to the registry's facts of one knowledge base."""

    def __init__(self, kb: KnowledgeBase, knobs: AnswerKnobs | None = None) -> None:
        self.kb = kb
        self.knobs = knobs or AnswerKnobs()
        self._rows: dict[tuple[str, int, int], str] = {}  # rows read for the question being answered
        self._products: tuple[int, frozenset[str]] | None = None  # (the registry's size, its quoted names)

    def products(self) -> frozenset[str]:
        """The names the registry's subjects give in quotes (金帆数链贷 of “金帆数链贷”): products and projects a
        question may name without quotes; read again when the registry has changed."""
        count = self.kb.fact_count()
        if self._products is None or self._products[0] != count:
            names = {m.group(1) for s in self.kb.quoted_subjects() for m in _QUOTED.finditer(s)}
            self._products = (count, frozenset(names))
        return self._products[1]

    def names(self, subject: str) -> bool:
        """Some fact of the knowledge base is of ``subject`` (or of a subject naming it)."""
        return bool(self.kb.facts(FactQuery(subject=subject, limit=1)))

    def matches(self, q: qn.Question, hits: Sequence[Hit], asked: TimeAsked | None,
                ranked: Sequence[Candidate] = ()) -> list[Scored]:  # fmt: skip
        """The facts of the retrieved documents that answer ``q``, best first, each with how much of its subject the
        question names, how much of the rest of the question its subject holds, and whether its sentence is among
        the ``fact_near`` the rules rank best (``ranked``)."""
        self._rows = {}
        near = {(c.hit.chunk.doc_id, c.start) for c in ranked[: self.knobs.fact_near]}
        of_doc = {h.chunk.doc_id: h for h in reversed(hits)}  # each document's best hit
        if not of_doc:
            return []
        grams = set(bigrams(squeezed(q.text))) - _NOT_CONTENT
        out = []
        facts = self._with_corrections(of_doc)
        facts += self._of_subjects(q, {(f.doc_id, f.value_start) for f in facts})
        of_doc |= self._hits_of([f for f in facts if f.doc_id not in of_doc])
        openings = self._openings(list(of_doc))
        for f in supersede(facts):
            hit = of_doc.get(f.doc_id)
            if hit is None:
                continue
            score, subject = self._score(q, grams, f, hit.title, asked, openings.get(f.doc_id, ""))
            if score >= self.knobs.fact_min_score:
                rest = grams - set(bigrams(canonical(measured(f))))
                owner = f"{f.subject} {hit.title}" if f.source_kind == "text" else f.subject
                held = len(rest & set(bigrams(owner))) / len(rest) if rest else 0.0
                out.append(Scored(f, score, hit, subject, held, (f.doc_id, f.start) in near))
        return sorted(out, key=lambda s: -s.score)

    def _openings(self, doc_ids: list[str]) -> dict[str, str]:
        """Each document's first lines (its issuer: 人民银行南京分行), which name whose report it is."""
        return dict(zip(doc_ids, self.kb.quotes([(d, 0, OPENING_CHARS) for d in doc_ids]), strict=True))

    def _score(self, q: qn.Question, grams: set[str], f: Fact, title: str, asked: TimeAsked | None,
               opening: str = "") -> tuple[float, float]:  # fmt: skip
        """How well ``f`` answers ``q`` (metric share + weighted subject share; 0 when it cannot), and how much of
        its subject the question names (1 when all of it); ``opening``: its document's first lines, where an
        institution the question names (the report's issuer) may stand."""
        metric = metric_share(f, grams)
        if metric < self.knobs.fact_min_metric and (object_asked(q.text, f) or counts_it(q.text, f)):
            metric = self.knobs.fact_min_metric  # 某市贷款一共多少: the 贷款 of 发放贷款 asked by itself
        if metric < self.knobs.fact_min_metric:
            return 0.0, 0.0
        if f.source_kind == "text" and q.kind is not qn.QUANTITY:
            return 0.0, 0.0  # running text answers how-many questions; a table cell answers look-ups too
        if q.kind in (qn.INSTITUTION, qn.PERSON) and f.value is not None:
            return 0.0, 0.0  # who or which bank is answered by a name, never by a figure
        if f.value is None and (MOST.search(q.text) or normalize(f.text) in normalize(q.text)):
            return 0.0, 0.0  # 授信最高的是哪家: figures compared, not a name; 某行牵头的项目在哪: not 某行 itself
        # a figure in running text is also its document's (招生计划30人 in …2016年音乐表演专业招生简章); a cell's
        # subject is its row's
        owner = share(title, grams) if f.source_kind == "text" else 0.0
        named_whole = f.subject and (
            normalize(f.subject) in normalize(q.text)
            or any(a in q.terms for a in aliases().get(f.subject, ()))
            or any(same_place(p.group(0), f.subject) for p in PLACE.finditer(q.text))
            or asked_among(f.subject, q.text)
        )  # 工行 for 省工行; 深圳 for 深圳市; 沈阳市 for 辽宁哪个市
        if f.source_kind == "text" and not (plain_figure(f) or (named_whole and PLACE.fullmatch(f.subject))):
            return 0.0, 0.0  # 两个, 三项: wording more often than figures, unless a place the question names has them
        subject = 1.0 if named_whole else max(share(f.subject, grams), owner)
        score = metric + self.knobs.fact_w_subject * subject
        context = f"{f.subject} {f.caption} {f.header} {title} {f.metric}"
        names = self._names_all(q, f, context, opening)
        if names is None:
            return 0.0, 0.0  # a place, institution or year the question names is not this fact's
        if names == "row" and f.value is None:  # 长沙有哪几家银行牵头: each row of a project in 长沙 answers
            score, subject = score + self.knobs.fact_w_subject * (1.0 - subject), 1.0  # (its figures stay its own)
        if other_place(f.subject, q.text):
            return 0.0, 0.0  # 深圳市's figure does not answer for 广东 (nor 广东省's for 深圳)
        if not same_kind(q, f):
            return 0.0, 0.0  # a level for a change, a total for a share, another count's noun or unit
        if asked is not None and not _in_time(f, context, asked):
            return 0.0, 0.0
        return score, subject

    def _names_all(self, q: qn.Question, f: Fact, context: str, opening: str) -> str | None:
        """Whether every place, institution and year the question names is the fact's: in its subject, table,
        title or metric ("context"), or, for a cell, in its row (某订单融资项目 | 某银行 | 株洲: "row"); an
        institution may also be the report's issuer, named in its first lines. None when one is not."""
        missing = [e for e in q.entities
                   if not qn.mentions(e, f"{context} {opening}" if _institution(e) else context)]  # fmt: skip
        if missing and f.source_kind == "text":  # 某项目（某农商银行）：…: the institution that leads the project
            leader = re.search(re.escape(f.subject) + r"\**[（(]([^（()）]{2,20})[）)]", self.row(f))
            missing = [e for e in missing if not (leader and _institution(e) and qn.mentions(e, leader.group(1)))]
        if asked_among(f.subject, q.text):  # 广东哪个市…最多: each city of it, whether its report says 广东 or not
            missing = [e for e in missing if not (PLACE.fullmatch(e) and lies_in(f.subject, e))]
        if _QUOTED.search(f.subject) and any(n in q.text for n in _QUOTED.findall(f.subject)):
            missing = [e for e in missing if not PLACE.fullmatch(e)]  # 某县的“某某贷”: where the project named runs
        if not missing and any(self._shared(f, e, context) for e in q.entities if PLACE.fullmatch(e)):
            return None  # “某某贷”为甲市、乙市两地…发放贷款: the two places' figure together, not 乙市's
        if not missing:
            return "context"
        # a project's row says where it runs and who leads it: the place answers for its names only (which bank in
        # 某市); its figures are the project's, not the place's
        if f.source_kind != "cell" or (f.value is not None and not all(_institution(e) for e in missing)):
            return None
        row = self.row(f)
        return None if any(not qn.mentions(e, row) for e in missing) else "row"

    def _shared(self, f: Fact, place: str, context: str) -> bool:
        """``f`` is not ``place``'s own and its sentence, row or ``context`` (its title…) names ``place`` beside
        another place (neither in the other): the figure is theirs together (“某某贷”为甲市、乙市两地…)."""
        if PLACE.fullmatch(f.subject):
            return False
        said = [m.group(0) for m in PLACE.finditer(f"{self.row(f)} {context}")]
        return any(same_place(p, place) for p in said) and any(
            not same_place(p, place) and not lies_in(p, place) and not lies_in(place, p) for p in said
        )

    def row(self, f: Fact) -> str:
        """The table row a cell fact stands in, read once per question (a question weighs many cells of a row)."""
        key = (f.doc_id, f.start, f.end)
        if key not in self._rows:
            self._rows[key] = self.kb.quotes([key])[0]
        return self._rows[key]

    def answer(self, q: qn.Question, hits: Sequence[Hit], asked: TimeAsked | None,
               ranked: Sequence[Candidate] = (), whole_metric: bool = False) -> Draft | None:  # fmt: skip
        """The figure that answers ``q`` with its sentence or row quoted, older different figures beside it; None
        when no fact matches well enough (the sentences take over). ``ranked``: the rules' sentences, best first;
        ``whole_metric``: a fact whose whole metric the question says may lead too (for saying what the documents
        hold when the time asked is not among them)."""
        found = self.matches(q, hits, asked, ranked)
        rank = {(c.hit.chunk.doc_id, c.start): i for i, c in enumerate(ranked)}
        anchored = [
            s
            for s in found
            if self.anchored(s) or (whole_metric and s.score - s.subject * self.knobs.fact_w_subject >= 1.0)
        ]
        if not anchored:
            return None
        # a fact whose subject the question names first, then the best match, then the rules' order
        best = min(anchored, key=lambda s: (s.subject < 1, -s.score, rank.get((s.fact.doc_id, s.fact.start), 99)))
        # the best's series: as well matched, or the same head, or the same thing counted on its own date (another
        # report's differing figure, however it words the metric: shown beside it)
        same = [s for s in found if same_series(s.fact, best.fact)
                and (s.score >= best.score - SERIES_GAP or same_head(s.fact, best.fact)
                     or (s.fact.as_of == best.fact.as_of and same_metric(s.fact, best.fact)))]  # fmt: skip
        # newest first; on the same date the later report, a sentence (it reads better than a cell), then the anchor
        dated = sorted(same, key=lambda s: (s.fact.as_of is not None, s.fact.as_of or "", s.hit.date or "",
                                            s.fact.source_kind == "text", s is best), reverse=True)  # fmt: skip
        lead_fact = dated[0]  # the newest (within the time asked, when one is)
        # figures of the lead's own date that differ from it (two reports disagree: both shown, each cited), then,
        # with no time asked, older different figures, then different figures of no known date
        first = self.candidate(lead_fact)
        if first is None:
            return None
        # the lead's own sentence states its parts (共有359人…其中280人…): those are no other report's figure
        that_day = [s for s in same_day(lead_fact, dated) if s.fact.text not in first.text]
        other = asked is None
        groups = [that_day, older(lead_fact, dated) if other else [], undated(lead_fact, dated) if other else []]
        peers = named_beside(lead_fact, found) if PLURAL.search(q.text) else []  # 哪几家: every name, each cited
        chosen = [lead_fact, *peers, *(s for g in groups for s in g)]
        cands = [first, *(self.candidate(s) for s in chosen[1:])]
        if any(c is None for c in cands):
            return None
        quotes = {id(s): c.text for s, c in zip(chosen, cands, strict=True) if c is not None}
        # the lead is dated whenever any figure is; else no date is said at all
        words = [said(lead_fact.fact, quote=quotes[id(lead_fact)])]
        if peers and all(p.fact.subject == lead_fact.fact.subject for p in peers):  # 甲银行、乙银行（牵头机构 · 某市）
            words = ["、".join(p.fact.text for p in [lead_fact, *peers]) + words[0].removeprefix(lead_fact.fact.text)]
        elif peers:  # each its own project: 甲银行（牵头机构 · 甲项目）、乙银行（牵头机构 · 乙项目）
            words = ["、".join([words[0], *(said(p.fact) for p in peers)])]
        words += [f"；{w}" + "、".join(said(s.fact, True, quotes[id(s)]) for s in g)
                 for w, g in zip(GROUP_WORDS, groups, strict=True) if g]  # fmt: skip
        lead = "".join(words)
        return Draft(lead, tuple(c for c in cands if c is not None), True, reason="fact")

    def checked(self, q: qn.Question, draft: Draft, hits: Sequence[Hit], asked: TimeAsked | None = None) -> Draft:
        """``draft`` — a sentence's answer — checked against the registry's reading of its lead figure: refused when
        that figure is another place's (the province's 23.71万户 for a question about a city), of a stated date
        outside the time ``asked``, or a period's new figure (新增) for a level; replaced by the
        figure a correction gives for it (the correcting sentence quoted) when a document among ``hits`` corrects
        it; else as it is."""
        if not draft.grounded or not draft.sentences or draft.reason == "fact":
            return draft
        first = draft.sentences[0]
        facts = self._with_corrections(dict.fromkeys(h.chunk.doc_id for h in hits))
        in_first = [f for f in facts if f.doc_id == first.hit.chunk.doc_id and first.start <= f.value_start < first.end]
        led = [f for f in in_first if with_qualifier(f.text, f.qualifier) in draft.lead or f.text in draft.lead]
        if not draft.lead and q.kind is qn.QUANTITY:  # the sentences answer: each figure in the unit asked is offered
            led = [f for f in in_first if f.value is not None and not q.unit]
            led += [f for f in facts for c in draft.sentences if q.unit and f.doc_id == c.hit.chunk.doc_id
                    and c.start <= f.value_start < c.end and same_unit(q.unit, f.unit)]  # fmt: skip
        base = change_base(q.text) if CHANGE_ASKED.search(q.text) else ""
        if led and base and all(change_base(f.qualifier) not in ("", base) for f in led):
            return Draft("", (), False, f"kind: a change against another base ({led[0].qualifier})")
        if led and all(other_place(f.subject, q.text) for f in led):
            return Draft("", (), False, f"subject: the figure is {led[0].subject}'s")
        places = [e for e in q.entities if PLACE.fullmatch(e)]
        if led and places and all(any(self._shared(f, e, first.hit.title) for e in places) for f in led):
            return Draft("", (), False, f"subject: the figure is of {led[0].subject} in more places than asked")
        if led and asked and all(f.as_of_text and not asked.covers(f.as_of) for f in led):
            return Draft("", (), False, f"time: the figure is of {led[0].as_of_text}")  # 截至2025年9月末 for 2024年底
        if led and all(flow(f) for f in led) and not flow_asked(q.text):
            return Draft("", (), False, "kind: a period's new figure (新增) does not answer a level")
        fixes = replacements(facts)
        for f in led:
            right = fixes.get((f.doc_id, f.value_start))
            cand = self.candidate(Scored(right, first.score, first.hit, 1.0, 0.0, False)) if right else None
            if right is not None and cand is not None:
                return Draft(said(right, quote=cand.text), (cand,), True, reason="fact")
        return draft

    def _with_corrections(self, doc_ids: Iterable[str]) -> list[Fact]:
        """The facts of ``doc_ids`` and every correcting figure of the knowledge base (a correction applies
        wherever the figure it corrects is found, whether or not retrieval found the correcting document)."""
        ids = tuple(doc_ids)
        own = list(self.kb.facts(FactQuery(doc_ids=ids)))
        return own + [f for f in self.kb.facts(FactQuery(corrections=True)) if f.doc_id not in ids]

    def _of_subjects(self, q: qn.Question, seen: set[tuple[str, int]]) -> list[Fact]:
        """The registry's facts of the places and institutions ``q`` names, wherever retrieval did not look (a
        speech whose 全省 the registry read as the province it was given in), newest first, not in ``seen``."""
        out: list[Fact] = []
        for name in qn.subjects(q):
            found = self.kb.facts(FactQuery(subject=core(name), limit=SUBJECT_FACTS))
            out += [f for f in found if (f.doc_id, f.value_start) not in seen]
        return out

    def _hits_of(self, facts: list[Fact]) -> dict[str, Hit]:
        """A hit for each document of ``facts`` retrieval did not find (a correcting notice): its fact's chunk."""
        infos = self.kb.doc_infos(list(dict.fromkeys(f.doc_id for f in facts)))
        out: dict[str, Hit] = {}
        for f in facts:
            chunk = self.kb.chunk_at(f.doc_id, f.start, f.end) if f.doc_id in infos else None
            if chunk is not None and f.doc_id not in out:
                info = infos[f.doc_id]
                out[f.doc_id] = Hit(chunk, 0.0, info.title, info.date, info.source)
        return out

    def anchored(self, s: Scored) -> bool:
        """A metric's words alone are weak evidence: a fact may lead only when the question names its subject, or
        what the question says beside the metric is its subject's (金融+民生 for the heading “金融+民生”提升公共服务
        质量), or the rules chose its sentence."""
        return s.subject == 1.0 or s.rest >= self.knobs.fact_min_rest or s.near

    def candidate(self, s: Scored) -> Candidate | None:
        """The fact's sentence or row as a candidate sentence of the chunk that holds it."""
        f = s.fact
        chunk = self.kb.chunk_at(f.doc_id, f.start, f.end)
        if chunk is None:
            return None
        hit = replace(s.hit, chunk=chunk, score=s.score)
        text = chunk.text[f.start - chunk.start : f.end - chunk.start]
        return Candidate(hit, f.start, f.end, text, s.score, 1.0)


def _institution(entity: str) -> bool:
    """A name the question gives that is neither a place nor a year: an institution (人民银行), which may be a
    report's issuer."""
    return not PLACE.fullmatch(entity) and not _A_YEAR.fullmatch(entity)


_A_YEAR = re.compile(r"(?:19|20)\d{2}年")


_QUOTED = re.compile(r"“([^“”]{2,20})”")  # a project or product named in quotes


def _in_time(f: Fact, context: str, asked: TimeAsked) -> bool:
    """The fact is dated in the time asked, or, when its own words state no date, its context names a date in
    it (2021年 in a table's caption)."""
    return asked.covers(f.as_of) or (not f.as_of_text and asked.stated_in(context))
