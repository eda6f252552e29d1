"""The ingest pipeline: paths in, a knowledge base that agrees with them out.

Owns: expanding files and folders, building Documents (id, title, date, cleaned
text, sections, content hash), skipping unchanged ones, batching chunks through the
embedder into the knowledge base, pruning documents whose files are gone, and the
per-file results and summary. Does not own: storage consistency (``kb.store``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest import loaders
from ingest.chunk import chunk
from ingest.clean import clean
from ingest.structure import assemble, find_date, find_title, mark_headings, normalize_date
from kb.embed import Embedder
from kb.errors import InputError
from kb.records import Chunk, Document
from kb.store import Entry, KnowledgeBase

log = logging.getLogger(__name__)

PIPELINE_VERSION = "1"  # part of every content hash: bump to re-chunk everything
BATCH_CHUNKS = 64
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Result:
    """What happened to one document (or one unreadable file)."""

    source: str
    status: str  # added | updated | unchanged | failed | removed
    doc_id: str = ""
    title: str = ""
    chunks: int = 0
    message: str = ""


@dataclass
class Summary:
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.status in ("added", "updated"))

    @property
    def ok(self) -> bool:
        return any(r.status != "failed" for r in self.results)

    def line(self) -> str:
        return (
            f"新增 {self.count('added')} 篇，更新 {self.count('updated')} 篇，未变 {self.count('unchanged')} 篇，"
            f"失败 {self.count('failed')} 篇，移除 {self.count('removed')} 篇；"
            f"写入 {self.chunks} 个片段，用时 {self.seconds:.1f} 秒"
        )


def expand(paths: Iterable[Path]) -> Iterator[Path | InputError]:
    """Files to ingest: given files as they are, folders searched for supported files."""
    for path in (p.expanduser().resolve() for p in paths):
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                rel = p.relative_to(path).parts
                if p.is_file() and p.suffix.lower() in loaders.SUPPORTED and not any(s.startswith(".") for s in rel):
                    yield p
        elif path.is_file():
            yield path
        else:
            yield InputError(str(path), "路径不存在")


def file_doc_id(path: Path) -> str:
    stem = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff_-]+", "-", path.stem).strip("-")[:40] or "doc"
    return f"{stem}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"


def to_document(parsed: loaders.Parsed, path: Path, chunk_chars: int) -> Document:
    blocks = parsed.blocks if parsed.structured else mark_headings(parsed.blocks)
    blocks = clean(blocks)
    if not blocks:
        raise InputError(parsed.source or str(path), "清除网页模板文字后没有正文内容")
    text, sections = assemble(blocks)
    title = parsed.title or find_title(blocks, path.stem)
    date = normalize_date(parsed.date) if parsed.date else find_date(blocks)
    doc_id = parsed.doc_id or file_doc_id(path)
    payload = json.dumps([PIPELINE_VERSION, chunk_chars, title, date, text, [list(s.heading_path) for s in sections],
                          [s.page for s in sections]], ensure_ascii=False)  # fmt: skip
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return Document(doc_id, title, text, parsed.source or str(path), date, sections, digest)


class Ingestor:
    """Ingests into one knowledge base with one embedder."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, chunk_chars: int, max_file_mb: float) -> None:
        self.kb = kb
        self.embedder = embedder
        self.chunk_chars = chunk_chars
        self.max_bytes = int(max_file_mb * 1e6)

    def run(self, paths: Iterable[Path], prune: bool = False, progress: Progress | None = None) -> Summary:
        started = time.perf_counter()
        summary = Summary()
        known = self.kb.catalog.hashes()
        batch: list[tuple[Document, list[Chunk], str]] = []
        files = list(expand(paths))
        seen_ids: set[str] = set()
        intact: set[str] = set()  # files read without any error: their absent records are gone
        for done, item in enumerate(files, start=1):
            if isinstance(item, InputError):
                summary.results.append(Result(item.path, "failed", message=item.problem))
                continue
            if progress:
                progress(done - 1, len(files), str(item))
            intact.add(str(item))
            for doc_or_err in self._documents(item):
                if isinstance(doc_or_err, InputError):
                    intact.discard(str(item))
                    log.warning("%s", doc_or_err)
                    summary.results.append(Result(doc_or_err.path, "failed", message=doc_or_err.problem))
                    continue
                doc = doc_or_err
                seen_ids.add(doc.doc_id)
                if known.get(doc.doc_id) == doc.content_hash:
                    summary.results.append(Result(doc.source, "unchanged", doc.doc_id, doc.title))
                    continue
                status = "updated" if doc.doc_id in known else "added"
                batch.append((doc, chunk(doc, self.chunk_chars), status))
                if sum(len(c) for _, c, _ in batch) >= BATCH_CHUNKS:
                    summary.results.extend(self._flush(batch))
                    batch = []
        summary.results.extend(self._flush(batch))
        if progress:
            progress(len(files), len(files), "")
        if prune:
            summary.results.extend(self._prune(seen_ids, intact))
        self.kb.save_lexical()
        summary.seconds = time.perf_counter() - started
        return summary

    def _documents(self, path: Path) -> Iterator[Document | InputError]:
        for parsed in loaders.load(path, self.max_bytes):
            if isinstance(parsed, InputError):
                yield parsed
                continue
            try:
                yield to_document(parsed, path, self.chunk_chars)
            except InputError as exc:
                yield exc

    def _flush(self, batch: list[tuple[Document, list[Chunk], str]]) -> list[Result]:
        if not batch:
            return []
        texts = [KnowledgeBase.embed_text(c) for _, chunks, _ in batch for c in chunks]
        vectors = self.embedder.passages(texts)
        entries, pos = [], 0
        for doc, chunks, _ in batch:
            entries.append(Entry(doc, tuple(chunks), vectors[pos : pos + len(chunks)]))
            pos += len(chunks)
        self.kb.write(entries)
        return [Result(d.source, s, d.doc_id, d.title, len(c)) for d, c, s in batch]

    def _prune(self, seen_ids: set[str], intact: set[str]) -> list[Result]:
        """Documents whose file is gone, or whose record left a jsonl file read in this run."""
        gone = []
        for info in self.kb.documents():
            file_part = info.source.split("#", 1)[0]
            dropped = file_part in intact and info.doc_id not in seen_ids
            if dropped or not Path(file_part).exists():
                gone.append(info)
        if gone:
            self.kb.delete_documents([g.doc_id for g in gone])
        return [Result(g.source, "removed", g.doc_id, g.title) for g in gone]
