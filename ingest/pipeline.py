"""The ingest pipeline: paths in, a knowledge base that agrees with them out.

Owns: building Documents (id, title, date, cleaned text, sections, tables, content hash), skipping unchanged ones,
keeping a moved file's document (same content, its old file gone) under its id, batching chunks through the embedder
into the knowledge base with each document's facts, pruning documents whose files are gone from under the paths
named, and deciding each file's result (the records are ``ingest.summary``'s). Reading files (parsing, OCR) never
touches the knowledge base, so a caller that must not hold it long (the service) reads first (``prepare``) and
holds it only to store (``store``); ``run`` does both, file by file. Does not own: finding the files
(``ingest.paths``) or storage consistency (``kb.store``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest import loaders, normalize, reflow
from ingest.chunk import chunk
from ingest.clean import clean
from ingest.facts import extract as extract_facts
from ingest.loaders.ocr import Ocr
from ingest.paths import Found, discover
from ingest.structure import assemble, find_date, find_title, mark_headings, normalize_date
from ingest.summary import Result, Status, Summary
from ingest.tables import mark_rows
from kb.errors import InputError
from kb.records import Chunk, DocInfo, Document, Fact
from kb.store import Entry, KnowledgeBase
from models.embed import Embedder

log = logging.getLogger(__name__)

PIPELINE_VERSION = "10"  # part of every content hash: bump to re-chunk everything (and re-extract facts)
BATCH_CHUNKS = 64
Progress = Callable[[int, int, str], None]


def file_doc_id(path: Path) -> str:
    stem = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff_-]+", "-", path.stem).strip("-")[:40] or "doc"
    return f"{stem}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"


def to_document(parsed: loaders.Parsed, path: Path, chunk_chars: int) -> Document:
    loaded = normalize.blocks(parsed.blocks)  # look-alike characters mapped, invisible ones gone: one place for all
    blocks, removed = clean(loaded if parsed.structured else mark_rows(loaded))
    blocks = blocks if parsed.structured else mark_headings(reflow.join_broken(blocks))
    if not blocks:
        raise InputError(str(path), f"清除网页模板文字（{removed} 处）后没有正文内容")
    text, sections, tables = assemble(blocks)
    title = normalize.text(parsed.title) or find_title(blocks, path.stem)
    date = normalize_date(parsed.date) if parsed.date else find_date(blocks, title, path.name)
    payload = json.dumps([PIPELINE_VERSION, chunk_chars, title, date, text, [list(s.heading_path) for s in sections],
                          [s.page for s in sections], [[t.caption, t.header_rows, t.rows] for t in tables], removed],
                         ensure_ascii=False)  # fmt: skip
    return Document(
        doc_id=parsed.record or file_doc_id(path), title=title, text=text, source=str(path), date=date,
        sections=sections, content_hash=hashlib.sha256(payload.encode()).hexdigest(), record=parsed.record,
        tables=tables, removed=removed,
    )  # fmt: skip


@dataclass(frozen=True)
class Loaded:
    """One file read: its documents (each a ``Document`` with what its loader noted and its record, or why it
    failed), and ``error`` when the file failed (whatever it yielded before that is kept)."""

    item: Path | InputError
    docs: tuple[tuple[Document | InputError, str, str | None], ...] = ()
    error: InputError | None = None


@dataclass(frozen=True)
class Prepared:
    """Files read by ``Ingestor.prepare``, waiting to be stored."""

    found: Found
    loaded: tuple[Loaded, ...]
    seconds: float


@dataclass
class _Run:
    """One ingest run's bookkeeping."""

    known: dict[str, DocInfo]  # what the knowledge base held when the run began
    found: Found  # every file this run reads, and the paths it named
    summary: Summary = field(default_factory=Summary)
    batch: list[tuple[Document, list[Chunk], Status]] = field(default_factory=list)
    claimed: dict[str, str] = field(default_factory=dict)  # doc_id -> the file that supplied it in this run
    intact: set[str] = field(default_factory=set)  # files read without error: their absent records are gone
    notes: dict[str, str] = field(default_factory=dict)  # doc_id -> what its loader said of it (Result.message)
    by_source: dict[str, DocInfo] = field(init=False, default_factory=dict)  # stored files' documents (no records)
    by_hash: dict[str, list[DocInfo]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for info in self.known.values():
            if info.record is None:  # a record keeps its own id wherever its file goes
                self.by_source[info.source] = info
                self.by_hash.setdefault(info.content_hash, []).append(info)

    def identify(self, doc: Document) -> Document:
        """``doc`` under the id its file already has: the document stored from this path, or the same content
        from a file that is gone (a move: id and citations stay). A new file whose path-derived id a moved
        document kept gets another."""
        if doc.record is not None:
            return doc
        stored = self.by_source.get(doc.source) or next(
            (d for d in self.by_hash.get(doc.content_hash, [])
             if d.doc_id not in self.claimed and not Path(d.source).exists()),
            None,
        )  # fmt: skip
        if stored is not None:
            return replace(doc, doc_id=stored.doc_id)
        taken = self.known.get(doc.doc_id)
        if taken is not None and taken.record is None and not _same_file(taken.source, doc.source):
            return replace(doc, doc_id=f"{doc.doc_id}-{doc.content_hash[:6]}")
        return doc


class Ingestor:
    """Ingests into one knowledge base with one embedder. The one place failures become results."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, chunk_chars: int, max_file_mb: float,
                 limits: loaders.Limits | None = None, ocr: Ocr | None = None) -> None:  # fmt: skip
        self.kb = kb
        self.embedder = embedder
        self.chunk_chars = chunk_chars
        self.max_bytes = int(max_file_mb * 1e6)
        self.limits = limits or loaders.Limits()
        self.ocr = ocr  # None: scanned PDF pages and images are refused (entry points pass Ocr.of(settings))

    def run(self, paths: Iterable[Path], prune: bool = False, progress: Progress | None = None) -> Summary:
        """Read each file and store its documents, one file after the other (the knowledge base held throughout)."""
        started = time.perf_counter()
        found = discover(paths)
        summary = self._store(found, self._reading(found.items, progress), prune)
        if progress:
            progress(len(found.items), len(found.items), "")
        summary.seconds = time.perf_counter() - started
        return summary

    def prepare(self, paths: Iterable[Path], progress: Progress | None = None) -> Prepared:
        """Read every file (parsing, recognising scanned pages) without touching the knowledge base: the slow part
        of an ingest, done before ``store`` holds it."""
        started = time.perf_counter()
        found = discover(paths)
        loaded = tuple(self._reading(found.items, progress))
        return Prepared(found, loaded, time.perf_counter() - started)

    def store(self, prepared: Prepared, prune: bool = False) -> Summary:
        """Store what ``prepare`` read (embedding what changed): the part that holds the knowledge base."""
        started = time.perf_counter()
        summary = self._store(prepared.found, prepared.loaded, prune)
        summary.seconds = prepared.seconds + time.perf_counter() - started
        return summary

    def _store(self, found: Found, loaded: Iterable[Loaded], prune: bool) -> Summary:
        with self.kb.bulk():  # one writer at a time: what the knowledge base holds is read once it is ours
            run = _Run(known={d.doc_id: d for d in self.kb.documents()}, found=found)
            for item in loaded:
                self._file(item, run)
            self._flush(run)
            if prune:
                run.summary.results.extend(self._prune(run))
        return run.summary

    def _reading(self, items: Sequence[Path | InputError], progress: Progress | None) -> Iterator[Loaded]:
        for done, item in enumerate(items):
            if progress:
                progress(done, len(items), str(item if isinstance(item, Path) else item.path))
            yield self.load(item)

    def load(self, item: Path | InputError) -> Loaded:
        """One file's documents, or why each (or the whole file) failed; the knowledge base is not read."""
        docs: list[tuple[Document | InputError, str, str | None]] = []
        try:
            if isinstance(item, InputError):
                raise item
            for parsed in loaders.load(item, self.max_bytes, self.limits, self.ocr):
                try:
                    docs.append((to_document(parsed, item, self.chunk_chars), "；".join(parsed.notes), parsed.record))
                except InputError as exc:
                    docs.append((exc, "", parsed.record))
        except InputError as exc:
            return Loaded(item, tuple(docs), exc)
        return Loaded(item, tuple(docs))

    def _file(self, loaded: Loaded, run: _Run) -> None:
        """Store one file's documents; its problems become failed results, the batch goes on."""
        whole = loaded.error is None
        for doc, notes, record in loaded.docs:
            try:
                if isinstance(doc, InputError):
                    raise doc
                self._document(doc, run, notes)
            except InputError as exc:
                _failed(run, exc, record)
                whole = False
        if loaded.error is not None:
            _failed(run, loaded.error)
        elif whole:
            run.intact.add(str(loaded.item))

    def _document(self, doc: Document, run: _Run, notes: str = "") -> None:
        doc = run.identify(doc)
        conflict = self._conflict(doc, run)
        if conflict:
            raise InputError(doc.source, conflict)
        run.claimed[doc.doc_id] = doc.source
        if notes:
            run.notes[doc.doc_id] = notes
        old = run.known.get(doc.doc_id)
        if old is not None and old.content_hash == doc.content_hash:
            status = Status.UNCHANGED if old.source == doc.source else Status.MOVED
            if status is Status.MOVED:
                self.kb.relocate(doc.doc_id, doc.source)
            run.summary.results.append(
                Result(doc.source, status, doc.doc_id, doc.title, old.n_chunks, notes, doc.record)
            )
            return
        chunks = chunk(doc, self.chunk_chars)
        if not chunks:  # stored, it could never be found or cited: say so instead
            raise InputError(doc.source, "只有标题，没有可检索的正文内容")
        run.batch.append((doc, chunks, Status.UPDATED if old else Status.ADDED))
        if sum(len(c) for _, c, _ in run.batch) >= BATCH_CHUNKS:
            self._flush(run)

    @staticmethod
    def _conflict(doc: Document, run: _Run) -> str:
        """Why ``doc`` may not be stored under its id: another file supplies the same id.

        Another file of this run counts once it has been read; a stored document's file counts when this run
        does not read it and it still exists."""
        other = run.claimed.get(doc.doc_id)
        if other is None and doc.doc_id in run.known:
            stored = run.known[doc.doc_id].source
            other = stored if stored not in run.found.files and Path(stored).exists() else None
        if other is None or other == doc.source:
            return ""
        return f"记录 doc_id“{doc.doc_id}”与 {other} 中的记录重复，未导入：请给其中一条改用别的 doc_id"

    def _flush(self, run: _Run) -> None:
        batch, run.batch = run.batch, []
        if not batch:
            return
        texts = [KnowledgeBase.embed_text(c) for _, chunks, _ in batch for c in chunks]
        vectors = self.embedder.passages(texts)
        entries, pos = [], 0
        for doc, chunks, _ in batch:
            entries.append(Entry(doc, tuple(chunks), vectors[pos : pos + len(chunks)], _facts_of(doc)))
            pos += len(chunks)
        self.kb.write(entries)
        run.summary.results += [Result(d.source, s, d.doc_id, d.title, len(c), run.notes.get(d.doc_id, ""), d.record)
                                for d, c, s in batch]  # fmt: skip

    def _prune(self, run: _Run) -> list[Result]:
        """Documents under the paths named whose file is gone, or whose record left a jsonl file read whole in
        this run. A document from anywhere else stays, whatever its folder's state (moved, unmounted)."""
        gone = [
            info for info in self.kb.documents()
            if run.found.covers(info.source)
            and (not Path(info.source).exists() or (info.source in run.intact and info.doc_id not in run.claimed))
        ]  # fmt: skip
        kept = [g for g in gone if run.found.in_empty(g.source)]  # an empty named folder: unmounted? keep them
        gone = [g for g in gone if g not in kept]
        if gone:
            self.kb.delete_documents([g.doc_id for g in gone])
        held = [Result(str(root), Status.FAILED, message=EMPTY_FOLDER.format(n=n)) for root in run.found.empty
                for n in [sum(Path(k.source).is_relative_to(root) for k in kept)] if n]  # fmt: skip
        return [Result(g.source, Status.REMOVED, g.doc_id, g.title, record=g.record) for g in gone] + held


EMPTY_FOLDER = "文件夹是空的（未挂载？）：其中已入库的 {n} 篇文档保留，未移除；确需移除，请在界面的“文档”页删除"


def _facts_of(doc: Document) -> tuple[Fact, ...]:
    """The document's facts; a reading rule that fails on an odd layout costs its facts, never the document or the
    run (the failure is logged for a fix)."""
    try:
        return tuple(extract_facts(doc))
    except Exception:  # a bug in a reading rule must not stop an ingest
        log.exception("fact extraction failed for %s; the document is stored without facts", doc.source)
        return ()


def _same_file(a: str, b: str) -> bool:
    """Two spellings of one file (a link and its target); a gone file is only itself."""
    try:
        return a == b or Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):
        return False


def _failed(run: _Run, exc: InputError, record: str | None = None) -> None:
    log.info("%s", exc)  # the result is the one line the user sees (CLI, sidebar); this is for debugging
    run.summary.results.append(Result(exc.path, Status.FAILED, message=exc.problem, record=record))
