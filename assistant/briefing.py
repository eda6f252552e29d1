"""Briefing export (简报导出): answers with numbered references and a 资料来源 list.

Owns: renumbering citations across a conversation (one number per quoted sentence), the Markdown form (footnotes
``[^n]``; every question, title and quote escaped, so nothing quoted is read as HTML, a link or an image), the Word
form (via ``kb.docx_io``; markers superscript), a quoted table row shown again as a table under its header (表格出处)
in both, the 截至 date (newest source date) and the export time. Does not own: choosing which answers go in (the UI
does) or rendering on screen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from assistant import cite
from assistant.serialize import source_line
from kb.docx_io import Grid, Runs, write_docx
from kb.markdown import md_escape
from kb.records import CELL_SEP, Answer, Citation

TITLE = "试点问答简报"


@dataclass(frozen=True)
class Briefing:
    markdown: str
    docx: bytes
    as_of: str | None
    exported: str


Numbered = list[tuple[str, int | None]]  # an answer's text pieces, each marker with its briefing-wide number


def _renumber(answers: Sequence[Answer]) -> tuple[list[tuple[Answer, Numbered]], list[Citation]]:
    """Each answer's text split at its markers (``cite.pieces``), the markers numbered across the briefing (one
    number per quoted sentence), and the sources in that order. A document's own ``[1]`` is text, left alone."""
    numbers: dict[tuple[str, int, int], int] = {}
    sources: list[Citation] = []
    out = []
    for a in answers:
        local: dict[int, int] = {}
        for c in a.citations:
            key = (c.doc_id, c.start, c.end)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                sources.append(c)
            local[c.n] = numbers[key]
        out.append((a, [(text, local[n] if n else None) for text, n in cite.pieces(a)]))
    return out, sources


def line_md(text: str) -> str:
    """Quoted text on one line of the Markdown file (a heading, a footnote), escaped: read as text by any
    renderer, never as HTML, a link or an image."""
    return md_escape(" ".join(text.split()), entities=True)


def build(answers: Sequence[Answer], now: dt.datetime | None = None) -> Briefing:
    """The briefing (Markdown with footnotes, and Word) for ``answers``."""
    now = now or dt.datetime.now()
    exported = now.strftime("%Y-%m-%d %H:%M")
    numbered, sources = _renumber(answers)
    latest = as_of(answers)
    head = f"资料截至 {latest}；导出时间 {exported}" if latest else f"导出时间 {exported}（来源未注明日期）"
    md = [f"# {TITLE}", "", head, ""]
    parts: list[tuple[str, str | Runs | Grid]] = [("note", head)]
    for a, pieces in numbered:
        body = "".join(f"[^{g}]" if g else md_escape(text, entities=True) for text, g in pieces)
        md += [f"## 问：{line_md(a.question)}", "", body, ""]
        runs = tuple((f"[{g}]", True) if g else (text, False) for text, g in pieces)
        parts += [("heading", f"问：{a.question}"), ("paragraph", runs)]
    if sources:
        md += (
            ["## 资料来源", ""] + [f"[^{i}]: {line_md(source_line(c))}" for i, c in enumerate(sources, start=1)] + [""]
        )
        parts.append(("heading", "资料来源"))
        parts += [("paragraph", f"[{i}] {source_line(c)}") for i, c in enumerate(sources, start=1)]
    tables = [(i, c, grid(c)) for i, c in enumerate(sources, start=1) if c.header]
    if tables:  # a quoted table row is shown under its header, as a table
        md += ["## 表格出处", ""]
        parts.append(("heading", "表格出处"))
        for i, c, rows in tables:
            label = f"[{i}] {c.caption or c.title}"
            md += [line_md(label), "", *table_md(rows), ""]
            parts += [("paragraph", label), ("table", rows)]
    return Briefing("\n".join(md), write_docx(TITLE, parts), latest, exported)


def grid(c: Citation) -> Grid:
    """A quoted table row (or rows) with its header rows, split into cells."""
    lines = [line for line in f"{c.header}\n{c.quote}".splitlines() if line.strip()]
    return tuple(tuple(cell.strip() for cell in line.split(CELL_SEP.strip())) for line in lines)


def table_md(rows: Grid, escaped: bool = False) -> list[str]:
    """A Markdown table of ``rows`` (the first the header), every cell escaped as text (``escaped``: already)."""
    width = max(len(r) for r in rows)
    cells = [[x if escaped else line_md(x) for x in (*r, *[""] * (width - len(r)))] for r in rows]
    return ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * width, *("| " + " | ".join(r) + " |" for r in cells[1:])]


def as_of(answers: Sequence[Answer]) -> str | None:
    """The latest publication date among the documents the answers cite."""
    dates = [c.date for a in answers for c in a.citations if c.date]
    return max(dates) if dates else None
