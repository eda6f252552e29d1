"""The operations every front end uses (the CLI, the app, the HTTP service, MCP), as plain calls on a library.

Owns: answering (whole or step by step, stopping when the caller has gone; a model writing follows the request's
generation options and counts its tokens), a citation as a front end shows it, the document list, one document
and its passages (as stored text, or as a page's view: title, date, section, the quote in its paragraph), uploads
through the ingest pipeline with OCR (kept by ``ingest.uploads``, read before the knowledge base is held, one
result per file, a kept file no document came from removed), deleting a document (and its uploaded file), the
fact registry's query (its dates checked), passage search, the knowledge base's check and repair (``kb.health``;
a repaired knowledge base opened afresh); each under its knowledge base's read or write lock (a write: the
cross-process writer lock first), and each returning JSON-ready dicts (or records) whose text fields are data,
never instructions. Does not own: threads, queues or any front end's presentation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from assistant.factsheet import lookup, record
from assistant.llm import Generation, generation
from assistant.serialize import answer_dict, citation_dict
from ingest import uploads
from ingest.loaders import Limits
from ingest.loaders.ocr import Ocr, PageProgress, cache_folder
from ingest.pipeline import Ingestor
from ingest.pipeline import Progress as FileProgress
from ingest.summary import Status
from kb import health, store
from kb.catalog import FactQuery
from kb.errors import NotFoundError, RequestError
from kb.lock import Waiting, writer
from kb.records import Answer, Citation, DocInfo, Document, Progress, SourcedFact
from ops import limits
from ops.library import Library

log = logging.getLogger(__name__)
MODES = ("extractive", "reader", "llm")
MAX_PASSAGE = 20_000  # characters get_passage returns at most
CONTEXT = 600  # characters of the paragraph a passage page shows each side of its quote, at most
MAX_FACTS = 1000


def check_mode(mode: str | None) -> str | None:
    if mode is not None and mode not in MODES:
        raise RequestError(f"未知的答案方式“{mode}”：请用 {'、'.join(MODES)} 之一，或不填（默认方式）。")
    return mode


def ask(lib: Library, question: str, history: Sequence[str | Answer] = (), kb: str | None = None,
        mode: str | None = None, stop: threading.Event | None = None,
        gen: Generation | None = None) -> Answer | None:  # fmt: skip
    """The checked answer to ``question`` (earlier questions in ``history`` resolve follow-ups); None when
    ``stop`` was set (the client went away) before it was found."""
    answer = None
    for item in stream(lib, question, history, kb, mode, stop or threading.Event(), gen):
        if isinstance(item, Answer):
            answer = item
    return answer


def stream(lib: Library, question: str, history: Sequence[str | Answer], kb: str | None, mode: str | None,
           stop: threading.Event, gen: Generation | None = None) -> Iterator[str | Progress | Answer]:  # fmt: skip
    """The assistant's steps (``Assistant.stream``); once ``stop`` is set (the client went away) the answer is
    abandoned at its next step, its generator closed (a model's reply being written is closed with it, and so its
    request to the endpoint) and the worker freed; the log says so. A model writing follows ``gen``'s options and
    counts its tokens there."""
    if not question.strip():
        raise RequestError("问题是空的：请在最后一条 user 消息（或 question 字段）中写出问题。")
    question, history = limits.question(lib.settings, question, history)
    if stop.is_set():  # gone while this waited for a worker
        log.info("client went away before the answer began: %r", question[:60])
        return
    assistant = lib.assistant(kb)
    gen = gen or Generation()
    steps = cast(Generator[str | Progress | Answer, None, None],
                 assistant.stream(question, list(history), mode=check_mode(mode)))  # fmt: skip
    with lib.lock(kb).reading(), generation(gen), contextlib.closing(steps):
        for item in steps:
            if stop.is_set():
                log.info("client went away: answer abandoned after %s: %r", type(item).__name__, question[:60])
                return
            yield item


def ask_dict(lib: Library, question: str, history: Sequence[str | Answer] = (), kb: str | None = None,
             mode: str | None = None) -> dict[str, Any]:  # fmt: skip
    """``pilotqa ask --json``'s object for the answer, each citation's ``source`` the file's name (as everywhere
    in the service), never the server's path to it."""
    answer = ask(lib, question, history, kb, mode)
    assert answer is not None  # nobody stops it
    return {**answer_dict(answer), "citations": [reference(c) for c in answer.citations],
            "related": [reference(c) for c in answer.related]}  # fmt: skip


def reference(c: Citation) -> dict[str, Any]:
    """A citation as the service shows it (``pilotqa ask --json``'s fields, ``ocr`` included), its ``source`` the
    file's name, never a server path; ``text[start:end] == quote``."""
    return {**citation_dict(c), "source": Path(c.source).name}


