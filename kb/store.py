"""A named knowledge base: catalogue + vectors + lexical index, kept in agreement.

Owns: opening and creating knowledge bases, the embedding-model check, the write
protocol (one writer at a time, ``kb.lock``; pending mark → vectors → catalogue →
stale vectors removed → pending cleared) and the recovery that makes a crash anywhere
in it harmless, catching up with what another process wrote before writing, deletion,
the BM25 snapshot each write leaves and its check against the catalogue on open
(rebuilt from the catalogue when they differ), a full disk refused before a write
begins and a write that fails anyway undone (``kb.disk``; its temporary files swept
on the next open), listing, the refusal to read a knowledge base that does not exist,
and the read API retrieval and the UI use (its parts stay private). Does not own: parsing documents or chunking
(``ingest``), or ranking (``assistant``).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb import disk, lock, vectors
from kb.catalog import SEP, Catalog, FactQuery, Stored
from kb.errors import MissingKBError, ModelMismatchError, PilotQAError
from kb.lexical import LexicalIndex
from kb.records import Chunk, DocInfo, Document, Fact
from kb.segment import Segmenter, bigrams
from kb.settings import KB_NAME, Settings, check_kb_name

log = logging.getLogger(__name__)
ALL_FACTS = FactQuery()


@dataclass(frozen=True)
class Entry:
    """One document ready to be stored: its chunks and their vectors."""

    doc: Document
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray
    facts: tuple[Fact, ...] = ()


class KnowledgeBase:
    """One knowledge base. Build with ``open``; safe to share between threads."""

    def __init__(self, settings: Settings, name: str, segmenter: Segmenter, model: str | None) -> None:
        self.name = check_kb_name(name)
        self.settings = settings
        self.dir = settings.kb_dir(name)
        self.segmenter = segmenter
        self._catalog = Catalog(self.dir / "catalog.sqlite")
        recorded = self._catalog.get_meta("embed_model")
        if model is not None and recorded is not None and recorded != model:
            raise ModelMismatchError(
                f"知识库“{name}”是用嵌入模型“{recorded}”建立的，当前设置的是“{model}”。"
                f"请改回 PILOTQA_EMBED_MODEL={recorded}，或用当前模型重建："
                f"pilotqa ingest 路径 --kb {name} --rebuild"
            )
        self.model = recorded or model
        if recorded is None and model is not None:
            self._catalog.set_meta("embed_model", model)
        self._vectors = vectors.VectorStore(settings, name, {"embed_model": self.model or "", "kb": name})
        self._write_lock = threading.RLock()
        self._deferred = 0  # > 0 inside ``bulk()``: the BM25 snapshot is written once at its end
        self._writing_depth = 0  # > 0 while this object holds the knowledge base for writing
        with lock.attempt(settings, name) as owned:  # another process writing now is not a crash to recover
            if owned:
                disk.sweep(self.dir, (disk.TMP_PREFIX + "*", ".lexical-*"))  # what a failed write left
                self.recover()
            self._lexical, self._generation = self._open_lexical(save=owned)

    @classmethod
    def open(
        cls, settings: Settings, name: str, segmenter: Segmenter, model: str | None, rebuild: bool = False
    ) -> KnowledgeBase:
        """Open (creating if needed) knowledge base ``name``; ``rebuild`` empties it first."""
        if rebuild:
            with lock.writer(settings, name):
                delete(settings, name)
                return cls(settings, name, segmenter, model)
        return cls(settings, name, segmenter, model)

    # -- consistency ------------------------------------------------------------
    def recover(self) -> None:
        """Finish or undo an interrupted write: vectors follow the catalogue."""
        pending = self._catalog.pending()
        for doc_id in pending:
            keep = set(self._catalog.chunk_ids(doc_id))
            stored = set(self._vectors.ids_of(doc_id))
            if keep - stored:  # vectors lost: forget the document, the next ingest adds it again
                log.warning(
                    "recovering %s: %d vectors missing; document dropped for re-ingest", doc_id, len(keep - stored)
                )
                self._catalog.delete([doc_id])
                keep = set()
            stray = list(stored - keep)
            if stray:
                log.warning("recovering %s: removing %d stray vectors", doc_id, len(stray))
                self._vectors.delete(stray)
        if pending:
            self._catalog.clear_pending(pending)

    def _open_lexical(self, save: bool) -> tuple[LexicalIndex, int]:
        """The BM25 index and the catalogue generation it reflects: the snapshot when it holds exactly the
        catalogue's chunks, else rebuilt from the catalogue's stored terms (and saved when ``save``)."""
        path = self.dir / "lexical.npz"
        generation = self._catalog.generation
        index = LexicalIndex.load(path, generation)
        if index is not None and index.live() == set(self._catalog.chunk_ids()):
            return index, generation
        if index is not None:
            log.warning("the BM25 snapshot of %s differs from its catalogue; rebuilding it", self.name)
        index = lexical_of(self._catalog)
        if save:
            index.save(path, generation)
        return index, generation

    def _save_lexical(self) -> None:
        if not self._deferred:
            self._lexical.save(self.dir / "lexical.npz", self._generation)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the knowledge base for writing (waiting for another writer, ``kb.lock``); on first taking it,
        finish a dead writer's interrupted work and catch up with what others wrote since this object read."""
        # the file lock first, as every holder takes it (an upload holds it around its whole import)
        with lock.writer(self.settings, self.name), self._write_lock:
            if not self._writing_depth:
                self.recover()
                if self._catalog.generation != self._generation:
                    self._lexical, self._generation = self._open_lexical(save=False)
            self._writing_depth += 1
            try:
                yield
            finally:
                self._writing_depth -= 1

    def _wrote(self) -> None:
        """The catalogue changed under this object's hold: the in-memory BM25 index reflects it."""
        self._generation = self._catalog.generation
        self._save_lexical()

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Many writes under one hold of the knowledge base, one BM25 snapshot at the end (a crash inside
        leaves a stale snapshot, rebuilt on open)."""
        with self._writing():
            self._deferred += 1
            try:
                yield
            except BaseException:
                self._deferred -= 1
                with contextlib.suppress(Exception):  # a stale snapshot is rebuilt on open: the first error counts
                    self._save_lexical()
                raise
            self._deferred -= 1
            self._save_lexical()

    # -- writes -----------------------------------------------------------------
    def write(self, entries: Sequence[Entry]) -> None:
        """Store documents (replacing earlier versions) so that a crash loses nothing; on a disk without room
        for them (``PILOTQA_MIN_FREE_MB`` kept free) nothing is written (``DiskFullError``), and a write that
        fails anyway is undone: the knowledge base stays as it was."""
        if not entries:
            return
        need = _room_for(entries, self._catalog.path)
        disk.ensure_room(self.dir, need, self.settings.min_free_mb)
        with self._writing():
            try:
                with disk.as_disk_full(self.dir, need + self.settings.min_free_mb * disk.MB):
                    self._write(entries)
            except BaseException:
                self._undo([e.doc.doc_id for e in entries])
                raise
            self._wrote()

    def _undo(self, doc_ids: list[str]) -> None:
        """After a failed write: vectors follow the catalogue again, the in-memory BM25 index is the catalogue's
        (when even that fails the pending mark stays, and the next open finishes it)."""
        try:
            self.recover()
        except Exception as exc:
            log.warning("undoing the failed write of %s: %s; the next open finishes it", doc_ids, exc)
        self._lexical, self._generation = self._open_lexical(save=False)

    def _write(self, entries: Sequence[Entry]) -> None:
        doc_ids = [e.doc.doc_id for e in entries]
        self._catalog.mark_pending(doc_ids)
        old = {d: set(self._catalog.chunk_ids(d)) for d in doc_ids}
        ids = [c.chunk_id for e in entries for c in e.chunks]
        metas = [{"doc_id": c.doc_id, "ordinal": c.ordinal} for e in entries for c in e.chunks]
        if ids:
            self._vectors.upsert(ids, np.concatenate([e.vectors for e in entries]), metas)
        rows: list[Stored] = []
        for e in entries:
            embedded = [self.embed_text(c) for c in e.chunks]
            terms = [self.segmenter.terms(t) for t in embedded]
            # a table row is found by its header's and caption's words too
            grams = [bigrams(t if c.is_table else c.text) for c, t in zip(e.chunks, embedded, strict=True)]
            rows.append((e.doc, e.chunks, terms, grams, e.facts, e.vectors))
        self._catalog.replace(rows)
        stale = [cid for d in doc_ids for cid in old[d] - {c.chunk_id for c in _chunks_of(entries, d)}]
        self._vectors.delete(stale)
        self._lexical.remove(stale)
        for _doc, stored, their_terms, their_grams, _facts, _vectors in rows:
            for c, t, g in zip(stored, their_terms, their_grams, strict=True):
                self._lexical.add(c.chunk_id, t, g)
        self._catalog.clear_pending(doc_ids)

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        with self._writing():
            self._catalog.mark_pending(doc_ids)
            ids = [cid for d in doc_ids for cid in self._catalog.chunk_ids(d)]
            self._catalog.delete(doc_ids)
            self._vectors.delete(ids)
            self._lexical.remove(ids)
            self._catalog.clear_pending(doc_ids)
            self._wrote()

    def relocate(self, doc_id: str, source: str) -> None:
        """Record that a stored document's file is now ``source`` (moved, same content): id, chunks, vectors and
        citations stay as they are."""
        with self._writing():
            self._catalog.relocate(doc_id, source)

    @staticmethod
    def embed_text(chunk: Chunk) -> str:
        """What gets embedded and indexed: the heading path, a table's caption and header row, then the text."""
        lead = [" / ".join(chunk.heading_path)] if chunk.heading_path else []
        lead += [x for x in (chunk.caption, chunk.header) if x and x not in lead]
        return "\n".join([*lead, chunk.text])

    # -- reads ------------------------------------------------------------------
    def documents(self) -> list[DocInfo]:
        return self._catalog.documents()

    def doc_infos(self, doc_ids: Sequence[str]) -> dict[str, DocInfo]:
        return self._catalog.doc_infos(doc_ids)

    def quotes(self, spans: Sequence[tuple[str, int, int]]) -> list[str]:
        return self._catalog.quotes(spans)

    def document(self, doc_id: str) -> Document | None:
        return self._catalog.document(doc_id)

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        return self._catalog.counts()

    def facts(self, query: FactQuery = ALL_FACTS) -> list[Fact]:
        """The fact registry's query: facts matching every filter of ``query``, newest first, undated last."""
        return self._catalog.facts(query)

    def fact_subjects(self, doc_ids: Sequence[str]) -> list[tuple[str, int, str]]:
        """Whose figures the documents state where: (doc_id, the sentence's or row's start, subject) each."""
        return self._catalog.fact_subjects(doc_ids) if doc_ids else []

    def quoted_subjects(self) -> list[str]:
        """Every subject of the registry that names something in quotes (“某某贷”)."""
        return self._catalog.quoted_subjects()

    def fact_count(self) -> int:
        return self._catalog.fact_count()

    def chunk_ids(self, doc_id: str | None = None) -> list[str]:
        """Every chunk id, or one document's."""
        return self._catalog.chunk_ids(doc_id)

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The stored chunks of these ids (ids no longer stored are absent)."""
        return self._catalog.chunks(chunk_ids)

    def chunk_at(self, doc_id: str, start: int, end: int) -> Chunk | None:
        """The chunk of ``doc_id`` that holds the span [start, end) (a fact's sentence or row), if any."""
        return self._catalog.chunk_at(doc_id, start, end)

    def recognised(self, doc_ids: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        """The spans of these documents' text recognised from images (OCR), by document."""
        return self._catalog.recognised(doc_ids)

    def stored_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunks."""
        return self._vectors.vectors(chunk_ids)

    def dense(self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Nearest chunks to ``vector`` as (chunk_id, cosine), optionally within some documents."""
        return self._vectors.search(vector, k, doc_ids)

    def lexical(self, field: str, terms: Sequence[str], k: int, allowed: set[str] | None = None
                ) -> list[tuple[str, float]]:  # fmt: skip
        """BM25 over ``field`` ("terms": jieba terms, "bigrams": character bigrams) as (chunk_id, score); first
        caught up with what another process wrote since this object read (an app beside a Chroma server)."""
        self._catch_up()
        return self._lexical.search(field, terms, k, allowed)

    def _catch_up(self) -> None:
        if self._writing_depth or self._catalog.generation == self._generation:
            return
        with self._write_lock:
            if self._catalog.generation != self._generation:
                self._lexical, self._generation = self._open_lexical(save=False)

    def idf(self, field: str, term: str) -> float:
        return self._lexical.idf(field, term)

    @property
    def location(self) -> str:
        """Where the vectors live: the embedded Chroma folder or the server's URL."""
        return self._vectors.location

    def check(self) -> list[str]:
        """Disagreements between catalogue, vectors and lexical index (empty when consistent)."""
        catalog = set(self._catalog.chunk_ids())
        problems = []
        if set(self._vectors.all_ids()) != catalog:
            problems.append("vectors differ from the catalogue")
        if self._lexical.live() != catalog:
            problems.append("lexical index differs from the catalogue")
        if self._catalog.pending():
            problems.append("writes are pending")
        return problems


def lexical_of(catalog: Catalog) -> LexicalIndex:
    """The BM25 index of the catalogue's chunks, built from the terms and bigrams it stores (no tokenising)."""
    index = LexicalIndex()
    for chunk_id, terms, grams in catalog.iter_terms():
        index.add(chunk_id, terms.split(SEP) if terms else [], grams.split(SEP) if grams else [])
    return index


def _room_for(entries: Sequence[Entry], catalog: Path) -> int:
    """Bytes a write of ``entries`` may take at most: the catalogue's rows and WAL (text, terms, vector copies),
    Chroma's (vectors, its log, index growth) and a new BM25 snapshot, generously."""
    text = sum(len(e.doc.text.encode()) * 4 + sum(len(c.text.encode()) * 6 for c in e.chunks) for e in entries)
    vecs = sum(int(e.vectors.nbytes) for e in entries)
    snapshot = catalog.with_name("lexical.npz")
    return 2 * text + 6 * vecs + (snapshot.stat().st_size if snapshot.exists() else 0) + disk.MB


def _chunks_of(entries: Sequence[Entry], doc_id: str) -> tuple[Chunk, ...]:
    return next(e.chunks for e in entries if e.doc.doc_id == doc_id)


def peek(settings: Settings, name: str) -> tuple[int, int, str | None]:
    """(documents, chunks, embedding model) of a knowledge base, read from its catalogue alone."""
    catalog = Catalog(settings.kb_dir(name) / "catalog.sqlite")
    try:
        docs, chunks = catalog.counts()
        return docs, chunks, catalog.get_meta("embed_model")
    finally:
        catalog.close()


def list_names(settings: Settings) -> list[str]:
    root = settings.home / "kb"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if KB_NAME.fullmatch(p.name) and (p / "catalog.sqlite").exists())


def require(settings: Settings, name: str) -> str:
    """``name`` if that knowledge base exists; else an error listing the ones that do (reading never creates)."""
    names = list_names(settings)
    if check_kb_name(name) in names:
        return name
    if not names:
        raise MissingKBError(
            f"没有名为“{name}”的知识库，也还没有别的知识库：请先导入文档（pilotqa ingest 路径 --kb {name}）。"
        )
    raise MissingKBError(
        f"没有名为“{name}”的知识库。已有的知识库：{'、'.join(names)}。请改用其中一个，"
        f"或先导入文档新建它（pilotqa ingest 路径 --kb {name}）。"
    )


def delete(settings: Settings, name: str) -> bool:
    """Remove a knowledge base entirely; False if there was none."""
    check_kb_name(name)
    path: Path = settings.kb_dir(name)
    with lock.writer(settings, name):
        existed = path.exists()
        try:
            vectors.drop(settings, name)
        except Exception as exc:  # nothing is removed: the catalogue stays so that the knowledge base stays whole
            raise PilotQAError(
                f"无法删除知识库“{name}”的向量集合（{exc}），知识库保持原样：请确认向量库可用后重试。"
            ) from exc
        shutil.rmtree(path, ignore_errors=True)
    return existed
