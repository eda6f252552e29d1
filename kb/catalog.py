"""The catalogue: one SQLite file per knowledge base, the source of truth for text.

Owns: documents (full cleaned text, metadata, content hash), chunks (offsets,
sections, sentence spans, lexical terms), the knowledge base's own metadata
(embedding model, generation counter) and the write-ahead ``pending`` list that
crash recovery reads. Does not own: vectors (``kb.vectors``), scoring, or policy on
what to ingest.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from kb.records import Chunk, DocInfo, Document, Section

SEP = "\x1f"  # joins lexical terms in one column

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
"""
_CHUNK_COLS = "chunk_id, doc_id, ordinal, start, end, text, heading, page, sentences"
_INFO_COLS = "doc_id, title, source, record, date, content_hash, n_chunks, ingested_at"


class Catalog:
    """Documents and chunks of one knowledge base. Thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._migrate()

    def _migrate(self) -> None:
        """Catalogues written before the ``record`` column kept a jsonl record as ``source = "path#doc_id"``."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(documents)")}
        if "record" in columns:
            return
        with self._lock, self._tx():
            self._db.execute("ALTER TABLE documents ADD COLUMN record TEXT")
            self._db.execute(
                "UPDATE documents SET record = doc_id, source = substr(source, 1, length(source) - length(doc_id) - 1) "
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
    def replace(
        self, items: Sequence[tuple[Document, Sequence[Chunk], Sequence[list[str]], Sequence[list[str]]]]
    ) -> None:
        """Store documents with their chunks and terms in one transaction."""
        with self._lock, self._tx():
            now = time.time()
            for doc, chunks, terms, grams in items:
                self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.doc_id,))
                self._db.execute(
                    "INSERT OR REPLACE INTO documents (doc_id, title, source, record, date, content_hash, text, "
                    "sections, n_chunks, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (doc.doc_id, doc.title, doc.source, doc.record, doc.date, doc.content_hash, doc.text,
                     _dump_sections(doc.sections), len(chunks), now),
                )  # fmt: skip
                self._db.executemany(
                    f"INSERT INTO chunks ({_CHUNK_COLS}, terms, bigrams) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.text, json.dumps(c.heading_path),
                         c.page, json.dumps(c.sentences), SEP.join(t), SEP.join(g))
                        for c, t, g in zip(chunks, terms, grams, strict=True)
                    ],
                )  # fmt: skip
            self._bump()

    def delete(self, doc_ids: Iterable[str]) -> None:
        with self._lock, self._tx():
            for doc_id in doc_ids:
                self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
                self._db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump()

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
        return [_info(r) for r in rows]

    def doc_infos(self, doc_ids: Sequence[str]) -> dict[str, DocInfo]:
        """Catalogue entries of just these documents (a query needs a handful, not all)."""
        ids = list(dict.fromkeys(doc_ids))
        marks = ",".join("?" * len(ids))
        rows = self._rows(f"SELECT {_INFO_COLS} FROM documents WHERE doc_id IN ({marks})", ids)
        return {r["doc_id"]: _info(r) for r in rows}

    def document(self, doc_id: str) -> Document | None:
        rows = self._rows(
            "SELECT doc_id, title, text, source, record, date, sections, content_hash FROM documents WHERE doc_id=?",
            (doc_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return Document(
            doc_id=r["doc_id"], title=r["title"], text=r["text"], source=r["source"], record=r["record"],
            date=r["date"], sections=_load_sections(r["sections"]), content_hash=r["content_hash"],
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
                out[row["chunk_id"]] = _chunk(row)
        return out

    def iter_terms(self) -> Iterator[tuple[str, str, str]]:
        for r in self._rows("SELECT chunk_id, terms, bigrams FROM chunks ORDER BY rowid"):
            yield r["chunk_id"], r["terms"], r["bigrams"]

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
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _chunk(r: sqlite3.Row) -> Chunk:
    return Chunk(
        chunk_id=r["chunk_id"], doc_id=r["doc_id"], ordinal=r["ordinal"], text=r["text"], start=r["start"],
        end=r["end"], heading_path=tuple(json.loads(r["heading"])), page=r["page"],
        sentences=tuple((int(a), int(b)) for a, b in json.loads(r["sentences"])),
    )  # fmt: skip


def _info(r: sqlite3.Row) -> DocInfo:
    return DocInfo(**{name: r[name] for name in r.keys()})  # noqa: SIM118  (a Row's keys are not a mapping view)


def _dump_sections(sections: Sequence[Section]) -> str:
    return json.dumps([[s.start, s.end, list(s.heading_path), s.page] for s in sections], ensure_ascii=False)


def _load_sections(raw: str) -> tuple[Section, ...]:
    return tuple(Section(a, b, tuple(h), p) for a, b, h, p in json.loads(raw))
