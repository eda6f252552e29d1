"""The offline extractive answerer: the best source sentences, led by the key fact.

Owns: scoring every sentence of the retrieved chunks against the question (IDF-
weighted term overlap, character-bigram overlap, the chunk's retrieval rank, fit to
the question type), the refusal rule (weak evidence, or a key entity the evidence
never names), pulling the key fact out of the chosen sentence (4821台, 2020年9月10日,
a list of banks) and composing a short answer with ``[n]`` markers. Does not own:
retrieval, citations as records (``assistant.cite``), or language models.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant import question as qn
from assistant.numbers import Quantity, quantities
from kb.records import Hit
from kb.segment import QUESTION_WORDS, Segmenter, bigrams, normalize

MIN_SCORE = 0.52  # below this the best sentence does not answer the question (see docs/EVAL.md)
MIN_COVERAGE = 0.45  # share of the question's IDF weight the best sentence must contain
SECOND = 0.6  # runner-up sentences (the next two) this close to the best are quoted too
BUDGET = 180  # characters of quoted text an answer may hold
_DATE = re.compile(
    r"(?:(?:19|20)\d{2}年(?:（[^）]{1,8}）)?)?\d{1,2}月(?:\d{1,2}日|[上中下]旬|末|底|初)?|(?:19|20)\d{2}年(?:[上下]半年|末|底|初)?"
)
_ORG = re.compile(r"[\u4e00-\u9fff]{1,10}?(?:银行|农商行|农联社|分行|支行|公司|集团|部门|委员会|厅|局|署|中心)")
_ENUM = re.compile(r"(?:[\u4e00-\u9fffA-Za-z0-9]{1,14}、)+[\u4e00-\u9fffA-Za-z0-9]{1,14}?(?=等|和|及|与|[,，。；]|$)")
_PERSON = re.compile(r"(?:行长|副行长|主任|局长|厅长|董事长|总经理|书记|主席|部长|教授|院长)([\u4e00-\u9fff]{2,3})")
_CUT = re.compile(r"[于为是括有在：:]")  # where a clause runs into or out of a list
_BREAKS = ("，", ",", "；", ";", "。", "：", ":")  # clause breaks (、 joins items, it does not break)
_NEGATION = re.compile(r"没有|未|不|无|尚未")
_FIT_KINDS = {qn.QUANTITY, qn.TIME, qn.INSTITUTION, qn.PERSON, qn.LIST}


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int  # document offsets of the sentence
    end: int
    text: str
    score: float
    coverage: float


@dataclass(frozen=True)
class Draft:
    """An answer before citations are numbered: lead text plus the sentences it quotes."""

    lead: str
    sentences: tuple[Candidate, ...]
    grounded: bool
    reason: str = ""


IdfOf = Callable[[str], float]


class Extractor:
    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter

    def weights(self, terms: list[str], idf_of: IdfOf) -> dict[str, float]:
        return {t: max(float(idf_of(t)), 0.3) for t in dict.fromkeys(terms)}

    def candidates(self, q: qn.Question, hits: list[Hit], idf_of: IdfOf) -> list[Candidate]:
        weights = self.weights(self.segmenter.query_terms(q.text), idf_of)
        total = sum(weights.values()) or 1.0
        q_grams = set(bigrams(q.text)) - _QUESTION_GRAMS
        top = max((h.score for h in hits), default=1.0) or 1.0
        rows = _sentences(hits)
        # a question term counts where its text occurs (segmenting every candidate sentence
        # with jieba cost more than the rest of a question together), and a sentence speaks
        # of its document's and section's subject without repeating it (身高182CM in 张天霖's article)
        texts = [normalize(f"{_subject(hit)} {text}") for hit, _, _, text in rows]
        local = _local_weights(weights, texts)
        local_total = sum(local.values()) or 1.0
        out: list[Candidate] = []
        for (hit, a, b, text), terms in zip(rows, texts, strict=True):
            cov = sum(w for t, w in weights.items() if t in terms) / total
            focus = sum(w for t, w in local.items() if t in terms) / local_total
            grams = len(q_grams & set(bigrams(text))) / max(len(q_grams), 1)
            score = 0.15 * cov + 0.2 * focus + 0.3 * grams + 0.25 * hit.score / top + 0.1 * fit(q, text)
            out.append(Candidate(hit, a, b, text, score, cov))
        return sorted(out, key=lambda cand: -cand.score)

    def answer(self, q: qn.Question, cands: list[Candidate]) -> Draft:
        """The extractive answer from ``candidates``' ranking, or why there is none."""
        if not cands:
            return Draft("", (), False, "no evidence")
        best = cands[0]
        if best.score < MIN_SCORE or best.coverage < MIN_COVERAGE:
            return Draft("", (), False, f"weak evidence ({best.score:.2f}/{best.coverage:.2f})")
        context = f"{best.hit.title} {' '.join(best.hit.chunk.heading_path)} {best.hit.chunk.text}"
        missing = [e for e in q.entities if not qn.mentions(e, context)]
        if missing:
            return Draft("", (), False, f"entity not in evidence: {missing[0]}")
        listed = _listing(q, best, cands)
        lead = key_fact(q, best.text, listed, self.anchors(q, best.hit.title))
        if q.kind in (qn.LIST, qn.INSTITUTION) and lead:
            return Draft(lead, tuple(listed), True)  # the list is the answer: no context needed
        return Draft(lead, tuple(_with_context(best, listed, cands)), True)

    def anchors(self, q: qn.Question, title: str) -> tuple[str, ...]:
        """The question's own words beyond the document's subject (分布, 银行 — not 夜来香 in 夜来香's article):
        a list answers the question only where its clause names one of them."""
        terms = [t for t in dict.fromkeys(self.segmenter.query_terms(q.text)) if t not in QUESTION_WORDS]
        title = normalize(title)
        return tuple(t for t in terms if t not in title) or tuple(terms)


