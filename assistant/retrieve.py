"""Hybrid retrieval: dense vectors + BM25 (jieba terms) + BM25 (character bigrams).

Owns: running the three rankers over the same candidate set, reciprocal-rank
fusion, filters (by document, by publication date range), optional cross-encoder
reranking, and turning chunk ids into ``Hit`` records. Does not own: the indexes
themselves (``kb``) or choosing sentences (``assistant.extract``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from assistant import question as qn
from kb.records import Chunk, Hit
from kb.segment import bigrams
from kb.settings import AnswerKnobs
from kb.store import KnowledgeBase
from models.embed import Embedder, Reranker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents and/or a publication date range (ISO dates)."""

    doc_ids: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.doc_ids or self.date_from or self.date_to)


NO_FILTERS = Filters()


@dataclass(frozen=True)
class Retrieval:
    """One search's chunks, best first, and how long its steps took (ms)."""

    hits: list[Hit]
    timings: dict[str, float]


class Retriever:
    """Searches one knowledge base. Holds no per-query state: one instance serves every session."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, reranker: Reranker | None = None,
                 knobs: AnswerKnobs | None = None) -> None:  # fmt: skip
        self.kb = kb
        self.embedder = embedder
        self.reranker = reranker
        self.knobs = knobs or AnswerKnobs()

    def _allowed_docs(self, filters: Filters) -> list[str] | None:
        if not filters.active:
            return None
        out = []
        for d in self.kb.documents():
            if filters.doc_ids and d.doc_id not in filters.doc_ids:
                continue
            if filters.date_from and (d.date is None or d.date < filters.date_from):
                continue
            if filters.date_to and (d.date is None or d.date > filters.date_to):
                continue
            out.append(d.doc_id)
        return out

    def rankings(
        self, query: str, filters: Filters = NO_FILTERS, terms: Sequence[str] | None = None
    ) -> tuple[dict[str, list[str]], dict[str, float]]:
        """Each ranker's ordered chunk ids for ``query``, and the time each step took (ms). ``terms`` are the
        lexical query terms when the caller has them (a parsed question); otherwise the query is segmented."""
        allowed_docs = self._allowed_docs(filters)
        allowed = None
        if allowed_docs is not None:
            allowed = {cid for d in allowed_docs for cid in self.kb.chunk_ids(d)}
        t0 = time.perf_counter()
        vector = self.embedder.query(query)
        t1 = time.perf_counter()
        pool = self.knobs.pool
        dense = [cid for cid, _ in self.kb.dense(vector, pool, allowed_docs)]
        t2 = time.perf_counter()
        terms = list(terms) if terms is not None else self.kb.segmenter.query_terms(query)
        words = [cid for cid, _ in self.kb.lexical("terms", terms, pool, allowed)]
        grams = [cid for cid, _ in self.kb.lexical("bigrams", bigrams(query), pool, allowed)]
        t3 = time.perf_counter()
        timings = {"embed_ms": (t1 - t0) * 1e3, "dense_ms": (t2 - t1) * 1e3, "lexical_ms": (t3 - t2) * 1e3}
        return {"dense": dense, "terms": words, "bigrams": grams}, timings

    def search(
        self,
        query: str,
        k: int = 8,
        filters: Filters = NO_FILTERS,
        terms: Sequence[str] | None = None,
        names: Sequence[str] = (),
    ) -> Retrieval:
        """The ``k`` best chunks for ``query``, fused by reciprocal rank (``terms`` as for ``rankings``); chunks
        that name every place and institution in ``names`` (their text, headings or document title) first."""
        ranks, timings = self.rankings(query, filters, terms)
        fused: dict[str, float] = {}
        for ids in ranks.values():
            for rank, cid in enumerate(ids, start=1):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.knobs.rrf_k + rank)
        order = sorted(fused, key=lambda c: -fused[c])
        if names and order:
            order = self._naming_first(order, names)
        if self.reranker is not None and order:
            t = time.perf_counter()
            order = self._rerank(query, order[: max(k * 3, 20)])
            timings["rerank_ms"] = (time.perf_counter() - t) * 1e3
        top = order[:k]
        chunks = self.kb.chunks(top)
        docs = self.kb.doc_infos([c.doc_id for c in chunks.values()]) if chunks else {}
        hits = []
        for cid in top:
            c = chunks.get(cid)
            if c is None:
                continue  # removed since the rankers ran
            d = docs.get(c.doc_id)
            hits.append(Hit(c, fused[cid], title=d.title if d else "", date=d.date if d else None,
                            source=d.source if d else ""))  # fmt: skip
        return Retrieval(hits, timings)

    def _naming_first(self, order: list[str], names: Sequence[str]) -> list[str]:
        """``order`` with the chunks that name every one of ``names`` first, each part in its own order: evidence
        for 某市's figure must name 某市, so a chunk that does is worth more than one that ranks higher without
        (a report naming the city once is found even when longer reports share more of the question's words)."""
        chunks = self.kb.chunks(order)
        titles = {d: i.title for d, i in self.kb.doc_infos([c.doc_id for c in chunks.values()]).items()}

        def names_all(cid: str) -> bool:
            c = chunks.get(cid)
            said = f"{titles.get(c.doc_id, '')} {' '.join(c.heading_path)} {c.text}" if c else ""
            return all(qn.mentions(n, said) for n in names)

        first = [cid for cid in order if names_all(cid)]
        taken = set(first)
        rest = [chunks[cid] for cid in order if cid not in taken and cid in chunks]
        owned = self._owned(rest, names)  # 全省…891.47亿元 in a speech whose registry reads 全省 as the place
        first += [cid for cid in order if cid in owned]
        return first + [cid for cid in order if cid not in taken and cid not in owned]

    def _owned(self, chunks: list[Chunk], names: Sequence[str]) -> set[str]:
        """The ``chunks`` with a figure the registry gives to a subject that names every one of ``names``."""
        subjects: dict[str, list[tuple[int, str]]] = {}
        for doc_id, start, subject in self.kb.fact_subjects([c.doc_id for c in chunks]):
            subjects.setdefault(doc_id, []).append((start, subject))
        return {c.chunk_id for c in chunks if any(c.start <= at < c.end and all(qn.mentions(n, s) for n in names)
                                                  for at, s in subjects.get(c.doc_id, ()))}  # fmt: skip

    def _rerank(self, query: str, ids: list[str]) -> list[str]:
        assert self.reranker is not None
        chunks = self.kb.chunks(ids)
        present = [cid for cid in ids if cid in chunks]
        scores = self.reranker.scores(query, [chunks[c].text for c in present])
        return [c for _, c in sorted(zip(scores, present, strict=True), key=lambda p: -p[0])]
