"""The assistant: ``Assistant(settings).ask(question, history=()) -> Answer``.

Owns: wiring retrieval, follow-up rewriting, the extractive answerer and the optional
LLM into one call; the refusal wording with nearest passages under ``related``; the
final citation and number checks; falling back to the extractive answer when the
endpoint fails; timings. Does not own: the pieces it wires (see their modules).
"""

from __future__ import annotations

import datetime
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant import cite, followup, parts, policy, reader
from assistant import question as qn
from assistant.extract import Candidate, Draft, Extractor, quoted_span
from assistant.facts import FactAnswerer
from assistant.policy import topic
from assistant.retrieve import NO_FILTERS, Filters, Retriever
from assistant.when import annual, in_time, without_time_words
from kb import dates
from kb.errors import EndpointError, PilotQAError
from kb.records import Answer, Citation, Hit, Marker, Mode, Progress, Trace
from kb.segment import Segmenter
from kb.settings import Settings
from kb.store import KnowledgeBase
from models import gguf, llama_server
from models.embed import Embedder, Reranker

log = logging.getLogger(__name__)
_MARKER = re.compile(r"\[(\d+)\]")
LLM_PASSAGES = 12  # candidate sentences the LLM mode writes from
EMPTY_KB = "知识库里还没有文档。请先导入报告（pilotqa ingest 路径，或在界面侧栏上传），再提问。"


@dataclass(frozen=True)
class Evidence:
    """One question's evidence: its analysis, what retrieval found (any date), the hits it answers from, their
    ranked sentences and the rules' draft."""

    q: qn.Question
    found: list[Hit]
    hits: list[Hit]
    cands: list[Candidate]
    rules: Draft
    timings: dict[str, float]


@dataclass
class Resources:
    """What answering needs, built once per process and shared."""

    settings: Settings
    segmenter: Segmenter
    embedder: Embedder
    kb: KnowledgeBase

    @classmethod
    def build(cls, settings: Settings, kb_name: str | None = None) -> Resources:
        segmenter = Segmenter(settings.cache_dir)
        embedder = Embedder(settings)
        kb = KnowledgeBase.open(settings, kb_name or settings.kb, segmenter, embedder.name)
        return cls(settings, segmenter, embedder, kb)


