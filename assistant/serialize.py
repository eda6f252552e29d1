"""Answers as plain JSON-ready dicts (the ``--json`` contract of ``pilotqa ask``).

Owns: the field names and order of the JSON form (markers as data: where each ``[n]`` stands in the answer),
and the plain-text forms (the copied answer, a source line used by briefings too). Does not own: producing
answers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kb.records import Answer, Citation

CITATION_FIELDS = (
    "n",
    "doc_id",
    "title",
    "source",
    "section",
    "page",
    "quote",
    "start",
    "end",
    "chunk_id",
    "date",
    "header",
    "caption",
    "ocr",
)
OCR_MARK = "识别文字"  # how a quote recognised from an image (a scanned page, a photo) is marked wherever it is shown


def place(c: Citation, title: str) -> list[str]:
    """Where in its document a quote stands, as every view of a citation says it: its section (unless it repeats
    ``title``, the name the view shows the document by), its page, and 识别文字 for a quote recognised from an
    image; those it lacks left out."""
    section = c.section if c.section != title else ""
    return [x for x in (section, f"第{c.page}页" if c.page else "", OCR_MARK if c.ocr else "") if x]


def source_line(c: Citation) -> str:
    """《title》（date），section，page，识别文字 (a quote recognised from an image)：“quote” — a missing date and a
    section that repeats the title left out."""
    title = c.title or c.doc_id
    where = "，".join(place(c, title))
    return f"《{title}》{f'（{c.date}）' if c.date else ''}{('，' + where) if where else ''}：“{c.quote}”"


def citation_dict(c: Citation) -> dict[str, Any]:
    raw = asdict(c)
    return {k: raw[k] for k in CITATION_FIELDS}


def answer_dict(a: Answer) -> dict[str, Any]:
    return {
        "question": a.question,
        "answer": a.text,
        "grounded": a.grounded,
        "mode": a.mode,
        "model": a.trace.model,
        "citations": [citation_dict(c) for c in a.citations],
        "markers": [{"start": m.start, "end": m.end, "n": m.n} for m in a.markers],
        "related": [citation_dict(c) for c in a.related],
        "ms": round(a.trace.timings.get("total_ms", 0.0), 1),
        "notice": a.notice,
    }


def answer_text(a: Answer) -> str:
    """A readable plain-text form: the answer, then its numbered sources."""
    lines = [a.text]
    if a.notice and a.notice not in a.text:
        lines.append(a.notice)
    if a.citations:
        lines.append("来源：")
        lines += [f"[{c.n}] {source_line(c)}" for c in a.citations]
    if a.related:
        lines.append("可能相关：")
        lines += [f"- {c.title} {c.section}：{c.quote}" for c in a.related]
    return "\n".join(lines)
