"""The catalogue: one SQLite file per knowledge base, the source of truth for text.

Owns: documents (full cleaned text, metadata, content hash), chunks (offsets,
sections, sentence spans, lexical terms), the knowledge base's own metadata
(embedding model, generation counter), a copy of each chunk's vector (what a damaged
vector index is rebuilt from, and what a backup carries), the write-ahead ``pending``
list that crash recovery reads, and a consistent copy of itself (SQLite's backup API).
Does not own: the vector index (``kb.vectors``), scoring, or policy on what to ingest.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb import catalog_rows as row_io
from kb import disk
from kb.records import CORRECTED, CORRECTION, Chunk, DocInfo, Document, Fact

SEP = "\x1f"  # joins lexical terms in one column
# what one document is stored as: itself, its chunks, their jieba terms and bigrams, its facts, the chunks' vectors
Stored = tuple[Document, Sequence[Chunk], Sequence[list[str]], Sequence[list[str]], Sequence[Fact], np.ndarray]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, date TEXT,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, sections TEXT NOT NULL,
    n_chunks INTEGER NOT NULL, ingested_at REAL NOT NULL, record TEXT);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL, heading TEXT NOT NULL,
    page INTEGER, sentences TEXT NOT NULL, terms TEXT NOT NULL, bigrams TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, ordinal);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS facts (
    doc_id TEXT NOT NULL, subject TEXT NOT NULL, metric TEXT NOT NULL, value REAL, text TEXT NOT NULL,
    unit TEXT NOT NULL, qualifier TEXT NOT NULL, as_of TEXT, as_of_text TEXT NOT NULL, start INTEGER NOT NULL,
    end INTEGER NOT NULL, value_start INTEGER NOT NULL, value_end INTEGER NOT NULL, source_kind TEXT NOT NULL,
    header TEXT NOT NULL, caption TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facts_by_doc ON facts(doc_id);
CREATE INDEX IF NOT EXISTS facts_corrections ON facts(substr(qualifier, 1, 3));
"""
# columns added after the first release, with what older rows get
_ADDED = (
    ("documents", "record", "TEXT"),
    ("documents", "tables", "TEXT NOT NULL DEFAULT '[]'"),
    ("chunks", "caption", "TEXT NOT NULL DEFAULT ''"),
    ("chunks", "header", "TEXT NOT NULL DEFAULT ''"),
    ("documents", "removed", "INTEGER NOT NULL DEFAULT 0"),
    ("chunks", "ocr", "INTEGER NOT NULL DEFAULT 0"),  # 1: recognised text (OCR)
    ("chunks", "vector", "BLOB"),  # the chunk's embedding (float32): the vector index is rebuilt from it
)
_CHUNK_COLS = "chunk_id, doc_id, ordinal, start, end, text, heading, page, sentences, caption, header, ocr"
_FACT_COLS = (
    "doc_id, subject, metric, value, text, unit, qualifier, as_of, as_of_text, start, end, value_start, "
    "value_end, source_kind, header, caption"
)
_INFO_COLS = "doc_id, title, source, record, date, content_hash, n_chunks, ingested_at, removed"


@dataclass(frozen=True)
class FactQuery:
    """Which facts to read: every filter given must hold. ``subject``, ``metric`` and ``text`` match as
    substrings (``text`` in subject, metric or the figure's table caption/header); dates are ISO and compare
    with a fact's ``as_of`` (an undated fact matches no date range)."""

    subject: str = ""
    metric: str = ""
    text: str = ""
    since: str | None = None
    until: str | None = None
    doc_ids: tuple[str, ...] | None = None
    limit: int | None = None
    corrections: bool = False  # only the figures of correcting sentences (已更正, 更正后), of any document

    def sql(self) -> tuple[str, list[object]]:
        parts: list[str] = []
        args: list[object] = []
        for column, value in (("subject", self.subject), ("metric", self.metric)):
            if value:
                parts.append(f"instr({column}, ?) > 0")
                args.append(value)
        if self.text:
            parts.append("(instr(subject, ?) > 0 OR instr(metric, ?) > 0 OR instr(caption, ?) > 0 "
                         "OR instr(header, ?) > 0)")  # fmt: skip
            args += [self.text] * 4
        if self.since:
            parts.append("as_of >= ?")
            args.append(self.since)
        if self.until:
            parts.append("as_of <= ?")
            args.append(self.until)
        if self.doc_ids is not None:
            parts.append(f"doc_id IN ({','.join('?' * len(self.doc_ids))})")
            args += list(self.doc_ids)
        if self.corrections:
            parts.append("(substr(qualifier, 1, 3) IN (?, ?))")
            args += [CORRECTED, CORRECTION]
        return ("WHERE " + " AND ".join(parts)) if parts else "", args


