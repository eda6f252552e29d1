"""The offline extractive answerer: the best source sentences, led by the key fact.

Owns: scoring every sentence of the retrieved chunks against the question (IDF-
weighted term overlap, character-bigram overlap, the chunk's retrieval rank, fit to
the question type), ranking the best few again with their similarity in meaning to
the question, the refusal rule (weak evidence, or a key entity the evidence never
names) and choosing the sentences an answer quotes. Does not own: retrieval,
the key fact itself (``assistant.keyfact``), citations as records (``assistant.cite``),
or language models.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant import question as qn
from assistant.keyfact import ENUM, asks_day, coarser_dates_only, fit, key_fact
from kb import dates
from kb.quantity import quantities
from kb.records import Hit
from kb.segment import QUESTION_WORDS, bigrams, normalize
from kb.settings import AnswerKnobs


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int  # document offsets of the sentence
    end: int
    text: str
    score: float
    coverage: float  # the share of the question's weight the sentence holds (with what ``Question.given`` grants)


@dataclass(frozen=True)
class Draft:
    """An answer before citations are numbered: lead text plus the sentences it quotes."""

    lead: str
    sentences: tuple[Candidate, ...]
    grounded: bool
    reason: str = ""
    judged: float | None = None  # a language model's probability that the first sentence answers (reader mode)
    also: tuple[Candidate, ...] = ()  # quoted after the sentences above: the rules' own where the reader differs
    instead: str = ""  # a refusal's word on what the documents hold instead (the newest figure), quoting sentences


IdfOf = Callable[[str], float]
Similarity = Callable[[str, list[str]], list[float]]  # question, sentences -> cosine similarity of each


class Extractor:
    """Scores and chooses sentences by the answer knobs (``kb.settings.AnswerKnobs``)."""

    def __init__(self, knobs: AnswerKnobs | None = None) -> None:
        self.knobs = knobs or AnswerKnobs()

    def weights(self, terms: list[str], idf_of: IdfOf) -> dict[str, float]:
        return {t: max(float(idf_of(t)), 0.3) for t in dict.fromkeys(terms)}

    def candidates(self, q: qn.Question, hits: list[Hit], idf_of: IdfOf,
                   similarity: Similarity | None = None) -> list[Candidate]:  # fmt: skip
        """Every sentence of ``hits``, best first: by the rules' score, the best few again by meaning
        (``similarity``, weighted by ``w_meaning``: the rules' score stays each candidate's ``score``)."""
        ranked = self._scored(q, hits, idf_of)
        top = ranked[: self.knobs.meaning_top]
        if similarity is None or not self.knobs.w_meaning or len(top) < 2:
            return ranked
        sims = similarity(q.text, [c.text for c in top])
        order = sorted(range(len(top)), key=lambda i: -(top[i].score + self.knobs.w_meaning * sims[i]))
        return [top[i] for i in order] + ranked[len(top) :]

    def _scored(self, q: qn.Question, hits: list[Hit], idf_of: IdfOf) -> list[Candidate]:
        weights = self.weights(list(q.terms), idf_of)
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
            held = cov + sum(w for t, w in weights.items() if t in q.given and t not in terms) / total
            focus = sum(w for t, w in local.items() if t in terms) / local_total
            grams = len(q_grams & set(bigrams(text))) / max(len(q_grams), 1)
            k = self.knobs
            score = (k.w_coverage * cov + k.w_focus * focus + k.w_bigrams * grams + k.w_retrieval * hit.score / top
                     + k.w_fit * fit(q, text))  # fmt: skip
            out.append(Candidate(hit, a, b, text, score, held))
        return sorted(out, key=lambda cand: -cand.score)

    def answer(self, q: qn.Question, cands: list[Candidate]) -> Draft:
        """The extractive answer from ``candidates``' ranking, or why there is none."""
        if not cands:
            return Draft("", (), False, "no evidence")
        best = cands[0]
        strongest = max(cands, key=lambda c: c.score)  # the evidence is as strong as the rules' best sentence
        if strongest.score < self.knobs.min_score or strongest.coverage < self.knobs.min_coverage:
            return Draft("", (), False, f"weak evidence ({strongest.score:.2f}/{strongest.coverage:.2f})")
        missing = missing_entity(q, best, _subject(best.hit))
        if missing:
            return Draft("", (), False, f"entity not in evidence: {missing}")
        listed = _listing(q, best, cands)
        anchors = self.anchors(q, best.hit.title)
        said = normalize(best.text)  # a yes/no lead needs the sentence itself, not its subject, to say it
        own = sum(a in said for a in anchors) / max(len(anchors), 1)
        lead = key_fact(q, [c.text for c in listed], anchors, own)
        if not lead and q.unit == "元":  # a price is an amount of money or nothing (4821台 is no price)
            return Draft("", (), False, "no amount in 元")
        if not lead and q.kind is qn.TIME and asks_day(q.text) and coarser_dates_only(best.text):
            return Draft("", (), False, "a day asked, only a month or year stated")
        dated = _date_beside(best, cands) if not lead and q.kind is qn.TIME else None
        if dated is not None and _signed(best, dated):  # the date under the issuer's name: when it was issued
            return Draft(dated.text.strip(), (best, dated), True)
        if dated is not None:
            return Draft("", (), False, "no date stated for it, only the date a listing or a headline was posted")
        if not lead and q.unit and _only_rates(best.text):  # 多少学生 is no pass rate (通过率达94%)
            return Draft("", (), False, f"only rates, no amount in {q.unit}")
        if not lead:  # no key fact: the best sentence with what surrounds it carries the answer
            return Draft(lead, tuple(_with_context(best, listed, cands, self.knobs)), True)
        listed = [trimmed(c) for c in listed]
        # the key fact and the sentence that states it; a list the sentence holds is not said first as well
        return Draft("" if says_twice(q, lead, listed[0]) else lead, tuple(listed), True)

    def anchors(self, q: qn.Question, title: str) -> tuple[str, ...]:
        """The question's own words beyond the document's subject (分布, 银行 — not 夜来香 in 夜来香's article):
        a list answers the question only where its clause names one of them."""
        terms = [t for t in dict.fromkeys(q.terms) if t not in QUESTION_WORDS]
        title = normalize(title)
        return tuple(t for t in terms if t not in title) or tuple(terms)


