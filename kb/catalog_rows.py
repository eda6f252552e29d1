"""How the catalogue's records are written as SQLite rows and JSON columns and read back.

Owns: the conversions between ``kb.records`` (Chunk, DocInfo, Section, Table, Fact) and catalogue rows, sections
and tables as JSON (a recognised section's fifth item; older rows have four). Does not own: the schema, queries or
transactions (``kb.catalog``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from kb.records import Chunk, DocInfo, Fact, Section, Table


def chunk(r: sqlite3.Row) -> Chunk:
    return Chunk(
        chunk_id=r["chunk_id"], doc_id=r["doc_id"], ordinal=r["ordinal"], text=r["text"], start=r["start"],
        end=r["end"], heading_path=tuple(json.loads(r["heading"])), page=r["page"],
        sentences=tuple((int(a), int(b)) for a, b in json.loads(r["sentences"])), caption=r["caption"],
        header=r["header"], ocr=bool(r["ocr"]),
    )  # fmt: skip


def info(r: sqlite3.Row) -> DocInfo:
    return DocInfo(**{name: r[name] for name in r.keys()})  # noqa: SIM118  (a Row's keys are not a mapping view)


def dump_sections(sections: Sequence[Section]) -> str:
    """[start, end, headings, page], with a fifth item 1 for recognised text (older rows have four)."""
    return json.dumps([[s.start, s.end, list(s.heading_path), s.page, *([1] if s.ocr else [])] for s in sections],
                      ensure_ascii=False)  # fmt: skip


def load_sections(raw: str) -> tuple[Section, ...]:
    return tuple(Section(s[0], s[1], tuple(s[2]), s[3], bool(s[4:] and s[4])) for s in json.loads(raw))


def dump_tables(tables: Sequence[Table]) -> str:
    return json.dumps([[t.caption, t.rows, t.cells, t.header_rows] for t in tables], ensure_ascii=False)


def load_tables(raw: str) -> tuple[Table, ...]:
    def spans(items: list[list[int]]) -> tuple[tuple[int, int], ...]:
        return tuple((int(a), int(b)) for a, b in items)

    return tuple(
        Table(caption, spans(rows), tuple(spans(c) for c in cells), int(headers))
        for caption, rows, cells, headers in json.loads(raw or "[]")
    )


def fact_row(f: Fact) -> tuple[object, ...]:
    return (f.doc_id, f.subject, f.metric, f.value, f.text, f.unit, f.qualifier, f.as_of, f.as_of_text, f.start,
            f.end, f.value_start, f.value_end, f.source_kind, f.header, f.caption)  # fmt: skip


def fact(r: sqlite3.Row) -> Fact:
    return Fact(**{name: r[name] for name in r.keys()})  # noqa: SIM118
