"""A named knowledge base: catalogue + vectors + lexical index, kept in agreement.

Owns: opening and creating knowledge bases, the embedding-model check, the write
protocol (pending mark → vectors → catalogue → stale vectors removed → pending
cleared) and the recovery that makes a crash anywhere in it harmless, deletion,
listing, and read access for retrieval. Does not own: parsing documents or chunking
(``ingest``), or ranking (``assistant``).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb import vectors
from kb.catalog import SEP, Catalog
from kb.errors import ModelMismatchError, PilotQAError
from kb.lexical import LexicalIndex
from kb.records import Chunk, DocInfo, Document
from kb.segment import Segmenter, bigrams
from kb.settings import Settings, check_kb_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One document ready to be stored: its chunks and their vectors."""

    doc: Document
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray


class KnowledgeBase:
    """One knowledge base. Build with ``open``; safe to share between threads."""

    def __init__(self, settings: Settings, name: str, segmenter: Segmenter, model: str | None) -> None:
        self.name = check_kb_name(name)
        self.settings = settings
        self.dir = settings.kb_dir(name)
        self.segmenter = segmenter
        self.catalog = Catalog(self.dir / "catalog.sqlite")
        recorded = self.catalog.get_meta("embed_model")
        if model is not None and recorded is not None and recorded != model:
            raise ModelMismatchError(
                f"知识库“{name}”是用嵌入模型“{recorded}”建立的，当前设置的是“{model}”。"
                f"请改回 PILOTQA_EMBED_MODEL={recorded}，或用当前模型重建："
                f"pilotqa ingest 路径 --kb {name} --rebuild"
            )
        self.model = recorded or model
        if recorded is None and model is not None:
            self.catalog.set_meta("embed_model", model)
        self.vectors = vectors.VectorStore(settings, name, {"embed_model": self.model or "", "kb": name})
        self._write_lock = threading.Lock()
        self.recover()
        self.lexical = self._open_lexical()

    @classmethod
    def open(
        cls, settings: Settings, name: str, segmenter: Segmenter, model: str | None, rebuild: bool = False
    ) -> KnowledgeBase:
        """Open (creating if needed) knowledge base ``name``; ``rebuild`` empties it first."""
        if rebuild:
            delete(settings, name)
        return cls(settings, name, segmenter, model)

    # -- consistency ------------------------------------------------------------
    def recover(self) -> None:
        """Finish or undo an interrupted write: vectors follow the catalogue."""
        pending = self.catalog.pending()
        for doc_id in pending:
            keep = set(self.catalog.chunk_ids(doc_id))
            stored = set(self.vectors.ids_of(doc_id))
            if keep - stored:  # vectors lost: forget the document, the next ingest adds it again
                log.warning(
                    "recovering %s: %d vectors missing; document dropped for re-ingest", doc_id, len(keep - stored)
                )
                self.catalog.delete([doc_id])
                keep = set()
            stray = list(stored - keep)
            if stray:
                log.warning("recovering %s: removing %d stray vectors", doc_id, len(stray))
                self.vectors.delete(stray)
        if pending:
            self.catalog.clear_pending(pending)

    def _open_lexical(self) -> LexicalIndex:
        path = self.dir / "lexical.npz"
        index = LexicalIndex.load(path, self.catalog.generation)
        if index is not None:
            return index
        index = LexicalIndex()
        for chunk_id, terms, grams in self.catalog.iter_terms():
            index.add(chunk_id, terms.split(SEP) if terms else [], grams.split(SEP) if grams else [])
        index.save(path, self.catalog.generation)
        return index

    def save_lexical(self) -> None:
        self.lexical.save(self.dir / "lexical.npz", self.catalog.generation)

    # -- writes -----------------------------------------------------------------
    def write(self, entries: Sequence[Entry]) -> None:
        """Store documents (replacing earlier versions) so that a crash loses nothing."""
        if not entries:
            return
        doc_ids = [e.doc.doc_id for e in entries]
        with self._write_lock:
            self.catalog.mark_pending(doc_ids)
            old = {d: set(self.catalog.chunk_ids(d)) for d in doc_ids}
            ids = [c.chunk_id for e in entries for c in e.chunks]
            metas = [{"doc_id": c.doc_id, "ordinal": c.ordinal} for e in entries for c in e.chunks]
            if ids:
                self.vectors.upsert(ids, np.concatenate([e.vectors for e in entries]), metas)
            rows = []
            for e in entries:
                terms = [self.segmenter.terms(self.embed_text(c)) for c in e.chunks]
                grams = [bigrams(c.text) for c in e.chunks]
                rows.append((e.doc, e.chunks, terms, grams))
            self.catalog.replace(rows)
            stale = [cid for d in doc_ids for cid in old[d] - {c.chunk_id for c in _chunks_of(entries, d)}]
            self.vectors.delete(stale)
            self.lexical.remove(stale)
            for _doc, chunks, terms, grams in rows:
                for c, t, g in zip(chunks, terms, grams, strict=True):
                    self.lexical.add(c.chunk_id, t, g)
            self.catalog.clear_pending(doc_ids)

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        with self._write_lock:
            self.catalog.mark_pending(doc_ids)
            ids = [cid for d in doc_ids for cid in self.catalog.chunk_ids(d)]
            self.catalog.delete(doc_ids)
            self.vectors.delete(ids)
            self.lexical.remove(ids)
            self.catalog.clear_pending(doc_ids)
            self.save_lexical()

    @staticmethod
    def embed_text(chunk: Chunk) -> str:
        """What gets embedded and indexed: the heading path, then the chunk text."""
        if chunk.heading_path:
            return " / ".join(chunk.heading_path) + "\n" + chunk.text
        return chunk.text

    # -- reads ------------------------------------------------------------------
    def documents(self) -> list[DocInfo]:
        return self.catalog.documents()

    def document(self, doc_id: str) -> Document | None:
        return self.catalog.document(doc_id)

    def counts(self) -> tuple[int, int]:
        return self.catalog.counts()


def _chunks_of(entries: Sequence[Entry], doc_id: str) -> tuple[Chunk, ...]:
    return next(e.chunks for e in entries if e.doc.doc_id == doc_id)


def list_names(settings: Settings) -> list[str]:
    root = settings.home / "kb"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "catalog.sqlite").exists())


def delete(settings: Settings, name: str) -> bool:
    """Remove a knowledge base entirely; False if there was none."""
    check_kb_name(name)
    path: Path = settings.kb_dir(name)
    existed = path.exists()
    try:
        vectors.drop(settings, name)
    except Exception as exc:  # the catalogue goes anyway; say what is left behind
        raise PilotQAError(f"无法删除知识库“{name}”的向量集合：{exc}") from exc
    shutil.rmtree(path, ignore_errors=True)
    return existed