class Assistant:
    """Answers questions from one knowledge base."""

    def __init__(self, settings: Settings, resources: Resources | None = None, chat_model: Any = None) -> None:
        self.settings = settings
        self.res = resources or Resources.build(settings)
        reranker = Reranker(settings.rerank_model) if settings.rerank_model else None
        self.retriever = Retriever(self.res.kb, self.res.embedder, reranker, settings.answer)
        self.extractor = Extractor(settings.answer)
        self.facts = FactAnswerer(self.res.kb, settings.answer)
        self._chat_model = chat_model
        self._llm: Any = None
        self._llm_url: str | None = None

    @property
    def llm_available(self) -> bool:
        return self._chat_model is not None or bool(self.settings.llm_base_url and self.settings.llm_model)

    @property
    def model_label(self) -> str:
        """The language model the reader and LLM modes use, in words: an endpoint's model, or the bundled one."""
        if self.llm_available:
            return f"{self.settings.llm_model or '语言模型'}（外部接口）"
        return f"{gguf.label(self.settings.reader_model)}（本机）"

    def _get_llm(self) -> Any:
        """The language model client; for the local server, checked (and the server restarted) on every use."""
        from assistant.llm import LLM, build_chat_model

        if self._chat_model is not None:
            self._llm = self._llm or LLM(self._chat_model)
            return self._llm
        local = not (self.settings.llm_base_url or self.settings.llm_model)
        url = llama_server.ensure(self.settings) if local else self.settings.llm_base_url
        if self._llm is None or url != self._llm_url:
            self._llm, self._llm_url = LLM(build_chat_model(self.settings, url if local else None)), url
        return self._llm

    def ask(self, question: str, history: Sequence[Answer | str] = (), filters: Filters = NO_FILTERS,
            mode: str | None = None) -> Answer:  # fmt: skip
        """Answer ``question``; earlier turns in ``history`` resolve follow-ups."""
        answer: Answer | None = None
        for item in self.stream(question, history, filters, mode):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[Answer | str] = (), filters: Filters = NO_FILTERS,
               mode: str | None = None) -> Iterator[str | Progress | Answer]:  # fmt: skip
        """Yield what the answer waits on (``Progress``: before a language model reads, and while it writes), the
        checked text, then the checked ``Answer`` (with its trace). Nothing a model wrote is yielded unchecked."""
        started = time.perf_counter()
        question = question.strip()
        if not question:
            raise PilotQAError("问题是空的：请输入一个问题。")
        if self.res.kb.counts()[1] == 0:
            yield Answer(question, EMPTY_KB, grounded=False, mode=Mode.EXTRACTIVE, notice=EMPTY_KB,
                         trace=Trace(refusal="empty knowledge base"))  # fmt: skip
            return
        chosen = Mode(mode or (Mode.LLM if self.llm_available else Mode.EXTRACTIVE))
        standalone, carried = self._standalone(question, history, chosen is not Mode.EXTRACTIVE)
        standalone = qn.with_full_places(standalone, self.facts.names)
        ev = self._evidence(standalone, filters, carried)
        q, hits, cands, rules = ev.q, ev.hits, ev.cands, ev.rules
        timings = dict(ev.timings)
        split = parts.split(standalone)
        if split:  # 济南市和青岛市分别…: each part answered as a question of its own
            rules = parts.join(split, [self._evidence(p.question, filters, carried).rules for p in split]) or rules
        # a refusal lists the nearest passages, of any date
        extractive = self._from_draft(question, standalone, rules, hits or ev.found, Mode.EXTRACTIVE)
        if chosen is not Mode.EXTRACTIVE and hits:
            read = evidence_first(rules, cands)[
                : LLM_PASSAGES if chosen is Mode.LLM else self.settings.answer.reader_evidence
            ]
            pool = tuple(cite.citation(i, c.hit, c.start, c.end) for i, c in enumerate(read, start=1))
            yield Progress(f"{self.model_label}正在阅读 {len(pool)} 条相关句子…", pool)
            try:
                for item in self._with_model(chosen, q, question, standalone, read, pool, hits, rules):
                    if isinstance(item, Answer):
                        item = replace(item, trace=replace(item.trace, model=self.model_label))
                        yield _traced(item, hits, timings, started)
                    else:
                        yield item
                return
            except EndpointError as exc:  # the endpoint failed: the extractive answer stands
                log.warning("LLM failed, falling back: %s", exc)
                extractive = replace(extractive, notice=f"{exc}，以下为离线抽取的答案。")
        yield extractive.text
        yield _traced(extractive, hits, timings, started)

    def _evidence(self, standalone: str, filters: Filters, carried: Sequence[str]) -> Evidence:
        """What the rules answer ``standalone`` from: its hits (of the time it asks, when it asks one), their ranked
        sentences, and the rules' draft (a fact's, else the sentences')."""
        started = time.perf_counter()
        asked = dates.asked(standalone, datetime.date.today().isoformat())  # 今年, 去年 count from today
        q = without_time_words(qn.parse(standalone, self.res.segmenter, self.facts.products()), asked)
        found = self.retriever.search(q.text, self.settings.top_k * (3 if asked else 2), filters,
                                      [*q.terms, *carried], qn.subjects(q))  # fmt: skip
        if asked is None:  # 10月末 said without its year: of the newest report's year
            asked = dates.asked(standalone, datetime.date.today().isoformat(), _newest(found.hits))
            q = without_time_words(q, asked) if asked else q
        retrieved = in_time(found.hits, asked, annual(standalone, asked)) if asked else found.hits
        hits = retrieved[: self.settings.top_k]
        retrieve_ms = (time.perf_counter() - started) * 1e3
        cands = self.extractor.candidates(q, hits, lambda t: self.res.kb.idf("terms", t), self.similarity)
        t = time.perf_counter()
        from_facts = self.facts.answer(q, retrieved, asked, cands) if retrieved else None
        timings = {"retrieve_ms": retrieve_ms, **found.timings, "facts_ms": (time.perf_counter() - t) * 1e3}
        strategies = policy.Strategies(self.facts, self.extractor, self.res.kb)
        rules = policy.decide(strategies, q, policy.Found(found.hits, retrieved, hits, cands), asked, from_facts)
        return Evidence(q, found.hits, hits, cands, rules, timings)

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` chunks retrieval ranks best for ``query`` (hybrid: vectors and BM25), no answer made."""
        q = qn.parse(query.strip(), self.res.segmenter)
        return self.retriever.search(q.text, k, NO_FILTERS, list(q.terms)).hits

    def similarity(self, question: str, sentences: list[str]) -> list[float]:
        """Cosine similarity of ``question`` to each sentence (the embedder's vectors are unit length)."""
        embedder = self.res.embedder
        return [float(x) for x in embedder.passages(sentences) @ embedder.query(question)]

    def _with_model(self, chosen: Mode, q: qn.Question, question: str, standalone: str, read: list[Candidate],
                    pool: tuple[Citation, ...], hits: list[Hit],
                    rules: Draft) -> Iterator[str | Progress | Answer]:  # fmt: skip
        """The answer a language model takes part in, from the sentences it reads (``read``, numbered as ``pool``):
        the reader's checked span beside the rules' own sentence, or the LLM's checked text."""
        if chosen is Mode.LLM:
            yield from self._llm_answer(question, standalone, pool, hits)
            return
        llm, knobs = self._get_llm(), self.settings.answer
        judge = llm.judge if knobs.reader_min_yes > 0 else None
        draft = reader.beside_the_rules(reader.read(q, read, llm.read, judge, knobs.reader_min_yes), rules)
        answer = self._from_draft(question, standalone, draft, hits, Mode.READER)
        yield answer.text
        yield answer

    def _standalone(self, question: str, history: Sequence[Answer | str], use_llm: bool) -> tuple[str, list[str]]:
        """The question made self-contained from the conversation, and the terms it carries over."""
        # a refused turn's topic is not carried on (试点效果怎么样？ after a refusal about 广东 stays general)
        previous = [
            h.question if isinstance(h, Answer) else h for h in history if not isinstance(h, Answer) or h.grounded
        ]
        standalone, carried = followup.rewrite(question, previous, self.res.segmenter)
        if use_llm and previous and followup.leans_on_history(question):
            try:
                standalone = self._get_llm().rewrite(question, previous)
            except EndpointError as exc:  # the rule-based rewrite stands
                log.warning("LLM rewrite failed: %s", exc)
        return standalone, carried

    def _from_draft(self, question: str, standalone: str, draft: Draft, hits: list[Hit], mode: Mode) -> Answer:
        """A draft (the extractor's or the reader's) as a checked answer with numbered citations, or the refusal."""
        if not draft.grounded:
            refusal = self._refusal(question, standalone, hits, mode, draft.reason)
            if draft.instead and draft.sentences:  # what the documents hold instead, each part cited
                text = (draft.instead if "[1]" in draft.instead else f"{draft.instead}[1]") + "。"
                held = tuple(cite.citation(i, c.hit, *quoted_span(c)) for i, c in enumerate(draft.sentences, 1))
                markers = tuple(Marker(m.start(), m.end(), int(m.group(1))) for m in _MARKER.finditer(text)
                                if int(m.group(1)) <= len(held))  # fmt: skip
                refusal = replace(refusal, text=text, citations=held, markers=markers)
            return replace(refusal, trace=replace(refusal.trace, judged=draft.judged))
        spans = merge_adjacent(draft.sentences) + merge_adjacent(draft.also)  # the lead's own sentences first
        cites = [cite.citation(i, hit, a, b) for i, (hit, a, b) in enumerate(spans, start=1)]
        lead = draft.lead
        text, markers = cite.keyed(f"{lead}。" if lead and lead != cites[0].quote else "", cites)
        problems = cite.number_problems(parts.checked_text(text), cites)
        if problems:  # cannot happen by construction; never show an unsupported number
            log.error("extractive answer had unsupported numbers %s", problems)
            text, markers = cite.keyed("", cites)
        return Answer(question, text, grounded=True, mode=mode, citations=tuple(cites),
                      trace=Trace(judged=draft.judged, rule=draft.reason), markers=markers)  # fmt: skip

    @staticmethod
    def _refusal(question: str, standalone: str, hits: Sequence[Hit], mode: Mode, reason: str) -> Answer:
        """The one way a refusal is built: the plain sentence, the nearest passages under ``related``."""
        related = tuple(cite.citation(i, h, *cite.best_sentence(h)) for i, h in enumerate(hits[:3], start=1))
        text = f"资料中没有找到关于“{topic(standalone)}”的信息。"
        return Answer(question, text, grounded=False, mode=mode, related=related, trace=Trace(refusal=reason))

    def _llm_answer(self, question: str, standalone: str, pool: tuple[Citation, ...],
                    hits: list[Hit]) -> Iterator[str | Progress | Answer]:  # fmt: skip
        """The model's reply, shown only once checked: while it writes, a progress line says so."""
        llm = self._get_llm()
        pieces: list[str] = []
        for piece in llm.answer_stream(standalone, [c.quote for c in pool]):
            if not pieces:
                yield Progress(f"{self.model_label}正在写答案，核对出处后显示…", pool)
            pieces.append(piece)
        text, used = cite.resolve("".join(pieces).strip(), pool)
        text, used, notice = check_sentences(text, used)
        if not used:  # grounding is decided by resolved citations, not by the wording of the reply
            yield self._refusal(question, standalone, hits, Mode.LLM, "no supported sentence")
            return
        yield text
        yield Answer(question, text, grounded=True, mode=Mode.LLM, citations=used, notice=notice,
                     markers=cite.model_markers(text, used))  # fmt: skip


def _newest(hits: Sequence[Hit]) -> str | None:
    return max((h.date for h in hits if h.date), default=None)


def evidence_first(rules: Draft, cands: Sequence[Candidate]) -> list[Candidate]:
    """What a language model reads: the rows and sentences of the figures, table rows or parts the rules matched
    first (the registry's facts are its evidence too), then the ranked sentences not among them."""
    if rules.reason not in ("fact", "parts", "table position"):
        return list(cands)
    first = list(rules.sentences)
    seen = {(c.hit.chunk.doc_id, c.start) for c in first}
    return first + [c for c in cands if (c.hit.chunk.doc_id, c.start) not in seen]


def _traced(answer: Answer, hits: list[Hit], timings: dict[str, float], started: float) -> Answer:
    total = {**timings, "total_ms": (time.perf_counter() - started) * 1e3}
    return replace(answer, trace=replace(answer.trace, hits=tuple(hits), timings=total))


def merge_adjacent(sentences: Sequence[Candidate]) -> list[tuple[Hit, int, int]]:
    """Sentences in document order (each with what it draws on: ``extract.quoted_span``), the documents in the
    order ``sentences`` first quote them (the lead's own first), neighbours and overlaps in one chunk joined into
    one quote span."""
    spans: list[tuple[Hit, int, int]] = []
    quoted = [(c.hit, *quoted_span(c)) for c in sentences]
    first = {d: i for i, d in reversed(list(enumerate(c.hit.chunk.doc_id for c in sentences)))}
    ordered = sorted(quoted, key=lambda s: (first[s[0].chunk.doc_id], s[1])) if len(quoted) > 1 else quoted
    for hit, start, end in ordered:
        last = spans[-1] if spans else None
        gap = last[0].chunk.text[last[2] - last[0].chunk.start : start - last[0].chunk.start] if last else None
        if last and last[0].chunk.chunk_id == hit.chunk.chunk_id and gap is not None and not gap.strip():
            spans[-1] = (last[0], last[1], max(last[2], end))
        else:
            spans.append((hit, start, end))
    return spans


def check_sentences(text: str, used: Sequence[Citation]) -> tuple[str, tuple[Citation, ...], str]:
    """Only the sentences that cite a quote and whose every number stands in their quotes, the citations those
    use (renumbered), and a notice saying what was removed."""
    by_n = {c.n: c for c in used}
    kept, unsourced, misquoted = [], 0, 0
    for sentence, keys in cite.sentences_with_keys(text):
        quotes = [by_n[k] for k in keys if k in by_n]
        if not quotes:
            unsourced += 1
        elif cite.number_problems(sentence, quotes):
            misquoted += 1
        else:
            kept.append(sentence)
    text, cited = cite.resolve("".join(kept), used)
    removed = [
        f"{unsourced} 句没有出处的话" if unsourced else "",
        f"{misquoted} 句数字与引文不符的话" if misquoted else "",
    ]
    said = "、".join(x for x in removed if x)
    return text, cited, (f"注意：已删去 {said}。" if said else "")