class Catalog:
    """Documents and chunks of one knowledge base. Thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()
        except sqlite3.OperationalError as exc:  # no room for its WAL: SQLite says "disk I/O error"
            self._db.close()
            if disk.disk_full(exc) or disk.free_bytes(path.parent) < disk.MB:
                raise disk.full(path.parent, disk.MB) from exc
            raise

    def _migrate(self) -> None:
        """Add the columns older catalogues lack. Catalogues written before the ``record`` column kept a jsonl
        record as ``source = "path#doc_id"``."""
        for table, column, kind in _ADDED:
            columns = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column in columns:
                continue
            with self._lock, self._tx():
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                if column == "record":
                    self._db.execute(
                        "UPDATE documents SET record = doc_id, "
                        "source = substr(source, 1, length(source) - length(doc_id) - 1) "
                        "WHERE substr(source, -length(doc_id) - 1) = '#' || doc_id "
                        "AND lower(substr(source, 1, length(source) - length(doc_id) - 1)) LIKE '%.jsonl'"
                    )

    def close(self) -> None:
        self._db.close()

    def _rows(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Run a read query under the lock (one connection is shared between threads)."""
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # -- metadata ---------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # -- write-ahead list -------------------------------------------------------
    def mark_pending(self, doc_ids: Iterable[str]) -> None:
        with self._lock, self._tx():
            now = time.time()
            self._db.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?)", [(d, now) for d in doc_ids])

    def clear_pending(self, doc_ids: Iterable[str]) -> None:
        with self._lock, self._tx():
            self._db.executemany("DELETE FROM pending WHERE doc_id=?", [(d,) for d in doc_ids])

    def pending(self) -> list[str]:
        return [r["doc_id"] for r in self._rows("SELECT doc_id FROM pending")]

    # -- writes -----------------------------------------------------------------
    def replace(self, items: Sequence[Stored]) -> None:
        """Store documents with their chunks, terms and facts in one transaction: a document's facts come and
        go with it."""
        with self._lock, self._tx():
            now = time.time()
            for doc, chunks, terms, grams, facts, vectors in items:
                self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.doc_id,))
                self._db.execute("DELETE FROM facts WHERE doc_id=?", (doc.doc_id,))
                self._db.execute(
                    "INSERT OR REPLACE INTO documents (doc_id, title, source, record, date, content_hash, text, "
                    "sections, n_chunks, ingested_at, tables, removed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.doc_id, doc.title, doc.source, doc.record, doc.date, doc.content_hash, doc.text,
                     row_io.dump_sections(doc.sections), len(chunks), now, row_io.dump_tables(doc.tables), doc.removed),
                )  # fmt: skip
                self._db.executemany(
                    f"INSERT INTO chunks ({_CHUNK_COLS}, terms, bigrams, vector) VALUES ({','.join('?' * 15)})",
                    [
                        (c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.text, json.dumps(c.heading_path),
                         c.page, json.dumps(c.sentences), c.caption, c.header, int(c.ocr), SEP.join(t), SEP.join(g),
                         np.asarray(v, np.float32).tobytes())
                        for c, t, g, v in zip(chunks, terms, grams, vectors, strict=True)
                    ],
                )  # fmt: skip
                self._db.executemany(
                    f"INSERT INTO facts ({_FACT_COLS}) VALUES ({','.join('?' * 16)})",
                    [row_io.fact_row(f) for f in facts],
                )
            self._bump()

    def relocate(self, doc_id: str, source: str) -> None:
        """A document's file moved: only its recorded path changes (chunks and terms are the same)."""
        with self._lock, self._tx():
            self._db.execute("UPDATE documents SET source=? WHERE doc_id=?", (source, doc_id))

    def delete(self, doc_ids: Iterable[str]) -> None:
        with self._lock, self._tx():
            for doc_id in doc_ids:
                self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
                self._db.execute("DELETE FROM facts WHERE doc_id=?", (doc_id,))
                self._db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump()

    def delete_orphan_facts(self) -> None:
        """Remove facts whose document is no longer stored."""
        with self._lock, self._tx():
            self._db.execute("DELETE FROM facts WHERE doc_id NOT IN (SELECT doc_id FROM documents)")

    def set_vectors(self, pairs: Sequence[tuple[str, np.ndarray]]) -> None:
        """Store the vector copies of chunks written before the catalogue kept them (read back from the index)."""
        with self._lock, self._tx():
            self._db.executemany("UPDATE chunks SET vector=? WHERE chunk_id=?",
                                 [(np.asarray(v, np.float32).tobytes(), cid) for cid, v in pairs])  # fmt: skip

    def iter_vectors(self, batch: int = 2000) -> Iterator[tuple[list[str], list[str], list[int], list[bytes | None]]]:
        """Every chunk's (ids, doc ids, ordinals, vector bytes or None), ``batch`` at a time, in rowid order."""
        last = -1
        while True:
            rows = self._rows("SELECT rowid, chunk_id, doc_id, ordinal, vector FROM chunks WHERE rowid > ? "
                              "ORDER BY rowid LIMIT ?", (last, batch))  # fmt: skip
            if not rows:
                return
            last = rows[-1]["rowid"]
            yield ([r["chunk_id"] for r in rows], [r["doc_id"] for r in rows], [r["ordinal"] for r in rows],
                   [r["vector"] for r in rows])  # fmt: skip

    def read(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        """A read-only query, for the knowledge base's check (``kb.health``)."""
        return self._rows(sql, args)

    def copy_to(self, path: Path) -> None:
        """A consistent copy of the whole catalogue at ``path`` (SQLite's online backup: readers go on)."""
        target = sqlite3.connect(path)
        try:
            with self._lock:
                self._db.backup(target)
        finally:
            target.close()

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)

    # -- reads ------------------------------------------------------------------
    def documents(self) -> list[DocInfo]:
        rows = self._rows(f"SELECT {_INFO_COLS} FROM documents ORDER BY date DESC, title")
        return [row_io.info(r) for r in rows]

    def quotes(self, spans: Sequence[tuple[str, int, int]]) -> list[str]:
        """``document.text[start:end]`` for each (doc_id, start, end), read in the database (no full texts)."""
        out = []
        for doc_id, start, end in spans:
            rows = self._rows(
                "SELECT substr(text, ?, ?) AS q FROM documents WHERE doc_id=?", (start + 1, end - start, doc_id)
            )
            out.append(rows[0]["q"] if rows else "")
        return out

    def doc_infos(self, doc_ids: Sequence[str]) -> dict[str, DocInfo]:
        """Catalogue entries of just these documents (a query needs a handful, not all)."""
        ids = list(dict.fromkeys(doc_ids))
        marks = ",".join("?" * len(ids))
        rows = self._rows(f"SELECT {_INFO_COLS} FROM documents WHERE doc_id IN ({marks})", ids)
        return {r["doc_id"]: row_io.info(r) for r in rows}

    def document(self, doc_id: str) -> Document | None:
        rows = self._rows(
            "SELECT doc_id, title, text, source, record, date, sections, content_hash, tables, removed FROM documents "
            "WHERE doc_id=?",
            (doc_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return Document(
            doc_id=r["doc_id"], title=r["title"], text=r["text"], source=r["source"], record=r["record"],
            date=r["date"], sections=row_io.load_sections(r["sections"]), content_hash=r["content_hash"],
            tables=row_io.load_tables(r["tables"]), removed=r["removed"],
        )  # fmt: skip

    def chunk_ids(self, doc_id: str | None = None) -> list[str]:
        if doc_id is None:
            return [r["chunk_id"] for r in self._rows("SELECT chunk_id FROM chunks")]
        return [r["chunk_id"] for r in self._rows("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[i : i + 500])
            marks = ",".join("?" * len(part))
            for row in self._rows(f"SELECT {_CHUNK_COLS} FROM chunks WHERE chunk_id IN ({marks})", part):
                out[row["chunk_id"]] = row_io.chunk(row)
        return out

    def recognised(self, doc_ids: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        """The spans of these documents' chunks whose text was recognised (OCR), by document."""
        ids = list(dict.fromkeys(doc_ids))
        out: dict[str, list[tuple[int, int]]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            sql = f"SELECT doc_id, start, end FROM chunks WHERE ocr=1 AND doc_id IN ({','.join('?' * len(part))})"
            for r in self._rows(sql, part):
                out.setdefault(r["doc_id"], []).append((r["start"], r["end"]))
        return out

    def chunk_at(self, doc_id: str, start: int, end: int) -> Chunk | None:
        """The first chunk of ``doc_id`` that holds the span [start, end)."""
        rows = self._rows(
            f"SELECT {_CHUNK_COLS} FROM chunks WHERE doc_id=? AND start<=? AND end>=? ORDER BY ordinal LIMIT 1",
            (doc_id, start, end),
        )
        return row_io.chunk(rows[0]) if rows else None

    def iter_terms(self) -> Iterator[tuple[str, str, str]]:
        for r in self._rows("SELECT chunk_id, terms, bigrams FROM chunks ORDER BY rowid"):
            yield r["chunk_id"], r["terms"], r["bigrams"]

    def facts(self, query: FactQuery) -> list[Fact]:
        """The facts that match ``query`` (every given filter), newest first, undated last."""
        where, args = query.sql()
        rows = self._rows(
            f"SELECT {_FACT_COLS} FROM facts {where} ORDER BY as_of IS NULL, as_of DESC, doc_id, start, value_start"
            + (f" LIMIT {int(query.limit)}" if query.limit else ""),
            args,
        )
        return [row_io.fact(r) for r in rows]

    def fact_subjects(self, doc_ids: Sequence[str]) -> list[tuple[str, int, str]]:
        """Whose figures each of ``doc_ids`` states where: (doc_id, the sentence's or row's start, subject)."""
        ids = list(dict.fromkeys(doc_ids))
        rows = self._rows(
            f"SELECT DISTINCT doc_id, start, subject FROM facts WHERE doc_id IN ({','.join('?' * len(ids))})", ids
        )
        return [(r["doc_id"], int(r["start"]), r["subject"]) for r in rows]

    def quoted_subjects(self) -> list[str]:
        """Every subject that names something in quotes (“某某贷”, 某银行“某某”平台)."""
        return [r["subject"] for r in self._rows("SELECT DISTINCT subject FROM facts WHERE subject LIKE '%“%'")]

    def fact_count(self) -> int:
        return int(self._rows("SELECT COUNT(*) AS n FROM facts")[0]["n"])

    def counts(self) -> tuple[int, int]:
        docs = self._rows("SELECT COUNT(*) AS n FROM documents")[0]["n"]
        chunks = self._rows("SELECT COUNT(*) AS n FROM chunks")[0]["n"]
        return int(docs), int(chunks)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if not exc_type:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:  # SQLite has already rolled back after some errors (a full disk)
            self._db.execute("ROLLBACK")