def _listing(q: qn.Question, best: Candidate, cands: list[Candidate]) -> list[Candidate]:
    """The best sentence, and for a list question the next good enumeration of the same document."""
    if q.kind not in (qn.LIST, qn.INSTITUTION):
        return [best]
    same_doc = [c for c in cands[1:4] if c.hit.chunk.doc_id == best.hit.chunk.doc_id]
    return [best, *[c for c in same_doc if c.score >= LIST_NEAR * best.score and ENUM.search(c.text)][:1]]


def _with_context(best: Candidate, chosen: list[Candidate], cands: list[Candidate],
                  knobs: AnswerKnobs) -> list[Candidate]:  # fmt: skip
    """``chosen`` plus the sentences around ``best`` and the near runner-ups, while the answer stays short."""
    chosen = list(chosen)
    runners = cands[1:3]
    for extra in [*_following(best, cands), *runners, *_preceding(best, cands)]:
        near = extra not in runners or extra.score >= knobs.runner_up * best.score
        fits = sum(len(c.text) for c in chosen) + len(extra.text) <= knobs.quote_budget
        if near and fits and extra not in chosen and not _is_heading(extra):
            chosen.append(extra)
    return chosen


def missing_entity(q: qn.Question, c: Candidate, subject: str) -> str:
    """The first place, institution or year the question names that neither ``c``'s chunk nor ``subject``
    mentions ("" when there is none)."""
    context = f"{subject} {c.hit.chunk.text}"
    return next((e for e in q.entities if not qn.mentions(e, context)), "")


def says_twice(q: qn.Question, lead: str, quote: Candidate) -> bool:
    """Leading with ``lead`` would repeat the quote: it is the whole sentence, or a list the sentence holds."""
    return lead == quote.text.strip("。；;，, ") or (q.kind in (qn.LIST, qn.INSTITUTION) and lead in quote.text)


# A list question also quotes the next enumeration of the best sentence's document when it scores at least this share
# of the best (lists split over two sentences of the shipped report); not swept since.
LIST_NEAR = 0.8
_OPENER = re.compile(r"^(?:如|例如|比如|其中|同时|此外|另外|另一方面)[,，、:：]\s*")


def trimmed(c: Candidate) -> Candidate:
    """``c`` without a leading connective (如，其中，…): quoted alone, it would dangle."""
    m = _OPENER.match(c.text)
    if m is None or m.end() == len(c.text):
        return c
    return replace(c, start=c.start + m.end(), text=c.text[m.end() :])


_DRAWS_ON = re.compile(r"^(?:因此|所以|因而|故而|于是|由此|为此|对此|这|此(?!外)|上述|以上|前者|后者)")


def quoted_span(c: Candidate) -> tuple[int, int]:
    """The document span a quote of ``c`` needs: a sentence that draws on the one before it (因此它被称为…,
    这使…) starts with that sentence, which holds what it says because of; any other sentence stands alone."""
    prev = sentence_before(c) if _DRAWS_ON.match(c.text.strip()) else None
    return (prev[0] if prev else c.start), c.end


def sentence_before(c: Candidate) -> tuple[int, int] | None:
    """The document span of the sentence right before ``c`` in its chunk, if it has one."""
    prev = [s for s in c.hit.chunk.sentences if s[1] <= c.start][-1:]
    return prev[0] if prev else None


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
    prev = sentence_before(best)
    return [c for c in cands if prev and c.hit.chunk.doc_id == best.hit.chunk.doc_id and c.start == prev[0]]


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


# the end of an issuer's name, the line a notice's date stands under (…西宁中心支行 / 2021年12月20日)
_ISSUER = re.compile(r"(?:银行|[分支]行|[局部厅处室委办院会社]|中心|政府|公司|集团|办公室|领导小组)$")


def _date_beside(best: Candidate, cands: list[Candidate]) -> Candidate | None:
    """The line right after (else before) ``best`` when it is a date alone and ``best`` states none: a notice's
    signature (中国人民银行某中心支行 / 2021年12月20日), or a listing's item or a headline with the date it was
    posted."""
    if quantities(best.text):
        return None
    beside = [*_following(best, cands), *_preceding(best, cands)]
    return next((c for c in beside if dates.FULL_DAY.fullmatch(c.text.strip())), None)


def _signed(best: Candidate, dated: Candidate) -> bool:
    """``dated`` is a notice's date: it follows ``best``, which is an issuer's name alone. A date alone beside
    anything else is the date a listing's item or a headline was posted, not when what it names happened."""
    return dated.start >= best.end and bool(_ISSUER.search(best.text.strip()))


_YEAR_NUMBER = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def _only_rates(text: str) -> bool:
    """Every figure ``text`` states, years aside, is a percentage."""
    found = quantities(_YEAR_NUMBER.sub("", text))
    return bool(found) and all(x.percent for x in found)