def date(text: str | None, name: str) -> str | None:
    """An ISO date parameter (``since``, ``until``) checked, or None when not given."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise RequestError(f"{name} 应写成 YYYY-MM-DD，例如 2021-12-31：{text}") from exc


def _row(d: DocInfo) -> dict[str, Any]:
    return {"doc_id": d.doc_id, "title": d.title, "date": d.date, "source": Path(d.source).name, "record": d.record,
            "chunks": d.n_chunks,
            "ingested_at": dt.datetime.fromtimestamp(d.ingested_at).isoformat(timespec="seconds")}  # fmt: skip


def documents(lib: Library, kb: str | None = None) -> list[dict[str, Any]]:
    base = lib.assistant(kb).res.kb
    with lib.lock(kb).reading():
        infos = base.documents()
    return [_row(d) for d in infos]


def _stored(lib: Library, doc_id: str, kb: str | None) -> tuple[DocInfo, Document]:
    base = lib.assistant(kb).res.kb
    with lib.lock(kb).reading():
        info, doc = base.doc_infos([doc_id]).get(doc_id), base.document(doc_id)
    if info is None or doc is None:
        raise NotFoundError(f"知识库“{base.name}”中没有 doc_id 为“{doc_id[:80]}”的文档：可用 GET /api/documents 查看"
                            "已有文档。")  # fmt: skip
    return info, doc


def document(lib: Library, doc_id: str, kb: str | None = None) -> dict[str, Any]:
    """One document: its catalogue row, its sections (heading path and offsets) and its whole stored text, which
    every citation's offsets point into."""
    info, doc = _stored(lib, doc_id, kb)
    sections = [{"heading": list(x.heading_path), "start": x.start, "end": x.end, "page": x.page}
                for x in doc.sections]  # fmt: skip
    return {**_row(info), "kb": lib.name(kb), "sections": sections, "text": doc.text}


def passage_view(lib: Library, doc_id: str, start: int, end: int, kb: str | None = None) -> dict[str, Any]:
    """What a passage page shows of ``doc_id`` at [start, end): the document's title and date, the section the
    quote stands in, and the quote inside its paragraph (``before`` + ``quote`` + ``after``, the paragraph cut
    to ``CONTEXT`` characters each side)."""
    _, doc = _stored(lib, doc_id, kb)
    if not 0 <= start < end <= len(doc.text) or end - start > MAX_PASSAGE:
        raise RequestError(f"位置无效：应满足 0 ≤ start < end ≤ {len(doc.text)}，且一次最多 {MAX_PASSAGE} 个字符。")
    para_start = doc.text.rfind("\n", max(0, start - CONTEXT), start) + 1 or max(0, start - CONTEXT)
    found = doc.text.find("\n", end, end + CONTEXT)
    para_end = found if found >= 0 else min(len(doc.text), end + CONTEXT)
    section = next((x for x in doc.sections if x.start <= start < x.end), None)
    return {"kb": lib.name(kb), "doc_id": doc_id, "title": doc.title, "date": doc.date,
            "section": " › ".join(section.heading_path) if section else "", "page": section.page if section else None,
            "before": doc.text[para_start:start], "quote": doc.text[start:end], "after": doc.text[end:para_end],
            "start": start, "end": end}  # fmt: skip


def upload(lib: Library, files: Sequence[tuple[str, bytes]], kb: str | None = None,
           progress: FileProgress | None = None, on_page: PageProgress | None = None,
           on_wait: Waiting | None = None) -> dict[str, Any]:  # fmt: skip
    """Keep each file under ``<home>/uploads/<kb>`` (none replaces another) and ingest them as the app's upload
    does, OCR included: one result per file (a file that cannot be kept is one, the rest go on), and the summary
    line. The knowledge base's writer lock is held from keeping the files to removing those no document came from
    (so no other upload or delete removes one meanwhile); questions are answered while the files are read and
    recognised, and wait only while the documents are stored (this process's write lock)."""
    if not files:
        raise RequestError("没有收到文件：请以 multipart/form-data 上传，字段名 files（可多个）。")
    s, name = lib.settings, lib.name(kb)
    res = lib.assistant(name, create=True).res
    into = uploads.folder(s.home, name)
    ocr = lib.ocr if on_page is None else Ocr.of(s, on_page=on_page)  # a caller's own page progress
    ingestor = Ingestor(res.kb, res.embedder, s.chunk_chars, s.max_file_mb, Limits.of(s), ocr)
    with writer(s, name, on_wait=on_wait):
        paths, unkept = uploads.keep_all(into, files, s.min_free_mb)
        try:
            prepared = ingestor.prepare(paths, progress)  # the slow part (parsing, OCR)
            with lib.lock(name).writing():
                summary = ingestor.store(prepared)
        finally:  # a failed file's copy, or every copy when storing failed: nothing refers to them
            uploads.discard(into, paths, {d.source for d in res.kb.documents()})
    lib.changed(name)
    summary.results += unkept
    results = [
        {"file": r.name, "status": r.status.value, "label": r.status.label, "doc_id": r.doc_id, "title": r.title,
         "chunks": r.chunks, "message": r.message}
        for r in summary.results
    ]  # fmt: skip
    return {"kb": name, "ok": summary.ok, "summary": summary.line(), "results": results,
            "failed": sum(r.status is Status.FAILED for r in summary.results)}  # fmt: skip


