"""Citations as data: numbered quotes that resolve to stored sentences with offsets.

Owns: building ``Citation`` records from chunks and sentence spans, numbering them,
resolving ``[n]`` keys in a model's text (unknown keys dropped), the answer's ``Marker`` records (markers are
data: a quote's own ``[1]`` is text) and splitting a text at them, and the final checks every
answer passes before it is shown — each quote slices back out of its document and
every number in the answer appears in a cited quote. Does not own: choosing sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from kb.quantity import unsupported
from kb.records import Answer, Citation, Hit, Marker

_KEY = re.compile(r"\[(\d+)\]")


def citation(n: int, hit: Hit, start: int, end: int) -> Citation:
    c = hit.chunk
    quote = c.text[start - c.start : end - c.start]
    return Citation(
        n=n, doc_id=c.doc_id, title=hit.title, source=hit.source, section=c.section, page=c.page,
        quote=quote, start=start, end=end, chunk_id=c.chunk_id, date=hit.date, header=c.header,
        caption=c.caption, ocr=c.ocr,
    )  # fmt: skip


def best_sentence(hit: Hit) -> tuple[int, int]:
    """The first sentence of a chunk: what a related-passage entry quotes."""
    return hit.chunk.sentences[0] if hit.chunk.sentences else (hit.chunk.start, hit.chunk.end)


def resolve(text: str, citations: Sequence[Citation]) -> tuple[str, tuple[Citation, ...]]:
    """Drop ``[n]`` keys that match no citation, renumber the rest 1..k in order of use."""
    by_n = {c.n: c for c in citations}
    order: list[int] = []
    for m in _KEY.finditer(text):
        n = int(m.group(1))
        if n in by_n and n not in order:
            order.append(n)
    new = {old: i for i, old in enumerate(order, start=1)}

    def swap(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[{new[n]}]" if n in new else ""

    cleaned = _KEY.sub(swap, text)
    used = tuple(replace(by_n[n], n=new[n]) for n in order)
    return cleaned, used


def number_problems(text: str, citations: Sequence[Citation]) -> list[str]:
    """Numbers in ``text`` that none of the cited quotes contains (a table row is read under its header and
    caption: 2020年末 in the header dates the row's figures)."""
    return unsupported(text, [f"{c.caption}\n{c.header}\n{c.quote}" for c in citations])


def sentences_with_keys(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into sentences, each with the citation keys it carries."""
    parts = re.findall(r"[^。！？!?\n]+[。！？!?]?(?:\[\d+\])*", text)
    return [(p, [int(k) for k in _KEY.findall(p)]) for p in parts if p.strip()]


def keyed(prefix: str, citations: Sequence[Citation]) -> tuple[str, tuple[Marker, ...]]:
    """``prefix``, then each citation's quote followed by its ``[n]``, and the markers where they stand."""
    text, markers = prefix, []
    for c in citations:
        text += c.quote
        markers.append(Marker(len(text), len(text) + len(f"[{c.n}]"), c.n))
        text += f"[{c.n}]"
    return text, tuple(markers)


def model_markers(text: str, citations: Sequence[Citation]) -> tuple[Marker, ...]:
    """The markers of a language model's checked text: it writes its keys as ``[n]`` (the one place a pattern
    makes them); from here on they are data."""
    known = {c.n for c in citations}
    return tuple(Marker(m.start(), m.end(), int(m[1])) for m in _KEY.finditer(text) if int(m[1]) in known)


def pieces(answer: Answer) -> list[tuple[str, int | None]]:
    """The answer's text split at its markers: ``(text, None)`` for text, ``("[n]", n)`` for a marker of one of
    its citations. A bracketed number anywhere else (a document's own ``[1]``) stays text."""
    known = {c.n for c in answer.citations}
    out: list[tuple[str, int | None]] = []
    pos = 0
    for m in sorted(answer.markers, key=lambda m: m.start):
        if m.n not in known or m.start < pos or m.end > len(answer.text):
            continue
        out += [(answer.text[pos : m.start], None)] if m.start > pos else []
        out.append((answer.text[m.start : m.end], m.n))
        pos = m.end
    return out + ([(answer.text[pos:], None)] if pos < len(answer.text) else [])
