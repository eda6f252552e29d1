"""Chunking: whole sentences packed up to a target size, one sentence of overlap.

Owns: turning a document's sections into chunks whose offsets slice back to their
text exactly, deterministic chunk ids, and the rare split of an over-long sentence
(at a comma, never inside a number). Does not own: sentence boundaries (``kb.segment``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from kb.records import Chunk, Document, Section, Table
from kb.segment import sentence_spans

_SOFT_BREAK = re.compile(r"[，,、：:）)](?!\d)")


def chunk_id(doc: Document, ordinal: int) -> str:
    raw = f"{doc.doc_id}\x00{doc.content_hash}\x00{ordinal}".encode()
    return hashlib.sha1(raw).hexdigest()[:20]


def _split_long(text: str, a: int, b: int, hard: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than ``hard`` at soft breaks (commas), else at ``hard``."""
    spans: list[tuple[int, int]] = []
    while b - a > hard:
        cut = max((m.end() for m in _SOFT_BREAK.finditer(text, a, a + hard)), default=0)
        if cut <= a:
            cut = a + hard
            while cut < b and text[cut - 1].isdigit() and text[cut].isdigit():
                cut += 1
        spans.append((a, cut))
        a = cut
        while a < b and text[a].isspace():
            a += 1
    spans.append((a, b))
    return spans


def sentences_of(text: str, section: Section, target: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sentence_spans(text, section.start, section.end):
        out.extend(_split_long(text, a, b, 3 * target) if b - a > 3 * target else [(a, b)])
    return out


def _pack(spans: list[tuple[int, int]], target: int, overlap: bool = True) -> list[list[tuple[int, int]]]:
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for span in spans:
        if current and span[1] - current[0][0] > target:
            groups.append(current)
            current = [current[-1]] if overlap and current[-1][1] - current[-1][0] < target // 2 else []
            if current and span[1] - current[0][0] > target:
                current = []
        current.append(span)
    if current and (not groups or current != groups[-1][-len(current) :]):
        groups.append(current)
    return groups


def _runs(doc: Document, section: Section, target: int) -> list[tuple[list[tuple[int, int]], Table | None]]:
    """The section's sentences in runs: prose between tables, and each table's body rows (one row a span,
    whatever punctuation its cells hold)."""
    out: list[tuple[list[tuple[int, int]], Table | None]] = []
    pos = section.start
    for t in (t for t in doc.tables if section.start <= t.start < section.end):
        if t.start > pos:
            out.append((sentences_of(doc.text, replace(section, start=pos, end=t.start), target), None))
        body = [r for r in t.rows[t.header_rows :] if r[1] <= section.end]
        if body:
            out.append((body, t))
        pos = max(pos, min(t.end, section.end))
    if pos < section.end:
        out.append((sentences_of(doc.text, replace(section, start=pos), target), None))
    return [(spans, t) for spans, t in out if spans]


def header_text(doc: Document, table: Table) -> str:
    """A table's header row(s) as the document writes them (one line each)."""
    return "\n".join(doc.text[a:b] for a, b in table.rows[: table.header_rows])


def chunk(doc: Document, target: int = 300) -> list[Chunk]:
    """All chunks of ``doc``; ``doc.text[c.start:c.end] == c.text`` for each. A table's body rows are chunked
    apart from prose, each chunk carrying the table's caption and header row."""
    chunks: list[Chunk] = []
    for section in doc.sections:
        for spans, table in _runs(doc, section, target):
            caption, header = (table.caption, header_text(doc, table)) if table else ("", "")
            for group in _pack(spans, target, overlap=table is None):
                start, end = group[0][0], group[-1][1]
                ordinal = len(chunks)
                chunks.append(
                    Chunk(
                        chunk_id=chunk_id(doc, ordinal), doc_id=doc.doc_id, ordinal=ordinal,
                        text=doc.text[start:end], start=start, end=end, heading_path=section.heading_path,
                        page=section.page, sentences=tuple(group), caption=caption, header=header, ocr=section.ocr,
                    )
                )  # fmt: skip
    return chunks