def _listing(q: qn.Question, best: Candidate, cands: list[Candidate]) -> list[Candidate]:
    """The best sentence, and for a list question the next good enumeration of the same document."""
    if q.kind not in (qn.LIST, qn.INSTITUTION):
        return [best]
    same_doc = [c for c in cands[1:4] if c.hit.chunk.doc_id == best.hit.chunk.doc_id]
    return [best, *[c for c in same_doc if c.score >= 0.8 * best.score and _ENUM.search(c.text)][:1]]


def _with_context(best: Candidate, chosen: list[Candidate], cands: list[Candidate]) -> list[Candidate]:
    """``chosen`` plus the sentences around ``best`` and the near runner-ups, while the answer stays short."""
    chosen = list(chosen)
    runners = cands[1:3]
    for extra in [*_following(best, cands), *runners, *_preceding(best, cands)]:
        near = extra not in runners or extra.score >= SECOND * best.score
        fits = sum(len(c.text) for c in chosen) + len(extra.text) <= BUDGET
        if near and fits and extra not in chosen and not _is_heading(extra):
            chosen.append(extra)
    return chosen


def _subject(hit: Hit) -> str:
    """What every sentence of the chunk is about: its document's title and its headings."""
    return " ".join((hit.title, *hit.chunk.heading_path))


def _is_heading(c: Candidate) -> bool:
    """A title or heading line: it names the topic, it states nothing to quote as support."""
    text = c.text.strip()
    return text == c.hit.title.strip() or text in (h.strip() for h in c.hit.chunk.heading_path)


def _following(best: Candidate, cands: list[Candidate]) -> list[Candidate]:
    """The sentence right after ``best`` in the same chunk (answers often continue there)."""
    spans = best.hit.chunk.sentences
    nxt = [s for s in spans if s[0] >= best.end][:1]
    return [c for c in cands if nxt and c.hit.chunk.doc_id == best.hit.chunk.doc_id and c.start == nxt[0][0]]


def _preceding(best: Candidate, cands: list[Candidate]) -> list[Candidate]:
    """The sentence right before ``best`` in the same chunk."""
    prev = [s for s in best.hit.chunk.sentences if s[1] <= best.start][-1:]
    return [c for c in cands if prev and c.hit.chunk.doc_id == best.hit.chunk.doc_id and c.start == prev[0][0]]


def _sentences(hits: list[Hit]) -> list[tuple[Hit, int, int, str]]:
    seen: set[tuple[str, int]] = set()
    rows = []
    for hit in hits:
        c = hit.chunk
        for a, b in c.sentences:
            if (c.doc_id, a) not in seen:
                seen.add((c.doc_id, a))
                rows.append((hit, a, b, c.text[a - c.start : b - c.start]))
    return rows


def _local_weights(weights: dict[str, float], texts: list[str]) -> dict[str, float]:
    """Question terms weighted by how few candidate sentences share them: the subject every
    sentence repeats counts little, the word that picks out one sentence (体重, 面积) counts a lot."""
    n = len(texts)
    out = {}
    for t, w in weights.items():
        df = sum(1 for s in texts if t in s)
        out[t] = w * math.log(1 + n / (1 + df)) if df else 0.0
    return out


_QUESTION_GRAMS = {g for w in QUESTION_WORDS for g in bigrams(w)} - {"没有"}  # 没有 is content too


def fit(q: qn.Question, text: str) -> float:
    """How well a sentence's content fits the question type (0..1)."""
    if q.kind not in _FIT_KINDS:
        return 0.5
    if q.kind == qn.QUANTITY:
        found = [x for x in quantities(text) if not _is_date_part(text, x.end)]
        if not found:
            return 0.0
        return 1.0 if not q.unit or any(_has_unit(text, x, q.unit) for x in found) else 0.6
    if q.kind == qn.TIME:
        return 1.0 if _DATE.search(text) else 0.0
    if q.kind == qn.PERSON:
        return 1.0 if _PERSON.search(text) else 0.2
    return 1.0 if (_ENUM.search(text) or _ORG.search(text)) else 0.2


