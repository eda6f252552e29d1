"""Briefing export (简报导出): answers with numbered references and a 资料来源 list.

Owns: renumbering citations across a conversation (one number per quoted sentence),
the Markdown form (footnotes ``[^n]``), the Word form (via ``kb.docx_io``), the 截至
date (newest source date) and the export time. Does not own: choosing which answers
go in (the UI does) or rendering on screen.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from assistant.serialize import source_line
from kb.docx_io import write_docx
from kb.records import Answer, Citation

TITLE = "试点问答简报"


@dataclass(frozen=True)
class Briefing:
    markdown: str
    docx: bytes
    as_of: str | None
    exported: str


_KEY = re.compile(r"\[(\d+)\]")


def _global_key(table: dict[int, int], m: re.Match[str]) -> str:
    return f"[{table.get(int(m.group(1)), '?')}]"


def _renumber(answers: Sequence[Answer]) -> tuple[list[tuple[Answer, str]], list[Citation]]:
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
        text = _KEY.sub(partial(_global_key, local), a.text)
        out.append((a, text))
    return out, sources


def build(answers: Sequence[Answer], now: dt.datetime | None = None) -> Briefing:
    """The briefing (Markdown with footnotes, and Word) for ``answers``."""
    now = now or dt.datetime.now()
    exported = now.strftime("%Y-%m-%d %H:%M")
    numbered, sources = _renumber(answers)
    latest = as_of(answers)
    head = f"资料截至 {latest}；导出时间 {exported}" if latest else f"导出时间 {exported}（来源未注明日期）"
    md = [f"# {TITLE}", "", head, ""]
    parts: list[tuple[str, str]] = [("note", head)]
    for a, text in numbered:
        md += [f"## 问：{a.question}", "", re.sub(r"\[(\d+)\]", r"[^\1]", text), ""]
        parts += [("heading", f"问：{a.question}"), ("paragraph", text)]
    if sources:
        md += ["## 资料来源", ""] + [f"[^{i}]: {source_line(c)}" for i, c in enumerate(sources, start=1)] + [""]
        parts.append(("heading", "资料来源"))
        parts += [("paragraph", f"[{i}] {source_line(c)}") for i, c in enumerate(sources, start=1)]
    return Briefing("\n".join(md), write_docx(TITLE, parts), latest, exported)


def as_of(answers: Sequence[Answer]) -> str | None:
    """The latest publication date among the documents the answers cite."""
    dates = [c.date for a in answers for c in a.citations if c.date]
    return max(dates) if dates else None