def delete(lib: Library, doc_id: str, kb: str | None = None) -> dict[str, Any]:
    """Delete a document; its uploaded file goes too once no other document (a jsonl file's other records) comes
    from it. A file ingested from anywhere but the uploads folder stays where it is."""
    s, base = lib.settings, lib.assistant(kb).res.kb
    with writer(s, base.name), lib.lock(kb).writing():
        info = base.doc_infos([doc_id]).get(doc_id)
        if info is None:
            raise NotFoundError(f"知识库“{base.name}”中没有 doc_id 为“{doc_id}”的文档：可用 GET /api/documents 查看"
                                "已有文档。")  # fmt: skip
        base.delete_documents([doc_id])
        uploads.discard(uploads.folder(s.home, base.name), [info.source], {d.source for d in base.documents()})
    lib.changed(base.name)
    return {"deleted": doc_id, "title": info.title, "kb": base.name}


def check(lib: Library, kb: str | None = None, repair: bool = False) -> health.Report:
    """``pilotqa kb check`` on knowledge base ``kb``: each part held against the catalogue, its uploads folder and
    the OCR cache included (``kb.health``). Questions go on during a check; a repair waits for them, holds the
    knowledge base alone and opens it afresh after (its vector collection may be new)."""
    s, name = lib.settings, lib.name(kb)
    store.require(s, name)
    held = lib.lock(name).writing() if repair else lib.lock(name).reading()
    with writer(s, name), held:
        report = health.check(s, name, uploads.root(s.home) / name, cache_folder(s), repair=repair)
        if repair:
            lib.reopen(name)
    return report


def fact_rows(lib: Library, query: FactQuery, kb: str | None = None, limit: int | None = None) -> list[SourcedFact]:
    """The registry's facts matching ``query`` (its dates checked), newest first, each with its source and quote;
    the first ``limit`` when given."""
    query = replace(query, since=date(query.since, "since"), until=date(query.until, "until"))
    if query.since and query.until and query.since > query.until:
        raise RequestError(f"since {query.since} 晚于 until {query.until}：请调换两个日期。")
    base = lib.assistant(kb).res.kb
    with lib.lock(kb).reading():
        return lookup(base, query, limit)


def facts(lib: Library, query: FactQuery, kb: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The registry's facts matching ``query``, newest first (the ``pilotqa facts --json`` rows, each ``source``
    the file's name)."""
    rows = fact_rows(lib, query, kb, max(1, min(limit, MAX_FACTS)))
    return [{**record(r), "source": Path(r.source).name} for r in rows]


def passages(lib: Library, query: str, kb: str | None = None, k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` passages retrieval ranks best for ``query`` (hybrid: vectors and BM25), with their offsets."""
    if not query.strip():
        raise RequestError("查询是空的：请给出要查找的文字。")
    assistant = lib.assistant(kb)
    with lib.lock(kb).reading():
        hits = assistant.search(query, max(1, min(k, 50)))
    return [
        {"doc_id": h.chunk.doc_id, "title": h.title, "date": h.date, "source": Path(h.source).name,
         "section": h.chunk.section, "page": h.chunk.page, "text": h.chunk.text, "start": h.chunk.start,
         "end": h.chunk.end, "score": round(h.score, 5)}
        for h in hits
    ]  # fmt: skip


def passage(lib: Library, doc_id: str, start: int, end: int, kb: str | None = None) -> dict[str, Any]:
    """The stored text of ``doc_id`` at [start, end): what a citation's offsets point at."""
    base = lib.assistant(kb).res.kb
    with lib.lock(kb).reading():
        doc = base.document(doc_id)
    if doc is None:
        raise NotFoundError(f"知识库“{base.name}”中没有 doc_id 为“{doc_id}”的文档：可用 list_documents 查看已有文档。")
    if not 0 <= start < end <= len(doc.text) or end - start > MAX_PASSAGE:
        raise RequestError(f"位置无效：应满足 0 ≤ start < end ≤ {len(doc.text)}，且一次最多 {MAX_PASSAGE} 个字符。")
    return {"doc_id": doc_id, "title": doc.title, "date": doc.date, "start": start, "end": end,
            "text": doc.text[start:end]}  # fmt: skip