def _is_date_part(text: str, end: int) -> bool:
    return text[end : end + 1] in ("年", "月", "日")


def key_fact(q: qn.Question, text: str, chosen: list[Candidate], anchors: tuple[str, ...] = ()) -> str:
    """The fact to lead with, copied from the sentence(s), or "" when there is none."""
    if q.kind == qn.QUANTITY:
        return _quantity(q, text)
    if q.kind == qn.TIME:
        return _date(q, text, anchors)
    if q.kind == qn.PERSON:
        m = _PERSON.search(text)
        return m.group(1) if m else ""
    if q.kind in (qn.LIST, qn.INSTITUTION):
        items = [i for c in chosen for i in enum_items(c.text, anchors)]
        return "、".join(dict.fromkeys(items))
    if q.kind == qn.YESNO and chosen[0].coverage >= 0.8:
        return "否" if _NEGATION.search(text) else "是"
    return ""


def enum_items(text: str, anchors: tuple[str, ...] = ()) -> list[str]:
    """The items of the first enumeration (甲、乙、丙) in ``text`` whose clause names one of ``anchors``
    (any enumeration when there are none), cut at word boundaries."""
    m = next((m for m in _ENUM.finditer(text) if not anchors or _names_any(_clause(text, m), anchors)), None)
    if not m:
        return []
    items = [i for i in re.sub(r"^(?:如|例如|包括)[,，]?", "", m.group(0)).split("、") if i]
    before = text[m.start() - 1] if m.start() else ""
    if before.isascii() and before.isalnum():
        items = items[1:]  # the match began inside a number or a word (…19|89年…)
    elif before and _CUT.search(items[0]):  # began mid-clause: keep what follows 于/为/是…
        items[0] = _CUT.split(items[0])[-1]
    if items and _CUT.search(items[-1][1:]):
        items[-1] = items[-1][0] + _CUT.split(items[-1][1:])[0]  # 孙禹于美国华府演出 → 孙禹
    return [i for i in items if i]


def _clause(text: str, m: re.Match[str]) -> str:
    """The clause around an enumeration: from the last break before it to the next one after it."""
    start = max(text.rfind(p, 0, m.start()) for p in _BREAKS) + 1
    ends = [i for i in (text.find(p, m.end()) for p in _BREAKS) if i >= 0]
    return text[start : min(ends, default=len(text))]


def _names_any(clause: str, anchors: tuple[str, ...]) -> bool:
    clause = normalize(clause)
    return any(a in clause for a in anchors)


def _quantity(q: qn.Question, text: str) -> str:
    found = [x for x in quantities(text) if not _is_date_part(text, x.end) and x.text not in q.text]
    if q.unit:  # 多少公里: a quantity in kilometres or no key fact at all
        return next((_with_unit(text, x) for x in found if _has_unit(text, x, q.unit)), "")
    found = [x for x in found if x.text[0].isdigit() or len(x.text) > 1]  # 一个, 两次 answer nothing
    if not found:
        return ""
    return _with_unit(text, _right_after_question_words(q, text, found) or _nearest_after_anchor(q, text, found))


def _date(q: qn.Question, text: str, anchors: tuple[str, ...]) -> str:
    """The date whose clause names most of what the question asks about
    (…1981年7月参加工作，1982年7月加入中国共产党 → 1982年7月 for 何时加入中国共产党)."""
    dates = [m for m in _DATE.finditer(text) if m.group(0) not in q.text]
    if not dates:
        return ""
    named = [sum(a in normalize(_clause(text, m)) for a in anchors) for m in dates]
    return dates[named.index(max(named))].group(0)


def _has_unit(text: str, x: Quantity, unit: str) -> bool:
    """The quantity is counted in ``unit`` (4821台, 8公斤, 10.29万户, 15至20厘米)."""
    far = _RANGE.match(text, x.end)
    return any(unit in text[e : e + len(unit) + 1] for e in (x.end, far.end() if far else x.end))


def _with_unit(text: str, x: Quantity) -> str:
    """The quantity as the text writes it, with its unit and the far end of a range (100米至2,800米)."""
    end = _unit_end(text, x.end)
    far = _RANGE.match(text, end)
    return text[x.start : _unit_end(text, far.end()) if far else end]


def _unit_end(text: str, at: int) -> int:
    m = _UNIT_AFTER.match(text, at)
    return m.end() if m else at


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


_UNIT_AFTER = re.compile(
    r"余?(?:[万亿]?(?:分钟|小时|个月|平方公里|平方米|公里|公斤|千克|公分|公尺|厘米|毫米|公顷|英尺|英里|"
    r"[美港日欧]?元|[台张户人笔项家条份个件次所名批类位天周倍米克吨岁亩座])|%|％|"
    r" ?(?:GHz|MHz|km²|km|m²|cm|mm|kg|m)(?![A-Za-z]))"
)
_RANGE = re.compile(r"(?:至|到|~|～|－|-)\d[\d,.]*")  # the far end of a range (…至2,800米)
